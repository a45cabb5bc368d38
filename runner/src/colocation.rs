//! The serving thread runs on the CPU of the daemon thread that calls it,
//! so that neither side of a call is woken across CPUs (why:
//! `sidecar_proto::pacing`).
//!
//! Only the serving thread moves, and only when a call says the daemon
//! thread is elsewhere (a system call of a few µs, rare). Threads inherit
//! their creator's CPU mask, so a thread the plugin starts with `threading`
//! gets the process's own mask back first thing ([`prepare`]). Where the
//! CPU is not ours to take (a cpuset without it), the runner stops
//! following and polls instead.

use std::cell::Cell;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use nix::sched::{CpuSet, sched_getaffinity, sched_setaffinity};
use nix::unistd::Pid;
use pyo3::prelude::*;
use sidecar_proto::pacing::Pace;

/// sidecar.toml `follow_cpu`, from the Hello.
static FOLLOW: AtomicBool = AtomicBool::new(false);

/// The process's CPU mask before any move.
static ORIGINAL: OnceLock<CpuSet> = OnceLock::new();

/// How long a thread that does not follow polls for the shim.
static PACE: OnceLock<Pace> = OnceLock::new();

thread_local! {
    /// The CPU this thread was moved to.
    static PINNED: Cell<Option<usize>> = const { Cell::new(None) };
}

/// Python run once before the plugin: threads started with `threading`
/// leave the serving thread's CPU (`os.sched_setaffinity(0, ...)` is the
/// calling thread's on Linux).
const THREAD_HOOK: &std::ffi::CStr = cr#"
import os, threading
def hook(inner, mask, setaffinity):
    def _bootstrap_inner(self):
        try:
            setaffinity(0, mask)
        except OSError:
            pass
        inner(self)
    return _bootstrap_inner
threading.Thread._bootstrap_inner = hook(
    threading.Thread._bootstrap_inner, os.sched_getaffinity(0), os.sched_setaffinity)
"#;

/// Remembers the process's CPU mask and installs the thread hook; before
/// the first call (and before any thread of the plugin's).
pub(crate) fn prepare(py: Python<'_>) {
    if let Ok(mask) = sched_getaffinity(Pid::from_raw(0)) {
        let _ = ORIGINAL.set(mask);
    }
    // In a namespace of its own: nothing of it is visible to the plugin.
    let scope = pyo3::types::PyDict::new(py);
    if let Err(e) = py.run(THREAD_HOOK, Some(&scope), None) {
        tracing::warn!("cannot install the thread CPU hook: {e}");
    }
}

/// The Hello's settings.
pub(crate) fn configure(follow: bool, busy_max_us: u32) {
    FOLLOW.store(follow && ORIGINAL.get().is_some(), Ordering::Relaxed);
    pace().set_max(Duration::from_micros(busy_max_us.into()));
}

fn pace() -> &'static Pace {
    PACE.get_or_init(|| Pace::new(Duration::ZERO))
}

/// A call came from a daemon thread on `cpu`: move the calling (serving)
/// thread there.
pub(crate) fn follow(cpu: Option<u32>) {
    let (Some(cpu), true) = (cpu, FOLLOW.load(Ordering::Relaxed)) else {
        return;
    };
    let cpu = cpu as usize;
    if PINNED.get() == Some(cpu) {
        return;
    }
    let mut set = CpuSet::new();
    let moved = set
        .set(cpu)
        .and_then(|()| sched_setaffinity(Pid::from_raw(0), &set));
    match moved {
        Ok(()) => PINNED.set(Some(cpu)),
        Err(e) => {
            tracing::info!("cannot run on CPU {cpu} ({e}); polling instead");
            FOLLOW.store(false, Ordering::Relaxed);
            stop_following();
        }
    }
}

/// Gives the calling thread the process's own mask back.
fn stop_following() {
    if PINNED.take().is_some()
        && let Some(mask) = ORIGINAL.get()
    {
        let _ = sched_setaffinity(Pid::from_raw(0), mask);
    }
}

/// Runs `wait` (a wait for the shim) with how long the calling thread
/// should poll before it sleeps: not at all on the daemon thread's CPU
/// (the daemon thread runs there; it would only be kept from answering),
/// else as [`Pace`] says, which then learns how long the wait took.
pub(crate) fn paced<T>(wait: impl FnOnce(Duration) -> T) -> T {
    if PINNED.get().is_some() {
        return wait(Duration::ZERO);
    }
    let started = Instant::now();
    let result = wait(pace().busy());
    pace().observe(started.elapsed());
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_serving_thread_moves_to_the_callers_cpu_and_others_do_not() {
        let Ok(mask) = sched_getaffinity(Pid::from_raw(0)) else {
            return;
        };
        let cpus: Vec<usize> = (0..CpuSet::count())
            .filter(|&c| mask.is_set(c).unwrap_or(false))
            .collect();
        if cpus.len() < 2 {
            eprintln!("skipped: one CPU, nothing to move to");
            return;
        }
        let _ = ORIGINAL.set(mask);
        FOLLOW.store(true, Ordering::Relaxed);
        let target = *cpus.last().unwrap();
        let serving = std::thread::spawn(move || {
            follow(Some(target as u32));
            let now = sched_getaffinity(Pid::from_raw(0)).unwrap();
            let on = (0..CpuSet::count())
                .filter(|&c| now.is_set(c).unwrap_or(false))
                .collect::<Vec<_>>();
            let busy = paced(|busy| busy);
            stop_following();
            (on, busy)
        });
        let (on, busy) = serving.join().unwrap();
        assert_eq!(on, vec![target]);
        assert_eq!(busy, Duration::ZERO, "a pinned thread sleeps at once");
        // This thread never followed: its mask is the process's.
        let here = sched_getaffinity(Pid::from_raw(0)).unwrap();
        assert!(cpus.iter().all(|&c| here.is_set(c).unwrap()));
    }
}
