//! The daemon that loaded the shim, and what the daemon-independent part of
//! the shim (instance, session) needs of that daemon's core.

use sidecar_proto::{Callback, CallbackReply, Log};

/// Which Bareos daemon the shim serves, decided in loadPlugin from the
/// core's function table (`load`).
pub use sidecar_proto::Daemon;

/// Prefix of every message the shim itself writes to the job log, so
/// admins see who speaks.
pub fn prefix(daemon: Daemon) -> &'static str {
    match daemon {
        Daemon::Fd => "python3-fd (sidecar): ",
        Daemon::Dir => "python3-dir (sidecar): ",
        Daemon::Sd => "python3-sd (sidecar): ",
    }
}

/// What the runner asks of the core while a call is in progress; executed
/// on the daemon thread that made the call.
pub trait CoreHandler {
    fn callback(&mut self, callback: Callback) -> CallbackReply;
    fn log(&mut self, log: Log);
}

/// One daemon's core functions for one plugin context.
pub trait DaemonCore: CoreHandler {
    fn daemon(&self) -> Daemon;
    fn job_message(&self, msg_type: i32, text: &[u8]);
    fn debug_message(&self, level: i32, text: &[u8]);

    /// A message of the shim's own, with the daemon's prefix.
    fn shim_message(&self, msg_type: i32, text: &str) {
        let text = format!("{}{text}\n", prefix(self.daemon()));
        self.job_message(msg_type, text.as_bytes());
    }
}
