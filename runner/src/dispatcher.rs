//! The plugin host of the daemon a runner serves: python3-fd's semantics
//! (`plugin`) or python3-dir's / python3-sd's (`dirsd_plugin`), chosen by
//! the daemon the session (or a recording) names.

use pyo3::Python;
use sidecar_proto::call;

use crate::daemon::{self, Daemon};
use crate::dirsd_plugin::DirSdPlugin;
use crate::plugin::Plugin;

/// The dispatcher of the daemon the Hello named.
pub enum Dispatcher {
    Fd(Plugin),
    DirSd(DirSdPlugin),
}

impl Dispatcher {
    pub fn new(py: Python<'_>) -> Dispatcher {
        match daemon::served() {
            Some(d @ (Daemon::Dir | Daemon::Sd)) => Dispatcher::DirSd(DirSdPlugin::new(py, d)),
            _ => Dispatcher::Fd(Plugin::new(py)),
        }
    }

    pub fn dispatch(
        &mut self,
        py: Python<'_>,
        kind: call::Kind,
    ) -> (i32, Option<sidecar_proto::call_result::Payload>) {
        match self {
            Dispatcher::Fd(p) => p.dispatch(py, kind),
            Dispatcher::DirSd(p) => p.dispatch(py, kind),
        }
    }
}
