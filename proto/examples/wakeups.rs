//! What one round trip between two threads costs on this machine, for the
//! choices `sidecar_proto::pacing` and `frames` make: a unix socket pair or
//! two pipes; both threads on one CPU or on two; the waiting side asleep in
//! poll(2) or polling with sched_yield. Prints wall and CPU time per round
//! trip (CPU counts both threads: polling shows as CPU).
//!
//! ```sh
//! cargo run --release -p sidecar-proto --example wakeups
//! ```

use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::os::unix::net::UnixStream;
use std::time::{Duration, Instant};

use nix::errno::Errno;
use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
use nix::sched::{CpuSet, sched_getaffinity, sched_setaffinity, sched_yield};
use nix::sys::resource::{UsageWho, getrusage};
use nix::unistd::Pid;

const ROUND_TRIPS: u32 = 50_000;

#[derive(Clone, Copy, PartialEq)]
enum Transport {
    Socket,
    Pipes,
}

#[derive(Clone, Copy, PartialEq)]
enum Waiting {
    /// Both sides sleep in poll(2) at once.
    Sleep,
    /// The caller polls with sched_yield, the callee sleeps (the sidecar's
    /// way when the runner follows the caller's CPU).
    CallerPolls,
    /// Both poll with sched_yield.
    BothPoll,
}

/// (caller's read, caller's write, callee's read, callee's write)
fn channel(t: Transport) -> (OwnedFd, OwnedFd, OwnedFd, OwnedFd) {
    match t {
        Transport::Socket => {
            let (a, b) = UnixStream::pair().unwrap();
            for s in [&a, &b] {
                s.set_nonblocking(true).unwrap();
            }
            let (a, b): (OwnedFd, OwnedFd) = (a.into(), b.into());
            (a.try_clone().unwrap(), a, b.try_clone().unwrap(), b)
        }
        Transport::Pipes => {
            let flags = nix::fcntl::OFlag::O_NONBLOCK;
            let (to_r, to_w) = nix::unistd::pipe2(flags).unwrap();
            let (back_r, back_w) = nix::unistd::pipe2(flags).unwrap();
            (back_r, to_w, to_r, back_w)
        }
    }
}

fn wait(fd: &OwnedFd, poll_first: bool) {
    let mut buf = [0u8; 64];
    let mut read = || nix::unistd::read(fd.as_raw_fd(), &mut buf);
    if poll_first {
        let start = Instant::now();
        while start.elapsed() < Duration::from_micros(500) {
            match read() {
                Ok(_) => return,
                Err(Errno::EAGAIN) => sched_yield().unwrap(),
                Err(e) => panic!("{e}"),
            }
        }
    }
    loop {
        let mut pfd = [PollFd::new(fd.as_fd(), PollFlags::POLLIN)];
        poll(&mut pfd, PollTimeout::NONE).unwrap();
        match read() {
            Ok(_) => return,
            Err(Errno::EAGAIN) => continue,
            Err(e) => panic!("{e}"),
        }
    }
}

/// Where the two threads run: a CPU each, or `None` for the scheduler's
/// choice.
type Placement = (Option<usize>, Option<usize>);

/// Moves this thread to `cpu`, or back to every CPU of `all`.
fn pin(cpu: Option<usize>, all: &CpuSet) {
    let set = match cpu {
        Some(cpu) => {
            let mut set = CpuSet::new();
            set.set(cpu).unwrap();
            set
        }
        None => *all,
    };
    sched_setaffinity(Pid::from_raw(0), &set).unwrap();
}

fn cpu_time() -> Duration {
    let u = getrusage(UsageWho::RUSAGE_SELF).unwrap();
    let us = |t: nix::sys::time::TimeVal| t.tv_sec() as u64 * 1_000_000 + t.tv_usec() as u64;
    Duration::from_micros(us(u.user_time()) + us(u.system_time()))
}

/// Wall and CPU per round trip.
fn measure(t: Transport, w: Waiting, cpus: Placement, all: CpuSet) -> (f64, f64) {
    let (c_read, c_write, r_read, r_write) = channel(t);
    let callee = std::thread::spawn(move || {
        pin(cpus.1, &all);
        for _ in 0..ROUND_TRIPS {
            wait(&r_read, w == Waiting::BothPoll);
            nix::unistd::write(&r_write, b"result").unwrap();
        }
    });
    pin(cpus.0, &all);
    let (wall, cpu) = (Instant::now(), cpu_time());
    for _ in 0..ROUND_TRIPS {
        nix::unistd::write(&c_write, b"call").unwrap();
        wait(&c_read, w != Waiting::Sleep);
    }
    let per = |d: Duration| d.as_secs_f64() * 1e6 / f64::from(ROUND_TRIPS);
    let result = (per(wall.elapsed()), per(cpu_time() - cpu));
    callee.join().unwrap();
    pin(None, &all);
    result
}

fn main() {
    let mask = sched_getaffinity(Pid::from_raw(0)).unwrap();
    let cpus: Vec<usize> = (0..CpuSet::count())
        .filter(|&c| mask.is_set(c).unwrap_or(false))
        .collect();
    println!("{ROUND_TRIPS} round trips each; µs per round trip; CPUs {cpus:?}");
    println!("| transport | CPUs | waiting | wall µs | CPU µs |");
    println!("|---|---|---|--:|--:|");
    let placements: Vec<(&str, Placement)> = {
        let mut p = vec![("one", (Some(cpus[0]), Some(cpus[0])))];
        if cpus.len() > 1 {
            p.push(("two", (Some(cpus[0]), Some(cpus[1]))));
        }
        p.push(("scheduler's", (None, None)));
        p
    };
    for t in [Transport::Socket, Transport::Pipes] {
        for (name, placement) in &placements {
            for w in [Waiting::Sleep, Waiting::CallerPolls, Waiting::BothPoll] {
                let (wall, cpu) = measure(t, w, *placement, mask);
                println!(
                    "| {} | {name} | {} | {wall:.1} | {cpu:.1} |",
                    match t {
                        Transport::Socket => "socket pair",
                        Transport::Pipes => "two pipes",
                    },
                    match w {
                        Waiting::Sleep => "both sleep",
                        Waiting::CallerPolls => "caller polls, callee sleeps",
                        Waiting::BothPoll => "both poll",
                    }
                );
            }
        }
    }
}
