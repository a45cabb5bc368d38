//! Which Bareos daemon the runner serves: the file daemon (`bareosfd`), the
//! director (`bareosdir`) or the storage daemon (`bareossd`). The shim names
//! it in the Hello; a runner serves one session, so the choice is made once
//! per process and decides the dispatcher and the one Python module the
//! plugin may import.

use std::sync::OnceLock;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Daemon {
    Fd,
    Dir,
    Sd,
}

impl Daemon {
    /// The daemon of a Hello (`daemon`, `plugin_api_version`), if this
    /// runner hosts that plugin API.
    pub fn from_hello(daemon: &str, plugin_api_version: u32) -> Option<Daemon> {
        match (daemon, plugin_api_version) {
            ("fd", 10) => Some(Daemon::Fd),
            ("dir", 4) => Some(Daemon::Dir),
            ("sd", 4) => Some(Daemon::Sd),
            _ => None,
        }
    }

    /// Every hosted plugin API, for the refusal of any other.
    pub const SUPPORTED: &'static str = "fd version 10, dir version 4 and sd version 4";

    /// The daemon's name in the Hello.
    pub fn name(self) -> &'static str {
        match self {
            Daemon::Fd => "fd",
            Daemon::Dir => "dir",
            Daemon::Sd => "sd",
        }
    }

    /// The built-in module its plugins import.
    pub fn module(self) -> &'static str {
        match self {
            Daemon::Fd => "bareosfd",
            Daemon::Dir => "bareosdir",
            Daemon::Sd => "bareossd",
        }
    }

    /// What the daemon is called in messages.
    pub fn description(self) -> &'static str {
        match self {
            Daemon::Fd => "file daemon",
            Daemon::Dir => "director",
            Daemon::Sd => "storage daemon",
        }
    }
}

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosted_plugin_apis() {
        assert_eq!(Daemon::from_hello("fd", 10), Some(Daemon::Fd));
        assert_eq!(Daemon::from_hello("dir", 4), Some(Daemon::Dir));
        assert_eq!(Daemon::from_hello("sd", 4), Some(Daemon::Sd));
        for (d, v) in [
            ("fd", 4),
            ("dir", 10),
            ("sd", 5),
            ("", 10),
            ("FD", 10),
            ("tray", 4),
        ] {
            assert_eq!(Daemon::from_hello(d, v), None, "{d} {v}");
        }
        assert_eq!(Daemon::Dir.module(), "bareosdir");
        assert_eq!(Daemon::Sd.name(), "sd");
    }
}
