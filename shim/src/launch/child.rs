//! The fork/exec edge: what the forked child does between fork and exec,
//! and the few system calls the parent makes for it. Async-signal-safe
//! system calls only, on plain data the parent built before the fork; with
//! the daemon edges (`ffi`, `fd`, `dir`, `sd`) the only `unsafe` of the
//! shim.

use std::io;
use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::os::unix::process::CommandExt;
use std::process::{Child, Command};

use super::process::INHERITED;
use super::sandbox;

/// What the forked child must do before exec: plain data, built in the
/// parent, read (never allocated or freed) in the child.
#[derive(Debug, Default)]
pub struct ChildSetup {
    /// (resource, soft, hard).
    pub rlimits: Vec<(libc::__rlimit_resource_t, u64, u64)>,
    pub nice: Option<i32>,
    pub ioprio: Option<i32>,
    /// `cgroup.procs` of the runner's cgroup, open for writing.
    pub cgroup_procs: Option<std::os::fd::RawFd>,
    pub ids: Option<sandbox::Ids>,
    pub no_new_privs: bool,
    pub landlock: Option<std::os::fd::RawFd>,
    /// The daemon's pid: the child checks it still has this parent after
    /// arming the parent-death signal.
    pub parent: libc::pid_t,
    /// Whether the runner gets SIGKILL when the daemon thread that started
    /// it ends (PR_SET_PDEATHSIG follows the forking thread, not the
    /// process). Right where that thread lives as long as the job (the
    /// FD's job thread); wrong where it does not (the director starts a
    /// job's plugins on the console's thread, which ends with the bconsole
    /// session). Without it a runner still ends with its daemon: the
    /// session's sockets close, and the runner exits on their EOF.
    pub die_with_thread: bool,
}

/// `fd` moved to a number of 10 or more (close-on-exec), so the child's
/// stdio and the runner's sockets on 0-4 can never land on it.
pub fn high_fd(fd: std::os::fd::OwnedFd) -> std::io::Result<std::os::fd::OwnedFd> {
    use std::os::fd::{AsRawFd, FromRawFd};
    if fd.as_raw_fd() >= 10 {
        return Ok(fd);
    }
    // SAFETY: fcntl on a descriptor we own; the new one is ours alone.
    let new = unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_DUPFD_CLOEXEC, 10) };
    if new < 0 {
        return Err(std::io::Error::last_os_error());
    }
    // SAFETY: `new` was just created and is owned by nobody else.
    Ok(unsafe { std::os::fd::OwnedFd::from_raw_fd(new) })
}

/// A limit above the current hard limit cannot be set without privilege
/// and would not be stricter anyway: keep the current one then.
pub fn clamp_to_hard_limits(rlimits: &mut [(libc::__rlimit_resource_t, u64, u64)]) {
    for (res, soft, hard) in rlimits.iter_mut() {
        let mut cur = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        // SAFETY: getrlimit writes the struct we pass.
        if unsafe { libc::getrlimit(*res, &mut cur) } == 0 && cur.rlim_max != libc::RLIM_INFINITY {
            // SAFETY: geteuid cannot fail.
            let privileged = unsafe { libc::geteuid() } == 0;
            if !privileged {
                *hard = (*hard).min(cur.rlim_max);
                *soft = (*soft).min(*hard);
            }
        }
    }
}

/// Where [`apply_in_child`] failed; the child reports it through a pipe so
/// the spawn error can say which step was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Stage {
    Cgroup = 1,
    CloseOnExec,
    Rlimit,
    Nice,
    IoNice,
    Groups,
    Gid,
    Uid,
    DeathSignal,
    Orphaned,
    NoNewPrivs,
    Landlock,
}

impl Stage {
    pub fn from_code(code: u8) -> Option<Stage> {
        use Stage::*;
        [
            Cgroup,
            CloseOnExec,
            Rlimit,
            Nice,
            IoNice,
            Groups,
            Gid,
            Uid,
            DeathSignal,
            Orphaned,
            NoNewPrivs,
            Landlock,
        ]
        .into_iter()
        .find(|s| *s as u8 == code)
    }

    pub fn describe(self) -> &'static str {
        match self {
            Stage::Cgroup => "moving into its cgroup",
            Stage::CloseOnExec => "marking inherited descriptors close-on-exec",
            Stage::Rlimit => "setting a resource limit (setrlimit)",
            Stage::Nice => "setting its nice value",
            Stage::IoNice => "setting its I/O class (ioprio_set)",
            Stage::Groups => "setting the sandbox user's groups",
            Stage::Gid => "switching to the sandbox group",
            Stage::Uid => "switching to the sandbox user",
            Stage::DeathSignal => "arming the parent-death signal",
            Stage::Orphaned => "checking its parent (the daemon thread ended)",
            Stage::NoNewPrivs => "setting no_new_privs",
            Stage::Landlock => "entering the Landlock sandbox",
        }
    }
}

/// Applies `setup` to the calling (forked, not yet exec'd) process. The
/// descriptors 0-4 are the runner's; every other one is made close-on-exec.
///
/// # Safety
/// Only for the child between fork and exec: it makes async-signal-safe
/// system calls only and touches no allocator (it reads `setup`, which was
/// built before the fork).
pub unsafe fn apply_in_child(setup: &ChildSetup) -> Result<(), (Stage, io::Error)> {
    let fail = |stage: Stage| Err((stage, io::Error::last_os_error()));
    // SAFETY (all blocks below): plain system calls on values and
    // descriptors prepared by the parent.
    unsafe {
        if let Some(fd) = setup.cgroup_procs {
            // "0" moves the writer itself.
            if libc::write(fd, b"0".as_ptr().cast(), 1) != 1 {
                return fail(Stage::Cgroup);
            }
        }
        if libc::syscall(
            libc::SYS_close_range,
            INHERITED.end as u32,
            u32::MAX,
            libc::CLOSE_RANGE_CLOEXEC,
        ) != 0
        {
            // Kernels before 5.11: mark them one by one.
            let mut lim = libc::rlimit {
                rlim_cur: 0,
                rlim_max: 0,
            };
            let top = if libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) == 0 {
                lim.rlim_cur.min(1 << 16) as RawFd
            } else {
                1024
            };
            for fd in INHERITED.end..top {
                let flags = libc::fcntl(fd, libc::F_GETFD);
                if flags >= 0 && libc::fcntl(fd, libc::F_SETFD, flags | libc::FD_CLOEXEC) < 0 {
                    return fail(Stage::CloseOnExec);
                }
            }
        }
        for &(resource, soft, hard) in &setup.rlimits {
            let lim = libc::rlimit {
                rlim_cur: soft,
                rlim_max: hard,
            };
            if libc::setrlimit(resource, &lim) != 0 {
                return fail(Stage::Rlimit);
            }
        }
        if let Some(nice) = setup.nice
            && libc::setpriority(libc::PRIO_PROCESS, 0, nice) != 0
        {
            return fail(Stage::Nice);
        }
        if let Some(prio) = setup.ioprio {
            // IOPRIO_WHO_PROCESS (1), this process (0).
            if libc::syscall(libc::SYS_ioprio_set, 1, 0, prio) != 0 {
                return fail(Stage::IoNice);
            }
        }
        if let Some(ids) = &setup.ids {
            if libc::geteuid() == 0 && libc::setgroups(ids.groups.len(), ids.groups.as_ptr()) != 0 {
                return fail(Stage::Groups);
            }
            if libc::setgid(ids.gid) != 0 {
                return fail(Stage::Gid);
            }
            if libc::setuid(ids.uid) != 0 {
                return fail(Stage::Uid);
            }
        }
        // After the uid change, which clears it: the runner dies with the
        // daemon thread that started it, so a killed daemon never leaves
        // runners behind.
        if setup.die_with_thread
            && libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL as libc::c_ulong) != 0
        {
            return fail(Stage::DeathSignal);
        }
        if libc::getppid() != setup.parent {
            *libc::__errno_location() = libc::ESRCH;
            return fail(Stage::Orphaned);
        }
        if setup.no_new_privs && libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 {
            return fail(Stage::NoNewPrivs);
        }
        if let Some(fd) = setup.landlock
            && libc::syscall(libc::SYS_landlock_restrict_self, fd, 0u32) != 0
        {
            return fail(Stage::Landlock);
        }
    }
    Ok(())
}

/// Spawns `cmd` with `inherit` as descriptors `INHERITED` (3 to 8), then
/// `setup` applied between fork and exec; a refused step is reported as one
/// byte (its [`Stage`]) on `report`. The borrows keep every descriptor the
/// child uses open until the spawn has returned.
pub fn spawn(
    mut cmd: Command,
    inherit: &[OwnedFd; super::process::INHERITED_COUNT],
    setup: ChildSetup,
    report: &OwnedFd,
) -> io::Result<Child> {
    let inherit = inherit.each_ref().map(AsRawFd::as_raw_fd);
    let report_fd = report.as_raw_fd();
    // SAFETY: the closure runs in the forked child before exec and only
    // makes async-signal-safe system calls (fcntl, dup2, write and those
    // of `apply_in_child`) on descriptors borrowed for the whole spawn and
    // on `setup`, which was built before the fork and moves into it.
    unsafe {
        cmd.pre_exec(move || {
            // Move all of them out of the way first, so placing one on
            // 3..=7 cannot clobber another; dup2 clears close-on-exec.
            let mut high = [0; super::process::INHERITED_COUNT];
            for (h, fd) in high.iter_mut().zip(inherit) {
                *h = libc::fcntl(fd, libc::F_DUPFD_CLOEXEC, 10);
                if *h < 0 {
                    return Err(io::Error::last_os_error());
                }
            }
            for (target, h) in INHERITED.zip(high) {
                if libc::dup2(h, target) < 0 {
                    return Err(io::Error::last_os_error());
                }
            }
            // Limits, sandbox, parent-death signal, close-on-exec.
            apply_in_child(&setup).map_err(|(stage, e)| {
                let code = stage as u8;
                libc::write(report_fd, (&code as *const u8).cast(), 1);
                e
            })
        });
    }
    cmd.spawn()
}
#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stages_round_trip() {
        for code in 1..=12u8 {
            let s = Stage::from_code(code).unwrap();
            assert_eq!(s as u8, code);
            assert!(!s.describe().is_empty());
        }
        assert_eq!(Stage::from_code(0), None);
        assert_eq!(Stage::from_code(13), None);
    }
}
