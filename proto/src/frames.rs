//! The call channel of a session: protocol messages as length-prefixed
//! frames on a pipe each way (the cancel channel: on a socket pair).
//!
//! Plugin calls, their callbacks and the plugin's log messages are a strict
//! ping-pong between one daemon thread and the runner's Python thread. On
//! gRPC each of them would pass through HTTP/2 framing and a tokio task on
//! both sides; here the two threads that produce and consume a message read
//! and write the descriptors themselves. Pipes, because a round trip over
//! two of them costs about half of one over a unix socket pair (6 vs 10 µs
//! with both threads on one CPU, see [`crate::pacing`]; a pipe moves bytes
//! without socket buffers). A frame is a 4-byte little-endian length
//! followed by one prost-encoded message (`ShimMessage` one way,
//! `RunnerMessage` the other).
//!
//! All descriptors here are non-blocking; waits are poll(2). A write whose
//! reader is gone raises SIGPIPE in the writing thread: the runner ignores
//! it (Rust's runtime does), the shim blocks it around its writes.

use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use std::os::unix::net::UnixStream;
use std::time::{Duration, Instant};

use nix::errno::Errno;
use nix::fcntl::{FcntlArg, OFlag, fcntl};
use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
use prost::Message;

use crate::MAX_MESSAGE_BYTES;

const HEADER: usize = 4;

/// One side's descriptors of a frame channel.
pub struct Ends {
    /// Where the peer's frames arrive.
    pub read: OwnedFd,
    /// Where this side's frames go.
    pub write: OwnedFd,
}

/// A call channel: two pipes, close-on-exec and non-blocking. Returns the
/// shim's ends and the runner's.
pub fn pipes() -> io::Result<(Ends, Ends)> {
    let flags = OFlag::O_CLOEXEC | OFlag::O_NONBLOCK;
    let (calls_r, calls_w) = nix::unistd::pipe2(flags)?;
    let (results_r, results_w) = nix::unistd::pipe2(flags)?;
    Ok((
        Ends {
            read: results_r,
            write: calls_w,
        },
        Ends {
            read: calls_r,
            write: results_w,
        },
    ))
}

/// A connected stream pair for the cancel channel; both ends close-on-exec
/// and non-blocking.
pub fn pair() -> io::Result<(UnixStream, UnixStream)> {
    // std creates the pair with SOCK_CLOEXEC.
    let (a, b) = UnixStream::pair()?;
    a.set_nonblocking(true)?;
    b.set_nonblocking(true)?;
    Ok((a, b))
}

/// Makes `fd` non-blocking (for descriptors inherited or handed over).
pub fn set_nonblocking(fd: BorrowedFd<'_>) -> io::Result<()> {
    let flags = OFlag::from_bits_retain(fcntl(fd.as_raw_fd(), FcntlArg::F_GETFL)?);
    fcntl(fd.as_raw_fd(), FcntlArg::F_SETFL(flags | OFlag::O_NONBLOCK))?;
    Ok(())
}

/// read(2) on a non-blocking descriptor.
fn read_some(fd: BorrowedFd<'_>, buf: &mut [u8]) -> nix::Result<usize> {
    nix::unistd::read(fd.as_raw_fd(), buf)
}

/// One message as a frame, ready to be written in one piece.
pub fn encode<M: Message>(msg: &M) -> Vec<u8> {
    let len = msg.encoded_len();
    let mut out = Vec::with_capacity(HEADER + len);
    out.extend_from_slice(&(len as u32).to_le_bytes());
    msg.encode(&mut out).expect("a Vec grows as needed");
    out
}

/// Why the bytes from the peer are not a valid frame: the session is broken
/// beyond repair (the stream has no resynchronisation point).
#[derive(Debug)]
pub enum FrameError {
    TooLong(usize),
    Decode(prost::DecodeError),
}

impl std::fmt::Display for FrameError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FrameError::TooLong(n) => write!(
                f,
                "a frame of {n} bytes announced (at most {MAX_MESSAGE_BYTES})"
            ),
            FrameError::Decode(e) => write!(f, "an undecodable frame: {e}"),
        }
    }
}

impl std::error::Error for FrameError {}

impl From<FrameError> for io::Error {
    fn from(e: FrameError) -> io::Error {
        io::Error::new(io::ErrorKind::InvalidData, e)
    }
}

/// Bytes read per system call (and the buffer's growth step).
const CHUNK: usize = 64 * 1024;

/// Reassembles frames from whatever pieces the socket delivers.
#[derive(Default)]
pub struct Decoder {
    buf: Vec<u8>,
    /// `buf[start..end]` is received but not yet decoded.
    start: usize,
    end: usize,
}

impl Decoder {
    /// Where the next read should put its bytes; report the count with
    /// [`Decoder::filled`].
    pub fn space(&mut self) -> &mut [u8] {
        if self.start == self.end {
            self.start = 0;
            self.end = 0;
            // Do not keep a huge buffer around after one big message.
            if self.buf.len() > 16 * CHUNK {
                self.buf = Vec::new();
            }
        } else if self.start > 0 {
            self.buf.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.start = 0;
        }
        if self.buf.len() - self.end < CHUNK {
            self.buf.resize(self.end + CHUNK, 0);
        }
        &mut self.buf[self.end..]
    }

    /// `n` bytes of the last [`Decoder::space`] were filled.
    pub fn filled(&mut self, n: usize) {
        self.end = (self.end + n).min(self.buf.len());
    }

    /// Feeds bytes that were read elsewhere.
    pub fn feed(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(CHUNK) {
            self.space()[..chunk.len()].copy_from_slice(chunk);
            self.filled(chunk.len());
        }
    }

    /// The next complete message, if one has arrived.
    pub fn decode<M: Message + Default>(&mut self) -> Result<Option<M>, FrameError> {
        let pending = &self.buf[self.start..self.end];
        if pending.len() < HEADER {
            return Ok(None);
        }
        let len = u32::from_le_bytes(pending[..HEADER].try_into().expect("4 bytes")) as usize;
        if len > MAX_MESSAGE_BYTES {
            return Err(FrameError::TooLong(len));
        }
        if pending.len() < HEADER + len {
            return Ok(None);
        }
        let msg = M::decode(&pending[HEADER..HEADER + len]).map_err(FrameError::Decode)?;
        self.start += HEADER + len;
        Ok(Some(msg))
    }
}

/// How a reader waits for its peer.
///
/// First busy, for at most `busy` (see [`crate::pacing`]): it retries
/// without sleeping and yields the CPU between tries, to the peer when that
/// runs on the same CPU. Then asleep in poll(2) until the data arrives,
/// `also` (if any) becomes readable, or `timeout` (if any) passes.
#[derive(Clone, Copy)]
pub struct Wait<'a> {
    pub busy: Duration,
    pub timeout: Option<Duration>,
    pub also: Option<BorrowedFd<'a>>,
}

/// What [`fill`] saw.
#[derive(Debug, PartialEq, Eq)]
pub enum Filled {
    /// Bytes arrived (the decoder has them).
    Data,
    /// `timeout` passed first.
    Timeout,
    /// `also` became readable first.
    Also,
}

/// Reads what the peer sent into `decoder`, waiting as `wait` says. End of
/// stream is `UnexpectedEof`. `socket` (a pipe or a socket) must be
/// non-blocking.
pub fn fill(socket: BorrowedFd<'_>, decoder: &mut Decoder, wait: Wait<'_>) -> io::Result<Filled> {
    let start = Instant::now();
    let got = |n: usize, decoder: &mut Decoder| {
        if n == 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "the peer closed the session",
            ));
        }
        decoder.filled(n);
        Ok(Filled::Data)
    };
    loop {
        match read_some(socket, decoder.space()) {
            Ok(n) => return got(n, decoder),
            Err(Errno::EAGAIN) | Err(Errno::EINTR) => {}
            Err(e) => return Err(e.into()),
        }
        if start.elapsed() >= wait.busy {
            break;
        }
        nix::sched::sched_yield()?;
    }
    loop {
        let left = wait.timeout.map(|t| t.saturating_sub(start.elapsed()));
        let mut pfds = vec![PollFd::new(socket, PollFlags::POLLIN)];
        if let Some(also) = wait.also {
            pfds.push(PollFd::new(also, PollFlags::POLLIN));
        }
        match poll(&mut pfds, poll_timeout(left)) {
            Ok(0) => return Ok(Filled::Timeout),
            Ok(_) => {}
            Err(Errno::EINTR) => continue,
            Err(e) => return Err(e.into()),
        }
        let ready = |p: &PollFd<'_>| p.revents().is_some_and(|r| !r.is_empty());
        if ready(&pfds[0]) {
            match read_some(socket, decoder.space()) {
                Ok(n) => return got(n, decoder),
                Err(Errno::EAGAIN) | Err(Errno::EINTR) => continue,
                Err(e) => return Err(e.into()),
            }
        }
        if pfds.get(1).is_some_and(ready) {
            return Ok(Filled::Also);
        }
    }
}

/// The runner's end of a frame channel, where the Python thread reads and
/// writes with the GIL released; every read waits (see [`Channel::read`]).
pub struct Channel {
    ends: Ends,
    decoder: Decoder,
}

impl Channel {
    pub fn new(ends: Ends) -> io::Result<Channel> {
        set_nonblocking(ends.read.as_fd())?;
        set_nonblocking(ends.write.as_fd())?;
        Ok(Channel {
            ends,
            decoder: Decoder::default(),
        })
    }

    /// Both directions on one socket (the cancel channel).
    pub fn from_socket(fd: OwnedFd) -> io::Result<Channel> {
        Channel::new(Ends {
            read: fd.try_clone()?,
            write: fd,
        })
    }

    /// A second handle on the writing end, for writing from other threads.
    pub fn writer(&self) -> io::Result<Writer> {
        Ok(Writer(self.ends.write.try_clone()?))
    }

    /// Waits for the next message, busily for at most `busy` (see [`Wait`]),
    /// in all at most `timeout` (`None`: forever, for a side that is only
    /// ever woken by its peer). End of stream is `UnexpectedEof`.
    pub fn read<M: Message + Default>(
        &mut self,
        busy: Duration,
        timeout: Option<Duration>,
    ) -> io::Result<M> {
        let start = Instant::now();
        loop {
            if let Some(msg) = self.decoder.decode()? {
                return Ok(msg);
            }
            let wait = Wait {
                busy,
                timeout: timeout.map(|t| t.saturating_sub(start.elapsed())),
                also: None,
            };
            if fill(self.ends.read.as_fd(), &mut self.decoder, wait)? == Filled::Timeout {
                return Err(io::Error::new(
                    io::ErrorKind::TimedOut,
                    format!("no message within {timeout:?}"),
                ));
            }
        }
    }
}

/// poll(2)'s timeout for `left` (`None`: forever), rounded up to whole
/// milliseconds so a wait never ends before its time.
pub(crate) fn poll_timeout(left: Option<Duration>) -> PollTimeout {
    let ms = left.map_or(-1, |l| {
        i32::try_from(l.as_micros().div_ceil(1000)).unwrap_or(i32::MAX)
    });
    PollTimeout::try_from(ms).unwrap_or(PollTimeout::MAX)
}

/// Writes `bytes` in full to a non-blocking pipe or socket, waiting at most
/// `timeout` (`None`: forever) for room. If the reader is gone this raises
/// SIGPIPE (see the module's documentation).
pub fn write_all(
    socket: BorrowedFd<'_>,
    mut bytes: &[u8],
    timeout: Option<Duration>,
) -> io::Result<()> {
    let start = Instant::now();
    while !bytes.is_empty() {
        match nix::unistd::write(socket, bytes) {
            Ok(n) => bytes = &bytes[n..],
            Err(Errno::EINTR) => {}
            Err(Errno::EAGAIN) => {
                let left = timeout.map(|t| t.saturating_sub(start.elapsed()));
                if left.is_some_and(|l| l.is_zero()) {
                    return Err(io::Error::new(
                        io::ErrorKind::TimedOut,
                        format!("the peer took no data for {timeout:?}"),
                    ));
                }
                let mut pfd = [PollFd::new(socket, PollFlags::POLLOUT)];
                match poll(&mut pfd, poll_timeout(left)) {
                    Ok(_) | Err(Errno::EINTR) => {}
                    Err(e) => return Err(e.into()),
                }
            }
            Err(e) => return Err(e.into()),
        }
    }
    Ok(())
}

/// The writing end of a [`Channel`]; one frame per call, so callers that
/// share a writer serialise on a lock around it.
pub struct Writer(OwnedFd);

impl Writer {
    pub fn send<M: Message>(&mut self, msg: &M) -> io::Result<()> {
        write_all(self.0.as_fd(), &encode(msg), None)
    }
}
