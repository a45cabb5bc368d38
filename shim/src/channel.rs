//! The shim's end of a session's call channel and I/O area (see
//! `sidecar_proto::frames` and `sidecar_proto::area`): frames written and
//! read by the daemon thread that makes the plugin call, synchronously in
//! the common case and through the session's runtime when a call takes
//! long.

use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::time::{Duration, Instant};

use sidecar_proto::area::Area;
use sidecar_proto::frames::{self, Decoder, Ends, Filled, Wait};
use sidecar_proto::pacing::Pace;
use sidecar_proto::{IoRequest, IoResult, RunnerMessage, ShimMessage};
use tokio::net::unix::pipe;

use crate::error::Error;
use crate::sigpipe;

pub struct CallChannel {
    /// The runner's frames: registered with the session's runtime for
    /// readiness, read directly (non-blocking) by the daemon thread.
    from_runner: pipe::Receiver,
    /// Ours to the runner.
    to_runner: OwnedFd,
    decoder: Decoder,
    area: Area,
    /// How long the daemon thread polls for the runner's next frame.
    pace: Pace,
}

fn broke(e: std::io::Error) -> Error {
    match e.kind() {
        std::io::ErrorKind::UnexpectedEof => {
            Error::RunnerGone("the runner closed the session".into())
        }
        std::io::ErrorKind::TimedOut => Error::Deadline(format!("the runner took no data: {e}")),
        _ => Error::RunnerGone(format!("the session broke: {e}")),
    }
}

impl CallChannel {
    /// Must be called inside the session's runtime (`Runtime::enter`), which
    /// the socket is registered with.
    /// `busy_max`: the longest a wait polls (sidecar.toml `busy_wait_us`).
    pub fn new(ends: Ends, area: Area, busy_max: Duration) -> std::io::Result<CallChannel> {
        frames::set_nonblocking(ends.write.as_fd())?;
        Ok(CallChannel {
            // Checks that it is a pipe and makes it non-blocking.
            from_runner: pipe::Receiver::from_owned_fd(ends.read)?,
            to_runner: ends.write,
            decoder: Decoder::default(),
            area,
            pace: Pace::new(busy_max),
        })
    }

    /// Sends one message, waiting at most `timeout` for the runner to take it.
    pub fn send(&self, msg: &ShimMessage, timeout: Duration) -> Result<(), Error> {
        let frame = frames::encode(msg);
        sigpipe::guarded(|| frames::write_all(self.to_runner.as_fd(), &frame, Some(timeout)))
            .map_err(broke)
    }

    /// The next message if one is complete, without waiting.
    pub fn next_message(&mut self) -> Result<Option<RunnerMessage>, Error> {
        self.decoder
            .decode()
            .map_err(|e| Error::Protocol(format!("protocol violation: {e}")))
    }

    /// Waits (busily first, as long as the runner usually takes; see
    /// `sidecar_proto::pacing`) for more bytes, for `also` or for `timeout`,
    /// without the runtime.
    pub fn wait(
        &mut self,
        timeout: Duration,
        also: Option<BorrowedFd<'_>>,
    ) -> Result<Filled, Error> {
        let wait = Wait {
            busy: self.pace.busy(),
            timeout: Some(timeout),
            also,
        };
        let started = Instant::now();
        let filled =
            frames::fill(self.from_runner.as_fd(), &mut self.decoder, wait).map_err(broke)?;
        if filled == Filled::Data {
            self.pace.observe(started.elapsed());
        }
        Ok(filled)
    }

    /// Waits in the runtime until more bytes arrived. Cancel-safe: bytes are
    /// in the decoder as soon as they are read.
    pub async fn readable(&mut self) -> Result<(), Error> {
        let now = Wait {
            busy: Duration::ZERO,
            timeout: Some(Duration::ZERO),
            also: None,
        };
        loop {
            self.from_runner
                .readable()
                .await
                .map_err(|e| Error::RunnerGone(format!("the session broke: {e}")))?;
            let (from_runner, decoder) = (&self.from_runner, &mut self.decoder);
            // try_io clears the readiness when nothing was there after all.
            let read =
                from_runner.try_io(|| match frames::fill(from_runner.as_fd(), decoder, now)? {
                    Filled::Data => Ok(()),
                    _ => Err(std::io::ErrorKind::WouldBlock.into()),
                });
            match read {
                Ok(()) => return Ok(()),
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => continue,
                Err(e) => return Err(broke(e)),
            }
        }
    }

    /// `data` (IO_WRITE) into the area, or into the request if it does not
    /// fit.
    pub fn place_write_data(&self, req: &mut IoRequest, data: &[u8]) {
        if self.area.put(data) {
            req.area_len = Some(data.len() as u32);
        } else {
            req.buf = data.to_vec();
        }
    }

    /// IO_READ data of a result (in the area or in the message) into `out`,
    /// at most `out.len()` bytes; returns how many.
    pub fn take_read_data(&self, io: &mut IoResult, out: &mut [u8]) -> Result<usize, Error> {
        match io.area_len.take() {
            Some(len) if len as usize > self.area.len() => Err(Error::Protocol(format!(
                "protocol violation: {len} bytes of IO_READ data announced, the I/O area has {}",
                self.area.len()
            ))),
            Some(len) => {
                let len = (len as usize).min(out.len());
                self.area.get_into(&mut out[..len]);
                Ok(len)
            }
            None => {
                let len = io.buf.len().min(out.len());
                out[..len].copy_from_slice(&io.buf[..len]);
                io.buf = Vec::new();
                Ok(len)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn channel() -> (CallChannel, Area, tokio::runtime::Runtime) {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let (ours, _theirs) = frames::pipes().unwrap();
        let (area, fd) = Area::create().unwrap();
        let runner_view = Area::open(fd).unwrap();
        let _enter = rt.enter();
        let channel = CallChannel::new(ours, area, Duration::ZERO).unwrap();
        drop(_enter);
        (channel, runner_view, rt)
    }

    fn read_result(area_len: Option<u32>) -> IoResult {
        IoResult {
            area_len,
            ..Default::default()
        }
    }

    #[test]
    fn io_data_travels_through_the_area() {
        let (channel, runner, _rt) = channel();
        let mut req = IoRequest::default();
        channel.place_write_data(&mut req, b"written by the core");
        assert_eq!((req.area_len, req.buf.len()), (Some(19), 0));
        assert_eq!(runner.get(19).unwrap(), b"written by the core");

        assert!(runner.put(b"read by the plugin"));
        let mut core_buf = [0u8; 64];
        let n = channel
            .take_read_data(&mut read_result(Some(18)), &mut core_buf)
            .unwrap();
        assert_eq!(&core_buf[..n], b"read by the plugin");
    }

    #[test]
    fn data_larger_than_the_area_stays_in_the_message() {
        let (channel, _runner, _rt) = channel();
        let big = vec![7u8; sidecar_proto::area::AREA_BYTES + 1];
        let mut req = IoRequest::default();
        channel.place_write_data(&mut req, &big);
        assert_eq!((req.area_len, &req.buf), (None, &big));

        let mut io = IoResult {
            buf: b"inline".to_vec(),
            ..Default::default()
        };
        let mut core_buf = [0u8; 4];
        assert_eq!(channel.take_read_data(&mut io, &mut core_buf).unwrap(), 4);
        assert_eq!(&core_buf, b"inli");
    }

    #[test]
    fn announced_lengths_never_overrun_the_area_or_the_core_buffer() {
        let (channel, runner, _rt) = channel();
        assert!(runner.put(&[1u8; 100]));
        let mut core_buf = [0u8; 16];
        let n = channel
            .take_read_data(&mut read_result(Some(100)), &mut core_buf)
            .unwrap();
        assert_eq!(n, 16);
        let err = channel
            .take_read_data(&mut read_result(Some(u32::MAX)), &mut core_buf)
            .unwrap_err();
        assert!(
            err.to_string()
                .contains("protocol violation: 4294967295 bytes"),
            "{err}"
        );
    }
}
