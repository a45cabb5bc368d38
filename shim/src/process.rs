//! The runner as a child process of the daemon: start it with its session
//! sockets, and make sure it is gone (and reaped) when the instance ends.

use std::io;
use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

/// Descriptor numbers the runner expects its sockets on.
const SESSION_FD: RawFd = 3;
const FDPASS_FD: RawFd = 4;

/// How long SIGTERM gets before SIGKILL.
const TERM_GRACE: Duration = Duration::from_secs(2);

pub struct RunnerProcess {
    child: Child,
    status: Option<ExitStatus>,
}

impl RunnerProcess {
    /// Starts `path` with `session` as fd 3, `fdpass` as fd 4, stdin from
    /// /dev/null and stdout+stderr into `output`.
    pub fn spawn(
        path: &Path,
        session: OwnedFd,
        fdpass: OwnedFd,
        output: OwnedFd,
    ) -> io::Result<RunnerProcess> {
        let session_fd = session.as_raw_fd();
        let fdpass_fd = fdpass.as_raw_fd();
        let stderr = output.try_clone()?;
        let mut cmd = Command::new(path);
        cmd.stdin(Stdio::null())
            .stdout(Stdio::from(output))
            .stderr(Stdio::from(stderr));
        // SAFETY: the closure runs in the forked child before exec and only
        // makes async-signal-safe system calls (fcntl, dup2, prctl) on
        // descriptor numbers that are open in the child (inherited from the
        // parent, where `session`/`fdpass` stay alive until spawn returns).
        unsafe {
            cmd.pre_exec(move || {
                // Move both sockets out of the way first, so placing one on
                // 3 or 4 cannot clobber the other; dup2 clears close-on-exec.
                let s = libc::fcntl(session_fd, libc::F_DUPFD_CLOEXEC, 10);
                let f = libc::fcntl(fdpass_fd, libc::F_DUPFD_CLOEXEC, 10);
                if s < 0 || f < 0 {
                    return Err(io::Error::last_os_error());
                }
                if libc::dup2(s, SESSION_FD) < 0 || libc::dup2(f, FDPASS_FD) < 0 {
                    return Err(io::Error::last_os_error());
                }
                // The runner dies with the daemon thread that started it, so
                // a killed daemon never leaves runners behind.
                libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL as libc::c_ulong);
                Ok(())
            });
        }
        let child = cmd.spawn()?;
        // Our copies of the child's ends close here: the session is the
        // child's now, and EOF on it means the child is gone.
        drop(session);
        drop(fdpass);
        Ok(RunnerProcess {
            child,
            status: None,
        })
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The exit status, waiting at most `deadline` for it.
    pub fn wait_for(&mut self, deadline: Duration) -> Option<ExitStatus> {
        if self.status.is_some() {
            return self.status;
        }
        let start = Instant::now();
        loop {
            match self.child.try_wait() {
                Ok(Some(status)) => {
                    self.status = Some(status);
                    return self.status;
                }
                Ok(None) if start.elapsed() < deadline => {
                    std::thread::sleep(Duration::from_millis(5))
                }
                _ => return None,
            }
        }
    }

    /// Ends the runner: SIGTERM, a grace period, then SIGKILL; reaps it.
    pub fn terminate(&mut self) -> Option<ExitStatus> {
        if self.wait_for(Duration::ZERO).is_some() {
            return self.status;
        }
        let pid = Pid::from_raw(self.child.id() as i32);
        let _ = kill(pid, Signal::SIGTERM);
        if self.wait_for(TERM_GRACE).is_some() {
            return self.status;
        }
        let _ = kill(pid, Signal::SIGKILL);
        self.wait_for(TERM_GRACE)
    }
}

impl Drop for RunnerProcess {
    fn drop(&mut self) {
        self.terminate();
    }
}

/// "exited with code 3", "was killed by signal SIGSEGV", ...
pub fn describe(status: ExitStatus) -> String {
    if let Some(code) = status.code() {
        return format!("exited with code {code}");
    }
    match status.signal() {
        Some(sig) => {
            let name = Signal::try_from(sig)
                .map(|s| s.as_str())
                .unwrap_or("unknown signal");
            let core = if status.core_dumped() {
                ", core dumped"
            } else {
                ""
            };
            format!("was killed by signal {name} ({sig}{core})")
        }
        None => format!("ended ({status})"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_codes_and_signals_are_named() {
        assert_eq!(describe(ExitStatus::from_raw(3 << 8)), "exited with code 3");
        assert_eq!(
            describe(ExitStatus::from_raw(11)),
            "was killed by signal SIGSEGV (11)"
        );
        assert_eq!(
            describe(ExitStatus::from_raw(9)),
            "was killed by signal SIGKILL (9)"
        );
    }

    #[test]
    fn sockets_arrive_on_3_and_4_and_the_child_is_reaped() {
        let (a, b) = std::os::unix::net::UnixStream::pair().unwrap();
        let (c, d) = std::os::unix::net::UnixStream::pair().unwrap();
        let (r, w) = nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC).unwrap();
        let script = std::env::temp_dir().join(format!("probe-{}.sh", std::process::id()));
        std::fs::write(
            &script,
            "#!/bin/sh\n[ -S /dev/fd/3 ] && [ -S /dev/fd/4 ] && echo ok\nexit 7\n",
        )
        .unwrap();
        std::fs::set_permissions(&script, std::os::unix::fs::PermissionsExt::from_mode(0o755))
            .unwrap();
        let mut p = RunnerProcess::spawn(&script, b.into(), d.into(), w).unwrap();
        let status = p.wait_for(Duration::from_secs(10)).unwrap();
        assert_eq!(status.code(), Some(7));
        let mut out = String::new();
        io::Read::read_to_string(&mut std::fs::File::from(r), &mut out).unwrap();
        assert_eq!(out.trim(), "ok");
        drop((a, c));
        std::fs::remove_file(script).unwrap();
    }
}
