//! The benchmark's in-process baseline: python3-fd's architecture built
//! from the sidecar's own parts. The shim's C ABI edge and packet
//! conversions (`sidecar-shim`) and the runner's `bareosfd` module and
//! dispatcher (`sidecar-runner`) are linked into one plugin; instead of
//! starting a runner per job, each instance calls the dispatcher directly on
//! the daemon's job thread, holding the GIL, and the plugin's core functions
//! run right there (the runner's direct core link).
//!
//! Like python3-fd, Python is initialised once per daemon (at the first
//! job) and every job shares its GIL. python3-fd gives each job a
//! sub-interpreter; here each job gets a private copy of the plugin module
//! in the one interpreter instead (`plugin::set_private_modules`).
//!
//! The exported `loadPlugin`/`unloadPlugin` are the shim's; a constructor
//! (`.init_array`) installs the in-process backend when the daemon loads
//! the library.

use std::os::fd::OwnedFd;
use std::path::Path;
use std::sync::Once;
use std::time::Duration;

use pyo3::prelude::*;
use sidecar_proto::{CallResult, Callback, CallbackReply, Log, call, callback, log};
use sidecar_runner::plugin::Plugin;
use sidecar_runner::{bareosfd, core as link, plugin};
use sidecar_shim::backend::{self, Backend, Canceller, CoreHandler, Error};

pub use sidecar_shim::{loadPlugin, unloadPlugin};

#[used]
#[unsafe(link_section = ".init_array")]
static INSTALL: extern "C" fn() = install;

extern "C" fn install() {
    backend::set_factory(new_instance);
}

static PYTHON: Once = Once::new();

fn new_instance(module_dir: &Path) -> Result<Box<dyn Backend>, Error> {
    let dir = module_dir.to_string_lossy().into_owned();
    PYTHON.call_once(|| {
        bareosfd::register();
        link::enable_direct();
        bareosfd::state::set_per_thread(true);
        plugin::set_private_modules(true);
        plugin::set_default_module_dir(dir);
        // The daemon's environment must not decide which standard library
        // loads (see sidecar_runner::embedding).
        if let Err(e) =
            sidecar_runner::embedding::initialize(sidecar_runner::embedding::Mode::Plugin)
        {
            panic!("{e}");
        }
    });
    bareosfd::state::reset_thread();
    let python_version = Python::with_gil(|py| py.version().to_string());
    Ok(Box::new(InProcess {
        plugin: None,
        python_version,
    }))
}

struct InProcess {
    plugin: Option<Plugin>,
    python_version: String,
}

/// The core of the call in progress, as the runner's direct link.
struct Direct<'a>(&'a mut dyn CoreHandler);

impl link::Direct for Direct<'_> {
    fn callback(&mut self, kind: callback::Kind) -> CallbackReply {
        self.0.callback(Callback {
            id: 0,
            kind: Some(kind),
        })
    }

    fn log(&mut self, kind: log::Kind) {
        self.0.log(Log { kind: Some(kind) });
    }
}

impl Backend for InProcess {
    fn call(
        &mut self,
        kind: call::Kind,
        _deadline: Duration,
        core: &mut dyn CoreHandler,
    ) -> Result<CallResult, Error> {
        Python::with_gil(|py| {
            let plugin = self.plugin.get_or_insert_with(|| Plugin::new(py));
            let mut direct = Direct(core);
            let (rc, payload) = link::with_direct(&mut direct, || plugin.dispatch(py, kind));
            Ok(CallResult { id: 0, rc, payload })
        })
    }

    fn receive_fd(&self, token: u64) -> Result<OwnedFd, Error> {
        link::take_fd(token)
            .ok_or_else(|| Error::Protocol(format!("no descriptor for token {token}")))
    }

    fn close(mut self: Box<Self>, _core: &mut dyn CoreHandler) -> Option<String> {
        if let Some(p) = self.plugin.take() {
            Python::with_gil(|_| drop(p));
        }
        None
    }

    fn kill(self: Box<Self>, core: &mut dyn CoreHandler) -> String {
        self.close(core);
        "the in-process plugin failed".into()
    }

    fn pid(&self) -> u32 {
        std::process::id()
    }

    fn canceller(&self) -> Option<Canceller> {
        None
    }

    fn python_version(&self) -> String {
        self.python_version.clone()
    }
}
