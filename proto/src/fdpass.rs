//! The descriptor side channel of a session.
//!
//! Each session has a socket of its own for descriptors, a SOCK_SEQPACKET
//! pair, on which the runner sends a descriptor together with an 8-byte
//! token; the message that needs the descriptor names the same token.
//! Seqpacket keeps every (token, descriptor) pair one datagram.

use std::io;
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};
use std::time::Duration;

use nix::poll::{PollFd, PollFlags, poll};
use nix::sys::socket::{
    AddressFamily, ControlMessage, ControlMessageOwned, MsgFlags, SockFlag, SockType, recvmsg,
    sendmsg, socketpair,
};

/// A connected pair for the side channel; both ends close-on-exec.
pub fn pair() -> io::Result<(OwnedFd, OwnedFd)> {
    Ok(socketpair(
        AddressFamily::Unix,
        SockType::SeqPacket,
        None,
        SockFlag::SOCK_CLOEXEC,
    )?)
}

/// Sends `fd` labelled with `token`.
pub fn send(socket: BorrowedFd<'_>, token: u64, fd: BorrowedFd<'_>) -> io::Result<()> {
    let bytes = token.to_le_bytes();
    let iov = [io::IoSlice::new(&bytes)];
    let fds = [fd.as_raw_fd()];
    let cmsg = [ControlMessage::ScmRights(&fds)];
    sendmsg::<()>(
        socket.as_raw_fd(),
        &iov,
        &cmsg,
        MsgFlags::MSG_NOSIGNAL,
        None,
    )?;
    Ok(())
}

/// Receives the descriptor labelled `token`, waiting at most `deadline`.
/// Descriptors with other tokens (left over from a call that failed half-way)
/// are closed and skipped. The received descriptor is close-on-exec.
pub fn recv(socket: BorrowedFd<'_>, token: u64, deadline: Duration) -> io::Result<OwnedFd> {
    let start = std::time::Instant::now();
    loop {
        let left = deadline.saturating_sub(start.elapsed());
        let mut pfd = [PollFd::new(socket, PollFlags::POLLIN)];
        let ms = crate::frames::poll_timeout(Some(left));
        if poll(&mut pfd, ms)? == 0 {
            return Err(io::Error::new(
                io::ErrorKind::TimedOut,
                format!("no descriptor arrived within {deadline:?}"),
            ));
        }
        let mut bytes = [0u8; 8];
        let mut iov = [io::IoSliceMut::new(&mut bytes)];
        // Room for the most descriptors one message can carry (the kernel's
        // SCM_MAX_FD), so the control data is never truncated: on MSG_CTRUNC
        // nix yields no control messages, and the descriptors that did
        // arrive would be leaked.
        let mut space = nix::cmsg_space!([RawFd; 253]);
        let msg = recvmsg::<()>(
            socket.as_raw_fd(),
            &mut iov,
            Some(&mut space),
            MsgFlags::MSG_CMSG_CLOEXEC | MsgFlags::MSG_DONTWAIT,
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
        // Only after the descriptors are owned (so an early return closes
        // them): a zero-length datagram may carry some too.
        if msg.bytes == 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "descriptor channel closed",
            ));
        }
        // MSG_TRUNC: a datagram longer than 8 bytes (recvmsg reports only
        // the 8 it copied), so its first 8 bytes are no token.
        let truncated = msg
            .flags
            .intersects(MsgFlags::MSG_CTRUNC | MsgFlags::MSG_TRUNC)
            || msg.bytes != 8;
        if truncated {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "malformed descriptor message",
            ));
        }
        if u64::from_le_bytes(bytes) == token && received.len() == 1 {
            return Ok(received.pop().expect("one descriptor"));
        }
        // Stale or malformed: `received` is dropped (closed) here.
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Seek, Write};
    use std::os::fd::AsFd;

    #[test]
    fn a_descriptor_crosses_with_its_token() {
        let (a, b) = pair().unwrap();
        let mut file = tempfile_in_tmp();
        file.write_all(b"hello").unwrap();
        send(a.as_fd(), 7, file.as_fd()).unwrap();
        let got = recv(b.as_fd(), 7, Duration::from_secs(1)).unwrap();
        let mut copy = std::fs::File::from(got);
        copy.rewind().unwrap();
        let mut s = String::new();
        copy.read_to_string(&mut s).unwrap();
        assert_eq!(s, "hello");
    }

    #[test]
    fn stale_tokens_are_skipped_and_missing_ones_time_out() {
        let (a, b) = pair().unwrap();
        let file = tempfile_in_tmp();
        send(a.as_fd(), 1, file.as_fd()).unwrap();
        send(a.as_fd(), 2, file.as_fd()).unwrap();
        assert!(recv(b.as_fd(), 2, Duration::from_secs(1)).is_ok());
        let err = recv(b.as_fd(), 3, Duration::from_millis(50)).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::TimedOut);
    }

    fn tempfile_in_tmp() -> std::fs::File {
        let path = std::env::temp_dir().join(format!(
            "fdpass-{}-{:?}",
            std::process::id(),
            std::thread::current().id()
        ));
        let f = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(true)
            .open(&path)
            .unwrap();
        std::fs::remove_file(&path).unwrap();
        f
    }
}
