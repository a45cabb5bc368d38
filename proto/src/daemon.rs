//! The three Bareos daemons whose plugins bareos-sidecar hosts, as both
//! sides name them: the shim tells which one loaded it, the Hello carries
//! it, the runner picks the plugin's module by it.

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Daemon {
    Fd,
    Dir,
    Sd,
}

impl Daemon {
    /// The daemon's name in the Hello.
    pub fn name(self) -> &'static str {
        match self {
            Daemon::Fd => "fd",
            Daemon::Dir => "dir",
            Daemon::Sd => "sd",
        }
    }

    /// Its plugin interface version.
    pub fn interface_version(self) -> u32 {
        match self {
            Daemon::Fd => 10,
            Daemon::Dir | Daemon::Sd => 4,
        }
    }

    /// The daemon of a Hello (`daemon`, `plugin_api_version`), if it is one
    /// of the three at the version bareos-sidecar speaks.
    pub fn from_hello(name: &str, plugin_api_version: u32) -> Option<Daemon> {
        [Daemon::Fd, Daemon::Dir, Daemon::Sd]
            .into_iter()
            .find(|d| d.name() == name && d.interface_version() == plugin_api_version)
    }

    /// Every hosted plugin API, for the refusal of any other.
    pub const SUPPORTED: &'static str = "fd version 10, dir version 4 and sd version 4";

    /// The stock plugin the shim stands in for.
    pub fn plugin(self) -> &'static str {
        match self {
            Daemon::Fd => "python3-fd",
            Daemon::Dir => "python3-dir",
            Daemon::Sd => "python3-sd",
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
        assert_eq!(Daemon::Sd.plugin(), "python3-sd");
    }
}
