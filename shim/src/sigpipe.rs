//! Writes that cannot raise SIGPIPE in the daemon.
//!
//! A write to a pipe or socket whose reader is gone (a runner that died)
//! raises SIGPIPE in the writing thread. bareos-fd, -dir and -sd ignore it,
//! but the disposition is the host's, and its default ends the process. So
//! the shim blocks SIGPIPE in the calling thread for the time of each write
//! and, when the write failed with EPIPE, takes away the signal the write
//! left pending before it unblocks.

use std::io;

use nix::sys::signal::{SigSet, SigmaskHow, Signal};

/// Runs `write` (one or more write(2)s) with SIGPIPE blocked in this thread.
pub fn guarded<T>(write: impl FnOnce() -> io::Result<T>) -> io::Result<T> {
    let mut pipe = SigSet::empty();
    pipe.add(Signal::SIGPIPE);
    let Ok(old) = pipe.thread_swap_mask(SigmaskHow::SIG_BLOCK) else {
        return write();
    };
    let result = write();
    let broken = matches!(&result, Err(e) if e.raw_os_error() == Some(nix::libc::EPIPE));
    // Only a signal this write raised: one pending while the caller had
    // SIGPIPE blocked already is left to the caller.
    if broken && !old.contains(Signal::SIGPIPE) && pending_here() {
        let _ = pipe.wait();
    }
    let _ = old.thread_set_mask();
    result
}

/// Is SIGPIPE pending for this thread? (Not when it is ignored: then the
/// kernel drops it.) Read from /proc, only after a failed write; without
/// /proc the answer is no, and an unignored signal is then delivered.
fn pending_here() -> bool {
    let Ok(status) = std::fs::read_to_string("/proc/thread-self/status") else {
        return false;
    };
    status
        .lines()
        .find_map(|l| l.strip_prefix("SigPnd:"))
        .and_then(|mask| u64::from_str_radix(mask.trim(), 16).ok())
        .is_some_and(|mask| mask & (1 << (Signal::SIGPIPE as u32 - 1)) != 0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::fd::AsFd;

    /// With SIGPIPE at its default disposition (a host that does not ignore
    /// it), a guarded write to a pipe without a reader fails with EPIPE and
    /// the process lives on. The disposition is process-wide, so this runs
    /// `with_default_sigpipe` in a process of its own.
    #[test]
    fn a_write_to_a_closed_pipe_fails_without_killing_the_process() {
        let out = std::process::Command::new(std::env::current_exe().unwrap())
            .args([
                "--ignored",
                "--exact",
                "sigpipe::tests::with_default_sigpipe",
            ])
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success() && text.contains("1 passed"),
            "{:?}\n{text}{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
    }

    #[test]
    #[ignore = "run by a_write_to_a_closed_pipe_fails_without_killing_the_process"]
    fn with_default_sigpipe() {
        use nix::sys::signal::{SigHandler, signal};
        // SAFETY: SIG_DFL installs no handler; this process exists only
        // for this test.
        unsafe { signal(Signal::SIGPIPE, SigHandler::SigDfl) }.unwrap();
        let (r, w) = nix::unistd::pipe().unwrap();
        drop(r);
        let result = guarded(|| nix::unistd::write(w.as_fd(), b"x").map_err(io::Error::from));
        assert_eq!(result.unwrap_err().raw_os_error(), Some(nix::libc::EPIPE));
        // Nothing is left pending to kill the process later.
        assert!(!pending_here());
    }
}
