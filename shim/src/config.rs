//! Where the runner is and how long the shim waits for it.
//!
//! Read from `sidecar.toml` beside the shim (the daemon's plugin directory)
//! at every job start, so an admin can change it without restarting the
//! daemon. Without the file the defaults apply: the runner is expected at
//! `<plugin dir>/sidecar/sidecar-runner`, which keeps an installation
//! relocatable.
//!
//! The file is the first of (`Config::search`):
//! 1. the one the daemon's environment variable `BAREOS_SIDECAR_CONFIG`
//!    names (it must exist);
//! 2. `sidecar.toml` beside the shim;
//! 3. `/etc/bareos/sidecar.toml` (where the Debian package puts it).
//!
//! Relative paths in it are relative to the plugin directory, wherever the
//! file is. The runner's limits and sandbox (`[limits]`, `[[plugin]]`,
//! `cgroup`; see `limits`) are in the same file, or in the one its
//! `limits_file` key names.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

use crate::limits::{LimitsConfig, Settings};

/// Name of the optional configuration file beside the shim.
pub const CONFIG_FILE: &str = "sidecar.toml";

/// The longest a waiting side polls the call channel before it sleeps (µs);
/// within it each side polls about twice as long as its peer usually takes
/// (`sidecar_proto::pacing`), so this only bounds calls that work longer.
const DEFAULT_BUSY_WAIT_US: u32 = 500;
const MAX_BUSY_WAIT_US: u32 = 10_000;

/// The daemon's environment variable that names the configuration file.
pub const CONFIG_ENV: &str = "BAREOS_SIDECAR_CONFIG";

/// The system-wide configuration file, read when there is none beside the
/// shim.
pub const SYSTEM_CONFIG: &str = "/etc/bareos/sidecar.toml";

#[derive(Debug, Clone)]
pub struct Config {
    /// The runner executable to start for each plugin instance.
    pub runner: PathBuf,
    pub deadlines: Deadlines,
    /// The longest a thread waiting on the call channel polls before it
    /// sleeps.
    pub busy_wait: Duration,
    /// Whether the runner's serving thread follows the calling daemon
    /// thread from CPU to CPU (`sidecar_proto::pacing`).
    pub follow_cpu: bool,
    /// The shim's own directory (the daemon's plugin directory).
    pub plugin_dir: PathBuf,
    /// Where the configuration was read from, for messages.
    pub source: Option<PathBuf>,
    /// The runner's limits and sandbox (`limits`).
    pub limits: LimitsConfig,
    /// Whether plugin strings may ask for debugging.
    pub debug: Debug,
}

/// `[debug]`: debugging runs whatever the person at the other end types,
/// and the plugin string comes from the director, so every debug key of a
/// plugin string (`options::DEBUG_KEYS`) is refused unless the client's own
/// configuration allows it.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Debug {
    pub allow: bool,
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
    /// Microseconds; see `deploy/sidecar.toml.example`.
    busy_wait_us: Option<u32>,
    follow_cpu: Option<bool>,
    /// Where `[limits]`/`[[plugin]]` are instead (relative: to the plugin
    /// directory).
    limits_file: Option<PathBuf>,
    // As in `LimitsFile` (serde's flatten cannot deny unknown fields).
    limits: Settings,
    plugin: Vec<Settings>,
    cgroup: Option<String>,
    debug: Debug,
}

/// The limits part, in `sidecar.toml` or in its `limits_file`.
#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct LimitsFile {
    limits: Settings,
    plugin: Vec<Settings>,
    /// "auto" (default), "off", or the cgroup v2 directory to create the
    /// runners' cgroups in.
    cgroup: Option<String>,
}

impl Config {
    /// The configuration for a job starting now.
    pub fn load() -> Result<Config, String> {
        let dir =
            crate::ffi::location::shim_dir().ok_or("cannot determine the shim's own directory")?;
        let env = std::env::var_os(CONFIG_ENV).filter(|v| !v.is_empty());
        Self::search(
            &dir,
            env.as_deref().map(Path::new),
            Path::new(SYSTEM_CONFIG),
        )
    }

    /// The configuration for the plugin directory `dir`, from the first of:
    /// the file `named` (by `BAREOS_SIDECAR_CONFIG`; relative: to `dir`;
    /// must exist), `sidecar.toml` in `dir`, the file `system`; the
    /// defaults when neither of the last two exists. A file that exists but
    /// cannot be read or parsed is an error, never skipped.
    pub fn search(dir: &Path, named: Option<&Path>, system: &Path) -> Result<Config, String> {
        if let Some(path) = named {
            return Self::load_file(dir, &dir.join(path), true);
        }
        let beside = Self::load_from(dir)?;
        if beside.source.is_some() {
            return Ok(beside);
        }
        Self::load_file(dir, system, false)
    }

    /// Reads `sidecar.toml` in `dir` if it exists; relative runner paths are
    /// relative to `dir`.
    pub fn load_from(dir: &Path) -> Result<Config, String> {
        Self::load_file(dir, &dir.join(CONFIG_FILE), false)
    }

    /// Reads `path` (which must exist when `required`) for the plugin
    /// directory `dir`.
    pub fn load_file(dir: &Path, path: &Path, required: bool) -> Result<Config, String> {
        let (file, source) = match std::fs::read_to_string(path) {
            Ok(text) => (parse::<File>(path, &text)?, Some(path.to_path_buf())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && !required => {
                (File::default(), None)
            }
            Err(e) => return Err(format!("{}: {e}", path.display())),
        };
        let runner = match file.runner {
            Some(p) => dir.join(p),
            None => dir.join("sidecar").join("sidecar-runner"),
        };
        let (limits_file, limits_source) = match &file.limits_file {
            Some(p) => {
                if !file.plugin.is_empty() || file.cgroup.is_some() || !is_empty(&file.limits) {
                    return Err(format!(
                        "{}: limits_file is set, so [limits], [[plugin]] and cgroup belong in {}",
                        path.display(),
                        p.display()
                    ));
                }
                let p = dir.join(p);
                let text =
                    std::fs::read_to_string(&p).map_err(|e| format!("{}: {e}", p.display()))?;
                (parse::<LimitsFile>(&p, &text)?, p.display().to_string())
            }
            None => (
                LimitsFile {
                    limits: file.limits,
                    plugin: file.plugin,
                    cgroup: file.cgroup,
                },
                source
                    .as_ref()
                    .map_or_else(|| CONFIG_FILE.to_string(), |p| p.display().to_string()),
            ),
        };
        let cgroup = match limits_file.cgroup.as_deref() {
            None | Some("auto") => None,
            Some("off") => Some(None),
            Some(p) if p.starts_with('/') => Some(Some(PathBuf::from(p))),
            Some(other) => {
                return Err(format!(
                    "{limits_source}: cgroup = \"{other}\": expected \"auto\", \"off\" or an absolute cgroup v2 directory"
                ));
            }
        };
        let limits = LimitsConfig {
            defaults: limits_file.limits,
            plugins: limits_file.plugin,
            cgroup,
            source: limits_source,
        };
        limits.validate()?;
        let busy_wait_us = file.busy_wait_us.unwrap_or(DEFAULT_BUSY_WAIT_US);
        if busy_wait_us > MAX_BUSY_WAIT_US {
            return Err(format!(
                "{}: busy_wait_us = {busy_wait_us} is more than {MAX_BUSY_WAIT_US} (10 ms)",
                path.display()
            ));
        }
        Ok(Config {
            runner,
            deadlines: file.deadlines,
            busy_wait: Duration::from_micros(busy_wait_us.into()),
            follow_cpu: file.follow_cpu.unwrap_or(true),
            plugin_dir: dir.to_path_buf(),
            source,
            limits,
            debug: file.debug,
        })
    }
}

fn is_empty(s: &Settings) -> bool {
    format!("{s:?}") == format!("{:?}", Settings::default())
}

/// Parses a TOML file; errors name the file, the line and the key.
fn parse<T: serde::de::DeserializeOwned>(path: &Path, text: &str) -> Result<T, String> {
    toml::from_str(text).map_err(|e| {
        let line = e.span().map(|span| {
            let start = span.start.min(text.len());
            let number = text[..start].matches('\n').count() + 1;
            let content = text.lines().nth(number - 1).unwrap_or("").trim();
            (number, content.to_string())
        });
        match line {
            Some((n, content)) if !content.is_empty() => {
                format!("{}:{n}: {} (in `{content}`)", path.display(), e.message())
            }
            Some((n, _)) => format!("{}:{n}: {}", path.display(), e.message()),
            None => format!("{}: {}", path.display(), e.message()),
        }
    })
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
        assert_eq!(c.busy_wait, Duration::from_micros(500));
        assert!(c.follow_cpu);
    }

    #[test]
    fn search_order_env_then_beside_then_system() {
        let dir = scratch("search");
        let etc = scratch("search-etc");
        let system = etc.join("sidecar.toml");
        let named = etc.join("named.toml");
        // Nothing anywhere: the defaults.
        let c = Config::search(&dir, None, &system).unwrap();
        assert!(c.source.is_none());
        assert_eq!(c.runner, dir.join("sidecar/sidecar-runner"));
        // Only the system file.
        std::fs::write(&system, "runner = \"system-runner\"\n").unwrap();
        let c = Config::search(&dir, None, &system).unwrap();
        assert_eq!(c.source.as_deref(), Some(system.as_path()));
        // Relative paths stay relative to the plugin directory.
        assert_eq!(c.runner, dir.join("system-runner"));
        // The file beside the shim wins over the system file.
        std::fs::write(dir.join(CONFIG_FILE), "runner = \"/beside\"\n").unwrap();
        let c = Config::search(&dir, None, &system).unwrap();
        assert_eq!(c.source, Some(dir.join(CONFIG_FILE)));
        assert_eq!(c.runner, PathBuf::from("/beside"));
        // The environment variable wins over both, and must name a file.
        std::fs::write(&named, "runner = \"/named\"\n").unwrap();
        let c = Config::search(&dir, Some(&named), &system).unwrap();
        assert_eq!(c.source.as_deref(), Some(named.as_path()));
        assert_eq!(c.runner, PathBuf::from("/named"));
        let e = Config::search(&dir, Some(&etc.join("missing.toml")), &system).unwrap_err();
        assert!(e.contains("missing.toml"), "{e}");
        // A broken file is an error, not a reason to look further.
        std::fs::write(dir.join(CONFIG_FILE), "runer = 1\n").unwrap();
        let e = Config::search(&dir, None, &system).unwrap_err();
        assert!(e.contains("runer"), "{e}");
        std::fs::remove_file(dir.join(CONFIG_FILE)).unwrap();
        std::fs::write(&system, "[deadlines]\nio = \"soon\"\n").unwrap();
        let e = Config::search(&dir, None, &system).unwrap_err();
        assert!(e.starts_with(&system.display().to_string()), "{e}");
        std::fs::remove_dir_all(dir).unwrap();
        std::fs::remove_dir_all(etc).unwrap();
    }

    #[test]
    fn busy_wait_is_bounded() {
        let dir = scratch("busy");
        std::fs::write(dir.join(CONFIG_FILE), "busy_wait_us = 0\n").unwrap();
        assert_eq!(Config::load_from(&dir).unwrap().busy_wait, Duration::ZERO);
        std::fs::write(dir.join(CONFIG_FILE), "busy_wait_us = 20000\n").unwrap();
        let err = Config::load_from(&dir).unwrap_err();
        assert!(
            err.contains("busy_wait_us = 20000 is more than 10000"),
            "{err}"
        );
        std::fs::remove_dir_all(dir).unwrap();
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

    fn scratch(tag: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("shimcfg-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn limits_and_plugin_sections_are_read() {
        let dir = scratch("limits");
        std::fs::write(
            dir.join(CONFIG_FILE),
            "cgroup = \"off\"\n[limits]\nmemory = \"2G\"\ncpu = \"10m\"\n\n\
             [[plugin]]\nmodule = \"bareos-fd-*\"\nsandbox = true\nwrite_paths = [\"/var/tmp\"]\n",
        )
        .unwrap();
        let c = Config::load_from(&dir).unwrap();
        assert_eq!(c.limits.plugins.len(), 1);
        assert_eq!(c.limits.cgroup, Some(None));
        assert_eq!(c.limits.source, dir.join(CONFIG_FILE).display().to_string());
        let string = crate::options::parse_command(b"python3:module_name=bareos-fd-x").unwrap();
        let l = crate::limits::Limits::resolve(&c.limits, string.overrides()).unwrap();
        assert_eq!(l.memory.unwrap().value, 2 << 30);
        assert_eq!(l.cpu.unwrap().value, Duration::from_secs(600));
        assert!(l.sandbox.is_some());
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn limit_errors_name_the_file_the_line_and_the_key() {
        let dir = scratch("limerr");
        let path = dir.join(CONFIG_FILE);
        let err = |text: &str| {
            std::fs::write(&path, text).unwrap();
            Config::load_from(&dir).unwrap_err()
        };
        let e = err("[limits]\nmemory = \"1G\"\nmemroy = \"2G\"\n");
        assert!(
            e.starts_with(&format!("{}:3: unknown field `memroy`", path.display())),
            "{e}"
        );
        assert!(e.contains("(in `memroy = \"2G\"`)"), "{e}");
        let e = err("[limits]\ncpu = \"soon\"\n");
        assert!(e.contains(":2: `soon` is not a duration"), "{e}");
        assert!(e.contains("cpu = \"soon\""), "{e}");
        let e = err("[[plugin]]\nmemory = \"1G\"\n");
        assert!(e.contains("[[plugin]] section #1: `module`"), "{e}");
        let e = err("[limits]\nmodule = \"x\"\n");
        assert!(
            e.contains("[limits]: `module` belongs in a [[plugin]] section"),
            "{e}"
        );
        let e = err("cgroup = \"sometimes\"\n");
        assert!(e.contains("cgroup = \"sometimes\": expected"), "{e}");
        let e = err("[limits]\nnice = 40\n");
        assert!(e.contains("`40` is not a nice value"), "{e}");
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn a_limits_file_holds_the_limits_instead() {
        let dir = scratch("limfile");
        std::fs::write(dir.join(CONFIG_FILE), "limits_file = \"limits.toml\"\n").unwrap();
        std::fs::write(dir.join("limits.toml"), "[limits]\nfiles = 100\n").unwrap();
        let c = Config::load_from(&dir).unwrap();
        assert_eq!(
            c.limits.defaults.files.unwrap().0,
            crate::limits::Setting::Set(100)
        );
        assert_eq!(
            c.limits.source,
            dir.join("limits.toml").display().to_string()
        );
        std::fs::write(dir.join("limits.toml"), "[limits]\nfles = 100\n").unwrap();
        let e = Config::load_from(&dir).unwrap_err();
        assert!(e.contains("limits.toml:2: unknown field `fles`"), "{e}");
        std::fs::write(
            dir.join(CONFIG_FILE),
            "limits_file = \"limits.toml\"\n[limits]\nfiles = 1\n",
        )
        .unwrap();
        let e = Config::load_from(&dir).unwrap_err();
        assert!(e.contains("limits_file is set, so [limits]"), "{e}");
        std::fs::write(dir.join(CONFIG_FILE), "limits_file = \"missing.toml\"\n").unwrap();
        let e = Config::load_from(&dir).unwrap_err();
        assert!(e.contains("missing.toml"), "{e}");
        // A file named by BAREOS_SIDECAR_CONFIG must exist.
        let e = Config::load_file(&dir, &dir.join("nope.toml"), true).unwrap_err();
        assert!(e.contains("nope.toml"), "{e}");
        std::fs::remove_dir_all(dir).unwrap();
    }

    /// deploy/sidecar.toml.example with every setting uncommented (except
    /// limits_file, which names a file elsewhere) is a valid configuration.
    #[test]
    fn the_example_file_is_valid_when_uncommented() {
        let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("../deploy/sidecar.toml.example");
        let text = std::fs::read_to_string(example).unwrap();
        let mut sections = 0;
        let uncommented: String = text
            .lines()
            .map(|l| match l.strip_prefix("# ") {
                Some(rest)
                    if rest == "[[plugin]]"
                        || (rest.split_once(" = ").is_some_and(|(k, _)| {
                            !k.is_empty() && k.chars().all(|c| c.is_ascii_lowercase() || c == '_')
                        }) && !rest.starts_with("limits_file")) =>
                {
                    sections += usize::from(rest == "[[plugin]]");
                    format!("{rest}\n")
                }
                _ => format!("{l}\n"),
            })
            .collect();
        assert_eq!(sections, 2);
        let dir = scratch("example");
        std::fs::write(dir.join(CONFIG_FILE), &uncommented).unwrap();
        let c = Config::load_from(&dir).unwrap_or_else(|e| panic!("{e}\n{uncommented}"));
        assert_eq!(c.limits.plugins.len(), 2);
        assert_eq!(c.limits.defaults.user.as_deref(), Some("bareos"));
        assert!(c.limits.defaults.memory.is_some() && c.limits.defaults.walltime.is_some());
        assert_eq!(c.limits.cgroup, None);
        std::fs::remove_dir_all(dir).unwrap();
    }
}
