//! `sidecar.debugpy=[HOST:]PORT` (allowed by the client's sidecar.toml):
//! before the plugin's module is imported, the runner starts debugpy
//! listening on that loopback address and waits, bounded, for a debugger
//! (VS Code's "Remote Attach", any DAP client) to attach; the job log says
//! where to attach and how long it waits. Breakpoints set in the plugin's
//! file then stop the plugin in the debugger.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use pyo3::prelude::*;
use pyo3::types::PyTuple;

use crate::bareosfd::constants::{M_INFO, M_WARNING};
use crate::core;

struct Request {
    host: String,
    port: u16,
    wait: Duration,
}

static REQUEST: OnceLock<Request> = OnceLock::new();
static STARTED: AtomicBool = AtomicBool::new(false);

/// From the Hello (or `replay --debugpy`): `listen` is `[HOST:]PORT`,
/// loopback only; `wait_s` how long to wait for the debugger.
pub(crate) fn configure(listen: &str, wait_s: f64) -> Result<(), String> {
    if listen.is_empty() {
        return Ok(());
    }
    let (host, port) = sidecar_proto::debugpy::address(listen)?;
    let wait = Duration::try_from_secs_f64(wait_s).unwrap_or(Duration::from_secs(300));
    let _ = REQUEST.set(Request { host, port, wait });
    Ok(())
}

/// Starts debugpy once, if asked for, and waits for the debugger. An error
/// (debugpy missing, the port taken) fails the module load with a message
/// saying what to do.
pub(crate) fn start(py: Python<'_>) -> PyResult<()> {
    let Some(req) = REQUEST.get() else {
        return Ok(());
    };
    if STARTED.swap(true, Ordering::SeqCst) {
        return Ok(());
    }
    let debugpy = py.import("debugpy").map_err(|_| {
        pyo3::exceptions::PyImportError::new_err(format!(
            "sidecar.debugpy: debugpy is not installed in the runner's Python; install it with `{} -m pip install debugpy`",
            crate::embedding::EXECUTABLE
        ))
    })?;
    let address = PyTuple::new(
        py,
        [
            req.host.clone().into_pyobject(py)?.into_any(),
            req.port.into_pyobject(py)?.into_any(),
        ],
    )?;
    debugpy.call_method1("listen", (address,))?;
    let _ = core::job_message(
        M_INFO,
        format!(
            "sidecar: debugpy listens on {}:{} (runner pid {}): attach a debugger (DAP, e.g. VS Code \"Remote Attach\"); the plugin waits up to {}s for it before its module is imported\n",
            req.host,
            req.port,
            std::process::id(),
            req.wait.as_secs()
        ),
    );
    // wait_for_client() has no timeout of its own: wait on a thread and
    // give up on it after `wait` (cancelling the wait).
    let threading = py.import("threading")?;
    let kwargs = pyo3::types::PyDict::new(py);
    kwargs.set_item("target", debugpy.getattr("wait_for_client")?)?;
    kwargs.set_item("daemon", true)?;
    let thread = threading.call_method("Thread", (), Some(&kwargs))?;
    thread.call_method0("start")?;
    thread.call_method1("join", (req.wait.as_secs_f64(),))?;
    if thread.call_method0("is_alive")?.is_truthy()? {
        let _ = debugpy
            .getattr("wait_for_client")
            .and_then(|w| w.call_method0("cancel"));
        let _ = core::job_message(
            M_WARNING,
            format!(
                "sidecar: no debugger attached to {}:{} within {}s; the plugin runs on without one\n",
                req.host,
                req.port,
                req.wait.as_secs()
            ),
        );
    } else {
        let _ = core::job_message(M_INFO, "sidecar: a debugger attached\n".to_string());
    }
    Ok(())
}
