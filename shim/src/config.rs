//! Where the runner is and how long the shim waits for it.
//!
//! Read from `sidecar.toml` beside the shim (the daemon's plugin directory)
//! at every job start, so an admin can change it without restarting the
//! daemon. Without the file the defaults apply: the runner is expected at
//! `<plugin dir>/sidecar/sidecar-runner`, which keeps an installation
//! relocatable.

use std::ffi::CStr;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

/// Name of the optional configuration file beside the shim.
pub const CONFIG_FILE: &str = "sidecar.toml";

#[derive(Debug, Clone)]
pub struct Config {
    /// The runner executable to start for each plugin instance.
    pub runner: PathBuf,
    pub deadlines: Deadlines,
    /// Where the configuration was read from, for messages.
    pub source: Option<PathBuf>,
}

/// How long each kind of call may take before the runner counts as hung.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Deadlines {
    /// Runner start until the handshake is answered (seconds).
    pub startup: f64,
    /// handlePluginEvent, newPlugin.
    pub event: f64,
    /// Per-file calls: startBackupFile, endBackupFile, createFile, ...
    pub file: f64,
    /// pluginIO.
    pub io: f64,
    /// freePlugin, including the runner's exit.
    pub shutdown: f64,
}

impl Default for Deadlines {
    fn default() -> Self {
        Deadlines {
            startup: 60.0,
            event: 1800.0,
            file: 600.0,
            io: 600.0,
            shutdown: 30.0,
        }
    }
}

impl Deadlines {
    pub fn get(secs: f64) -> Duration {
        Duration::try_from_secs_f64(secs).unwrap_or(Duration::from_secs(60))
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct File {
    runner: Option<PathBuf>,
    deadlines: Deadlines,
}

impl Config {
    /// The configuration for a job starting now.
    pub fn load() -> Result<Config, String> {
        let dir = shim_dir().ok_or("cannot determine the shim's own directory")?;
        Self::load_from(&dir)
    }

    /// Reads `sidecar.toml` in `dir` if it exists; relative runner paths are
    /// relative to `dir`.
    pub fn load_from(dir: &Path) -> Result<Config, String> {
        let path = dir.join(CONFIG_FILE);
        let (file, source) = match std::fs::read_to_string(&path) {
            Ok(text) => {
                let file: File = toml::from_str(&text)
                    .map_err(|e| format!("{}: {}", path.display(), e.message()))?;
                (file, Some(path))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => (File::default(), None),
            Err(e) => return Err(format!("{}: {e}", path.display())),
        };
        let runner = match file.runner {
            Some(p) => dir.join(p),
            None => dir.join("sidecar").join("sidecar-runner"),
        };
        Ok(Config {
            runner,
            deadlines: file.deadlines,
            source,
        })
    }
}

/// The directory the shim was loaded from (the daemon's plugin directory).
fn shim_dir() -> Option<PathBuf> {
    let mut info: libc::Dl_info = unsafe { std::mem::zeroed() };
    let anchor = shim_dir as *const libc::c_void;
    // SAFETY: dladdr only inspects the address; `info` is a valid out-pointer.
    if unsafe { libc::dladdr(anchor, &mut info) } == 0 || info.dli_fname.is_null() {
        return None;
    }
    // SAFETY: dladdr returned a NUL-terminated path owned by the loader.
    let file = unsafe { CStr::from_ptr(info.dli_fname) };
    let path = PathBuf::from(std::ffi::OsStr::from_bytes(file.to_bytes()));
    let path = path.canonicalize().unwrap_or(path);
    path.parent().map(Path::to_path_buf)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_without_a_file() {
        let dir = std::env::temp_dir().join(format!("shimcfg-none-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let c = Config::load_from(&dir).unwrap();
        assert_eq!(c.runner, dir.join("sidecar/sidecar-runner"));
        assert!(c.source.is_none());
        assert_eq!(c.deadlines.file, 600.0);
    }

    #[test]
    fn file_overrides_and_rejects_typos() {
        let dir = std::env::temp_dir().join(format!("shimcfg-file-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(
            dir.join(CONFIG_FILE),
            "runner = \"/opt/r\"\n[deadlines]\nio = 2.5\n",
        )
        .unwrap();
        let c = Config::load_from(&dir).unwrap();
        assert_eq!(c.runner, PathBuf::from("/opt/r"));
        assert_eq!(c.deadlines.io, 2.5);
        assert_eq!(c.deadlines.event, 1800.0);
        std::fs::write(dir.join(CONFIG_FILE), "runer = \"/opt/r\"\n").unwrap();
        let err = Config::load_from(&dir).unwrap_err();
        assert!(err.contains("runer"), "{err}");
    }
}
