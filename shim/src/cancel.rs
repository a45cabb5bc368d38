//! bEventCancelCommand: bareos-fd delivers it on its director thread while
//! the job thread may be inside any plugin call, and waits for the
//! plugin's answer. python3-fd runs the Python handler right there, and the
//! handler's core functions (GetValue, JobMessage, ...) run on that thread.
//!
//! The shim does the same over the session's cancel channel (see the .proto
//! file): the cancel thread sends `Cancel`, serves the handler's callbacks
//! and logs itself, and returns the handler's answer, all within
//! [`HANDLER_DEADLINE`]. Only then does the call in flight on the job
//! thread get [`CANCEL_GRACE`] to return before the runner is stopped, so a
//! cancelled job is released in bounded time whether or not the plugin
//! registered the event or honours it.

use std::os::fd::AsFd;
use std::os::unix::net::UnixStream;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use sidecar_proto::frames::{self, Decoder, Filled, Wait};
use sidecar_proto::{CancelResult, RunnerMessage, ShimMessage, runner_message, shim_message};

use crate::daemon::CoreHandler;
use crate::error::Error;

/// How long the daemon's cancel thread waits for the plugin's handler.
pub const HANDLER_DEADLINE: Duration = Duration::from_secs(5);

/// After the cancel, how long a plugin call may still take before the shim
/// stops the runner (a cancelled job must end in bounded time even if the
/// plugin ignores the cancel, e.g. blocked in a system call).
pub const CANCEL_GRACE: Duration = Duration::from_secs(2);

/// Whether the job was cancelled, as the session's calls see it.
#[derive(Default)]
pub struct CancelState {
    cancelled: AtomicBool,
    /// Wakes a call waiting in the session's runtime.
    pub notify: tokio::sync::Notify,
}

impl CancelState {
    pub fn cancelled(&self) -> bool {
        self.cancelled.load(Ordering::SeqCst)
    }

    fn set(&self) {
        self.cancelled.store(true, Ordering::SeqCst);
        self.notify.notify_one();
    }
}

/// The shim's end of the cancel channel.
struct Link {
    socket: UnixStream,
    decoder: Decoder,
    /// An exchange ran out of time: what the runner still sends belongs to
    /// it, so the channel is not used again.
    spent: bool,
}

/// Cancels one session from any daemon thread.
#[derive(Clone)]
pub struct Canceller {
    link: Arc<Mutex<Link>>,
    state: Arc<CancelState>,
}

impl Canceller {
    pub fn new(socket: UnixStream, state: Arc<CancelState>) -> Canceller {
        Canceller {
            link: Arc::new(Mutex::new(Link {
                socket,
                decoder: Decoder::default(),
                spent: false,
            })),
            state,
        }
    }

    /// Runs the plugin's cancel handler with `core` serving its core
    /// functions on this thread, then starts the grace period of the call
    /// in flight. `Ok(None)`: the plugin did not register the event.
    pub fn cancel(&self, core: &mut dyn CoreHandler) -> Result<Option<i32>, Error> {
        let outcome = {
            let mut link = self.link.lock().unwrap_or_else(|e| e.into_inner());
            if link.spent {
                Ok(None)
            } else {
                let outcome = link.exchange(core, HANDLER_DEADLINE);
                link.spent = outcome.is_err();
                outcome.map(|r| r.delivered.then_some(r.rc))
            }
        };
        self.state.set();
        outcome
    }
}

impl Link {
    fn exchange(
        &mut self,
        core: &mut dyn CoreHandler,
        deadline: Duration,
    ) -> Result<CancelResult, Error> {
        let started = Instant::now();
        let left = || deadline.saturating_sub(started.elapsed());
        self.send(shim_message::Kind::Cancel(sidecar_proto::Cancel {}), left())?;
        loop {
            while let Some(msg) = self.decoder.decode::<RunnerMessage>().map_err(|e| {
                Error::Protocol(format!("protocol violation on the cancel channel: {e}"))
            })? {
                match msg.kind {
                    Some(runner_message::Kind::CancelResult(r)) => return Ok(r),
                    Some(runner_message::Kind::Callback(cb)) => {
                        let reply = core.callback(cb);
                        self.send(shim_message::Kind::CallbackReply(reply), left())?;
                    }
                    Some(runner_message::Kind::Log(log)) => core.log(log),
                    _ => {
                        return Err(Error::Protocol(
                            "protocol violation: unexpected message on the cancel channel".into(),
                        ));
                    }
                }
            }
            if left().is_zero() {
                return Err(Error::Deadline(format!(
                    "the plugin's cancel handler did not return within {deadline:?}"
                )));
            }
            let wait = Wait {
                busy: Duration::ZERO,
                timeout: Some(left()),
                also: None,
            };
            match frames::fill(self.socket.as_fd(), &mut self.decoder, wait) {
                Ok(Filled::Data | Filled::Timeout | Filled::Also) => {}
                Err(e) => return Err(Error::RunnerGone(format!("the cancel channel broke: {e}"))),
            }
        }
    }

    fn send(&self, kind: shim_message::Kind, timeout: Duration) -> Result<(), Error> {
        let msg = ShimMessage { kind: Some(kind) };
        let frame = frames::encode(&msg);
        crate::sigpipe::guarded(|| frames::write_all(self.socket.as_fd(), &frame, Some(timeout)))
            .map_err(|e| Error::RunnerGone(format!("cannot reach the runner to cancel: {e}")))
    }
}
