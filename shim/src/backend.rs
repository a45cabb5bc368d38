//! Where an instance's plugin calls go: normally a runner process over a
//! [`Session`](crate::session::Session); the benchmark's in-process host
//! (`tests/inprocess`, python3-fd's architecture) installs a factory that
//! runs the same dispatcher inside the daemon instead.

use std::os::fd::OwnedFd;
use std::path::Path;
use std::sync::OnceLock;
use std::time::Duration;

use sidecar_proto::{CallResult, IoRequest, call, call_result};

pub use crate::cancel::Canceller;
pub use crate::daemon::CoreHandler;
pub use crate::error::Error;

/// One plugin instance's executor.
pub trait Backend: Send {
    /// One plugin call; the core's callbacks during it go to `core`.
    fn call(
        &mut self,
        kind: call::Kind,
        deadline: Duration,
        core: &mut dyn CoreHandler,
    ) -> Result<CallResult, Error>;
    /// One pluginIO call with the core's buffer: IO_WRITE data is taken
    /// from it and IO_READ data put into it, so a backend that can move
    /// data without messages (a session's I/O area) avoids the copies. The
    /// result's IO_READ `buf` is then empty; the number of bytes placed in
    /// the buffer comes back alongside.
    fn plugin_io(
        &mut self,
        mut req: IoRequest,
        buf: IoBuffer<'_>,
        deadline: Duration,
        core: &mut dyn CoreHandler,
    ) -> Result<(CallResult, usize), Error> {
        if let IoBuffer::Write(data) = &buf {
            req.buf = data.to_vec();
        }
        let mut result = self.call(call::Kind::PluginIo(req), deadline, core)?;
        let mut placed = 0;
        if let (IoBuffer::Read(out), Some(call_result::Payload::Io(io))) =
            (buf, &mut result.payload)
        {
            placed = io.buf.len().min(out.len());
            out[..placed].copy_from_slice(&io.buf[..placed]);
            io.buf = Vec::new();
        }
        Ok((result, placed))
    }
    /// The descriptor sent along with a result under `token`.
    fn receive_fd(&self, token: u64) -> Result<OwnedFd, Error>;
    /// After freePlugin: release everything; `Some` is a complaint.
    fn close(self: Box<Self>, core: &mut dyn CoreHandler) -> Option<String>;
    /// After a failure: end it and say what happened.
    fn kill(self: Box<Self>, core: &mut dyn CoreHandler) -> String;
    /// The process the plugin runs in.
    fn pid(&self) -> u32;
    /// Reaches the plugin from another thread to cancel (None: cannot).
    fn canceller(&self) -> Option<Canceller>;
    /// Which Python runs the plugin (version and interpreter), for the job
    /// log.
    fn python_version(&self) -> String;
}

/// The core's data buffer of one pluginIO call.
pub enum IoBuffer<'a> {
    /// IO_WRITE: the bytes to write.
    Write(&'a [u8]),
    /// IO_READ: where the bytes go (the core's buffer of `count` bytes).
    Read(&'a mut [u8]),
    /// Any other function, or no buffer.
    None,
}

/// Makes the backend of a new instance; `module_dir` is the daemon's plugin
/// directory.
pub type Factory = fn(module_dir: &Path) -> Result<Box<dyn Backend>, Error>;

static FACTORY: OnceLock<Factory> = OnceLock::new();

/// Replaces runner processes by `factory` for the life of the process.
pub fn set_factory(factory: Factory) {
    let _ = FACTORY.set(factory);
}

pub(crate) fn factory() -> Option<Factory> {
    FACTORY.get().copied()
}

impl Backend for crate::session::Session {
    fn call(
        &mut self,
        kind: call::Kind,
        deadline: Duration,
        core: &mut dyn CoreHandler,
    ) -> Result<CallResult, Error> {
        crate::session::Session::call(self, kind, deadline, core)
    }

    fn plugin_io(
        &mut self,
        req: IoRequest,
        buf: IoBuffer<'_>,
        deadline: Duration,
        core: &mut dyn CoreHandler,
    ) -> Result<(CallResult, usize), Error> {
        crate::session::Session::plugin_io(self, req, buf, deadline, core)
    }

    fn receive_fd(&self, token: u64) -> Result<OwnedFd, Error> {
        crate::session::Session::receive_fd(self, token)
    }

    fn close(self: Box<Self>, core: &mut dyn CoreHandler) -> Option<String> {
        crate::session::Session::close(*self, core)
    }

    fn kill(self: Box<Self>, core: &mut dyn CoreHandler) -> String {
        crate::session::Session::kill(*self, core)
    }

    fn pid(&self) -> u32 {
        crate::session::Session::pid(self)
    }

    fn canceller(&self) -> Option<Canceller> {
        Some(crate::session::Session::canceller(self))
    }

    fn python_version(&self) -> String {
        let version = self.welcome.python_version.split_whitespace().next();
        format!(
            "{}, {}",
            version.unwrap_or("(unknown version)"),
            self.welcome.python_executable
        )
    }
}
