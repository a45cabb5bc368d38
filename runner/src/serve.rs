//! `sidecar-runner serve --socket PATH [--keep]`: a runner started by hand
//! (in a terminal, under pdb, gdb, strace, py-spy, an IDE) that waits for a
//! daemon to attach (`sidecar.attach=PATH` in the plugin string, allowed
//! by the client's sidecar.toml). The daemon hands over the session's
//! descriptors (`sidecar_proto::attach`); from then on this is an ordinary
//! runner with the terminal as its stdout and stderr, so `breakpoint()` in
//! the plugin stops right here.
//!
//! The socket is created 0600 and only root or this user may connect.
//! Without `--keep` one job is served; with it, each job runs in a child
//! of its own (a runner hosts one plugin instance per process) and the
//! socket stays.

use std::ffi::OsString;
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::fs::{FileTypeExt, PermissionsExt};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::PathBuf;
use std::process::ExitCode;

use nix::sys::wait::waitpid;
use nix::unistd::{ForkResult, fork};
use sidecar_proto::{attach, fds};

struct Options {
    socket: PathBuf,
    keep: bool,
}

const USAGE: &str = "usage: sidecar-runner serve --socket PATH [--keep]\n\
\n\
Waits on the unix socket PATH for a Bareos daemon whose job has\n\
sidecar.attach=PATH in its plugin string (and [debug] allow = true in the\n\
client's sidecar.toml), then runs that job's plugin here: its output comes\n\
to this terminal and breakpoint() stops here. --keep serves job after job.";

fn parse(args: impl Iterator<Item = OsString>) -> Result<Options, String> {
    let mut socket = None;
    let mut keep = false;
    let mut args = args;
    while let Some(a) = args.next() {
        match a.to_str() {
            Some("--socket") => socket = args.next().map(PathBuf::from),
            Some("--keep") => keep = true,
            Some("-h" | "--help") => return Err(String::new()),
            _ => return Err(format!("unknown argument {}", a.to_string_lossy())),
        }
    }
    let socket = socket.ok_or("--socket PATH is required")?;
    Ok(Options { socket, keep })
}

pub fn main(args: impl Iterator<Item = OsString>) -> ExitCode {
    let options = match parse(args) {
        Ok(o) => o,
        Err(e) => {
            if !e.is_empty() {
                eprintln!("sidecar-runner serve: {e}");
            }
            eprintln!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    match serve(&options) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("sidecar-runner serve: {e}");
            ExitCode::FAILURE
        }
    }
}

fn serve(options: &Options) -> Result<ExitCode, String> {
    let path = &options.socket;
    let listener = listen(path)?;
    let own_uid = nix::unistd::geteuid().as_raw();
    eprintln!(
        "sidecar-runner serve: waiting on {} (pid {}); a job with sidecar.attach={} runs here",
        path.display(),
        std::process::id(),
        path.display()
    );
    loop {
        let (stream, _) = listener
            .accept()
            .map_err(|e| format!("accept on {}: {e}", path.display()))?;
        let Some(session) = admit(&stream, own_uid) else {
            continue;
        };
        drop(stream);
        if !options.keep {
            drop(listener);
            let _ = std::fs::remove_file(path);
            return Ok(run_session(session));
        }
        // SAFETY: this process has one thread (serve never starts Python
        // or a runtime), so the child may do anything after fork.
        match unsafe { fork() } {
            Ok(ForkResult::Child) => {
                drop(listener);
                std::process::exit(match run_session(session) {
                    c if c == ExitCode::SUCCESS => 0,
                    _ => 1,
                });
            }
            Ok(ForkResult::Parent { child }) => {
                drop(session);
                let _ = waitpid(child, None);
                eprintln!(
                    "sidecar-runner serve: job done; waiting on {} again",
                    path.display()
                );
            }
            Err(e) => return Err(format!("fork: {e}")),
        }
    }
}

/// Binds `path` with mode 0600; a stale socket file (nobody listening) is
/// replaced, anything else is left alone.
fn listen(path: &PathBuf) -> Result<UnixListener, String> {
    if let Ok(meta) = std::fs::symlink_metadata(path) {
        if !meta.file_type().is_socket() {
            return Err(format!("{} exists and is not a socket", path.display()));
        }
        if UnixStream::connect(path).is_ok() {
            return Err(format!("another runner is serving {}", path.display()));
        }
        std::fs::remove_file(path).map_err(|e| format!("{}: {e}", path.display()))?;
    }
    // Nobody else may even connect between bind and chmod.
    let old = nix::sys::stat::umask(nix::sys::stat::Mode::from_bits_truncate(0o177));
    let bound = UnixListener::bind(path);
    nix::sys::stat::umask(old);
    let listener = bound.map_err(|e| format!("cannot listen on {}: {e}", path.display()))?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))
        .map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(listener)
}

/// Checks who connected and takes the session over; `None` (with the
/// reason printed and answered) for anyone who may not attach.
fn admit(stream: &UnixStream, own_uid: u32) -> Option<[OwnedFd; attach::SESSION_FDS]> {
    let refuse = |why: String| {
        eprintln!("sidecar-runner serve: refused a connection: {why}");
        let _ = attach::answer(stream, Some(&why));
        None
    };
    let (uid, pid) = match attach::peer(stream) {
        Ok(p) => p,
        Err(e) => return refuse(format!("cannot tell who connected: {e}")),
    };
    if !attach::allowed(uid, own_uid) {
        return refuse(format!(
            "uid {uid} (pid {pid}) may not attach to a runner of uid {own_uid} (only root or the same user)"
        ));
    }
    match attach::take_over(stream) {
        Ok(session) => {
            let _ = attach::answer(stream, None);
            eprintln!("sidecar-runner serve: daemon pid {pid} (uid {uid}) attached");
            Some(session)
        }
        Err(e) => refuse(e.to_string()),
    }
}

/// Puts the session on descriptors 3 to 8, where a spawned runner finds
/// it, and runs it.
fn run_session(session: [OwnedFd; attach::SESSION_FDS]) -> ExitCode {
    // Out of the way first: a received descriptor may sit on 3..=7 itself.
    let high: Vec<OwnedFd> = match session
        .iter()
        .map(|fd| nix::fcntl::fcntl(fd.as_raw_fd(), nix::fcntl::FcntlArg::F_DUPFD_CLOEXEC(20)))
        .collect::<Result<Vec<_>, _>>()
    {
        // SAFETY: fcntl just created these descriptors; nothing else owns them.
        Ok(raw) => raw
            .into_iter()
            .map(|fd| unsafe { <OwnedFd as std::os::fd::FromRawFd>::from_raw_fd(fd) })
            .collect(),
        Err(e) => {
            eprintln!("sidecar-runner serve: {e}");
            return ExitCode::FAILURE;
        }
    };
    drop(session);
    for (target, fd) in fds::INHERITED.zip(&high) {
        if let Err(e) = nix::unistd::dup2(fd.as_raw_fd(), target) {
            eprintln!("sidecar-runner serve: {e}");
            return ExitCode::FAILURE;
        }
    }
    drop(high);
    crate::session::main()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options() {
        let args = |v: &[&str]| v.iter().map(OsString::from).collect::<Vec<_>>().into_iter();
        let o = parse(args(&["--socket", "/tmp/s", "--keep"])).unwrap();
        assert_eq!(o.socket, PathBuf::from("/tmp/s"));
        assert!(o.keep);
        assert!(parse(args(&[])).is_err());
        assert!(parse(args(&["--socket", "/tmp/s", "--bogus"])).is_err());
    }
}
