//! Attaching a daemon to a runner started by hand (`sidecar-runner serve
//! --socket PATH`, in a terminal, under a debugger). Instead of spawning a
//! runner with its session descriptors on 3 to 8, the shim connects to the
//! runner's unix socket and hands over the same descriptors in one
//! SCM_RIGHTS message; from then on the session is the ordinary one.
//!
//! Both sides check who is at the other end (SO_PEERCRED): only root or the
//! same user may attach, since whoever serves the socket runs the plugin
//! and whoever connects drives it. The runner answers the hand-over with
//! one line: `ok`, or `refused: <why>`.

use std::io::{self, BufRead, Write};
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::net::UnixStream;
use std::time::Duration;

use nix::sys::socket::{
    ControlMessage, ControlMessageOwned, MsgFlags, getsockopt, recvmsg, sendmsg, sockopt,
};

use crate::fds;

/// How many descriptors a session has (`fds::INHERITED`).
pub const SESSION_FDS: usize = (fds::INHERITED.end - fds::INHERITED.start) as usize;

/// What the shim's hand-over message says, so a stray connection is told
/// apart from a daemon: the magic and the protocol version.
fn greeting() -> [u8; 12] {
    let mut g = [0u8; 12];
    g[..8].copy_from_slice(b"sidecar\0");
    g[8..].copy_from_slice(&crate::PROTOCOL_VERSION.to_le_bytes());
    g
}

/// The uid and pid of the process at the other end of `stream`.
pub fn peer(stream: &UnixStream) -> io::Result<(u32, i32)> {
    let cred = getsockopt(stream, sockopt::PeerCredentials)?;
    Ok((cred.uid(), cred.pid()))
}

/// May a process of `peer_uid` attach to (or be attached by) one of
/// `own_uid`? Root or the same user.
pub fn allowed(peer_uid: u32, own_uid: u32) -> bool {
    peer_uid == 0 || peer_uid == own_uid
}

/// The shim's side: hands `session` (in `fds::INHERITED` order) to the
/// runner and waits at most `timeout` for its answer.
pub fn hand_over(
    stream: &UnixStream,
    session: [BorrowedFd<'_>; SESSION_FDS],
    timeout: Duration,
) -> io::Result<()> {
    let raw: Vec<RawFd> = session.iter().map(|fd| fd.as_raw_fd()).collect();
    let greeting = greeting();
    let iov = [io::IoSlice::new(&greeting)];
    let sent = sendmsg::<()>(
        stream.as_raw_fd(),
        &iov,
        &[ControlMessage::ScmRights(&raw)],
        MsgFlags::MSG_NOSIGNAL,
        None,
    );
    // A runner that refuses us may have answered and hung up before the
    // hand-over arrived: its answer is still there to read.
    stream.set_read_timeout(Some(timeout))?;
    let mut line = String::new();
    let read = io::BufReader::new(stream).read_line(&mut line);
    if let Err(e) = sent
        && !line.starts_with("refused: ")
    {
        return Err(e.into());
    }
    read?;
    match line.trim_end() {
        "ok" => Ok(()),
        "" => Err(io::Error::new(
            io::ErrorKind::UnexpectedEof,
            "the runner closed the connection without an answer",
        )),
        other => Err(io::Error::new(
            io::ErrorKind::PermissionDenied,
            other.strip_prefix("refused: ").unwrap_or(other).to_string(),
        )),
    }
}

/// The runner's side: receives a daemon's session descriptors.
pub fn take_over(stream: &UnixStream) -> io::Result<[OwnedFd; SESSION_FDS]> {
    let mut bytes = [0u8; 12];
    let mut iov = [io::IoSliceMut::new(&mut bytes)];
    // Room for more than a session needs, so a malformed message is seen
    // whole (and its descriptors closed) instead of truncated.
    let mut space = nix::cmsg_space!([RawFd; 16]);
    let msg = recvmsg::<()>(
        stream.as_raw_fd(),
        &mut iov,
        Some(&mut space),
        MsgFlags::MSG_CMSG_CLOEXEC,
    )?;
    let mut received: Vec<OwnedFd> = Vec::new();
    for cmsg in msg.cmsgs()? {
        if let ControlMessageOwned::ScmRights(fds) = cmsg {
            // SAFETY: the kernel just installed these descriptors in our
            // table for us; nothing else owns them.
            received.extend(
                fds.into_iter()
                    .map(|fd| unsafe { OwnedFd::from_raw_fd(fd) }),
            );
        }
    }
    let n = msg.bytes;
    if n != bytes.len() || bytes != greeting() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            "not a bareos-sidecar shim of this version",
        ));
    }
    received.try_into().map_err(|v: Vec<OwnedFd>| {
        io::Error::new(
            io::ErrorKind::InvalidData,
            format!("{} descriptors instead of {SESSION_FDS}", v.len()),
        )
    })
}

/// The runner's answer to the hand-over.
pub fn answer(mut stream: &UnixStream, refusal: Option<&str>) -> io::Result<()> {
    match refusal {
        None => stream.write_all(b"ok\n"),
        Some(why) => stream.write_all(format!("refused: {why}\n").as_bytes()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::fd::AsFd;

    #[test]
    fn a_session_crosses_and_is_acknowledged() {
        let (shim, runner) = UnixStream::pair().unwrap();
        let pairs: Vec<(UnixStream, UnixStream)> = (0..SESSION_FDS)
            .map(|_| UnixStream::pair().unwrap())
            .collect();
        let theirs: [BorrowedFd<'_>; SESSION_FDS] = std::array::from_fn(|i| pairs[i].1.as_fd());
        let t = std::thread::scope(|s| {
            let h = s.spawn(|| {
                let got = take_over(&runner).unwrap();
                answer(&runner, None).unwrap();
                got.len()
            });
            hand_over(&shim, theirs, Duration::from_secs(5)).unwrap();
            h.join().unwrap()
        });
        assert_eq!(t, SESSION_FDS);
        let (uid, pid) = peer(&shim).unwrap();
        assert_eq!(pid as u32, std::process::id());
        assert!(allowed(uid, uid));
    }

    #[test]
    fn a_refusal_is_an_error_naming_why() {
        let (shim, runner) = UnixStream::pair().unwrap();
        let pairs: Vec<(UnixStream, UnixStream)> = (0..SESSION_FDS)
            .map(|_| UnixStream::pair().unwrap())
            .collect();
        let theirs: [BorrowedFd<'_>; SESSION_FDS] = std::array::from_fn(|i| pairs[i].1.as_fd());
        answer(&runner, Some("uid 1000 may not attach")).unwrap();
        let err = hand_over(&shim, theirs, Duration::from_secs(5)).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::PermissionDenied);
        assert_eq!(err.to_string(), "uid 1000 may not attach");
    }

    #[test]
    fn a_stranger_is_not_taken_for_a_shim() {
        let (mut other, runner) = UnixStream::pair().unwrap();
        other.write_all(b"GET / HTTP/1.0\r\n").unwrap();
        assert!(take_over(&runner).is_err());
        assert!(!allowed(1000, 1001));
        assert!(allowed(0, 1001));
    }
}
