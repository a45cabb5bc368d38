//! Which Bareos daemon the runner serves: the file daemon (`bareosfd`), the
//! director (`bareosdir`) or the storage daemon (`bareossd`). The shim names
//! it in the Hello; a runner serves one session, so the choice is made once
//! per process and decides the dispatcher and the one Python module the
//! plugin may import.

use std::sync::OnceLock;

pub use sidecar_proto::Daemon;

static SERVED: OnceLock<Daemon> = OnceLock::new();

/// Records the daemon of this process's session (once; before the first
/// call, so before any plugin is imported).
pub fn set_served(daemon: Daemon) {
    let _ = SERVED.set(daemon);
}

/// The daemon of this process's session; `None` without one (`sidecar-runner
/// python`, tests, in-process hosting), where every module is importable.
pub fn served() -> Option<Daemon> {
    SERVED.get().copied()
}

/// Refuses to create `module`'s module in a runner serving another daemon:
/// all three are built in, but a plugin gets the one of its daemon (in
/// process, the other daemons' modules do not exist either).
pub(crate) fn check_import(module: Daemon) -> pyo3::PyResult<()> {
    match served() {
        Some(served) if served != module => Err(pyo3::exceptions::PyImportError::new_err(format!(
            "{} is the {}'s module; this plugin runs in the {} (import {})",
            module.module(),
            module.description(),
            served.description(),
            served.module()
        ))),
        _ => Ok(()),
    }
}

/// Adds all three modules to the interpreter's built-in modules; call
/// before Python is initialised.
pub fn register_modules() {
    crate::bareosfd::register();
    crate::bareosdir::register();
    crate::bareossd::register();
}
