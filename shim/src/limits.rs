//! Per-plugin resource limits and the opt-in sandbox, as plain data: the
//! values, where they come from, how they combine, and what a limit hit
//! looks like in the job log.
//!
//! Where the settings come from, in increasing precedence:
//! 1. `[limits]` in `sidecar.toml` (or in the file its `limits_file` names):
//!    the defaults for every plugin;
//! 2. the first `[[plugin]]` section whose `module` glob matches the plugin
//!    string's `module_name`;
//! 3. `sidecar.<key>=<value>` options in the plugin string itself
//!    (`options`).
//!
//! `launch` turns the resolved [`Limits`] into what the parent and the
//! forked child must do; job wall time is enforced by the shim itself
//! (`session`), and when the runner dies of a limit the job's message names
//! it ([`Limits::explain_signal`], [`Limits::annotate`]).

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use serde::Deserialize;
use serde::de::{self, Deserializer, Visitor};

/// The reserved prefix of plugin-string options meant for the shim
/// (`options` parses them; these are the keys it knows).
pub const OPTION_PREFIX: &str = "sidecar.";

/// The keys `sidecar.<key>` may name, in the order messages list them.
pub const STRING_KEYS: [&str; 9] = [
    "memory", "cpu", "cpus", "files", "procs", "nice", "ionice", "walltime", "sandbox",
];

/// What the plugin string that starts a runner says about its limits.
#[derive(Debug, Clone, Copy, Default)]
pub struct Overrides<'a> {
    /// `module_name`, which picks the `[[plugin]]` section.
    pub module: Option<&'a str>,
    /// `sidecar.<key>=<value>` options, key without the prefix, in order.
    pub keys: &'a [(String, String)],
}

// ------------------------------------------------------------------ values

/// A limit's setting: a value, or explicitly none ("unlimited"), which
/// lifts a default for one plugin.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Setting<T> {
    Unlimited,
    Set(T),
}

/// Bytes: `1073741824`, `512K`, `512M`, `1G`, `1.5G`, `2T` (binary units;
/// `MB`, `MiB` spellings accepted), or `unlimited`.
pub fn parse_size(s: &str) -> Result<Setting<u64>, String> {
    let t = s.trim();
    if is_unlimited(t) {
        return Ok(Setting::Unlimited);
    }
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (num, unit) = (&t[..split], t[split..].trim());
    let factor: u64 = match unit.to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kb" | "kib" => 1 << 10,
        "m" | "mb" | "mib" => 1 << 20,
        "g" | "gb" | "gib" => 1 << 30,
        "t" | "tb" | "tib" => 1 << 40,
        _ => {
            return Err(format!(
                "`{s}` is not a size (like 512M, 2G or a number of bytes)"
            ));
        }
    };
    let n: f64 = num
        .parse()
        .map_err(|_| format!("`{s}` is not a size (like 512M, 2G or a number of bytes)"))?;
    let bytes = n * factor as f64;
    if !(bytes >= 1.0 && bytes < u64::MAX as f64) {
        return Err(format!("`{s}` is not a usable size"));
    }
    Ok(Setting::Set(bytes as u64))
}

/// A duration: `90`, `1.5` (seconds), `30s`, `10m`, `2h`, `1d`, or
/// `unlimited`.
pub fn parse_duration(s: &str) -> Result<Setting<Duration>, String> {
    let t = s.trim();
    if is_unlimited(t) {
        return Ok(Setting::Unlimited);
    }
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (num, unit) = (&t[..split], t[split..].trim());
    let factor = match unit.to_ascii_lowercase().as_str() {
        "" | "s" | "sec" | "secs" => 1.0,
        "m" | "min" | "mins" => 60.0,
        "h" | "hour" | "hours" => 3600.0,
        "d" | "day" | "days" => 86400.0,
        _ => {
            return Err(format!(
                "`{s}` is not a duration (like 30s, 10m, 2h or seconds)"
            ));
        }
    };
    let n: f64 = num
        .parse()
        .map_err(|_| format!("`{s}` is not a duration (like 30s, 10m, 2h or seconds)"))?;
    match Duration::try_from_secs_f64(n * factor) {
        Ok(d) if !d.is_zero() => Ok(Setting::Set(d)),
        _ => Err(format!("`{s}` is not a usable duration")),
    }
}

/// A count (open files, processes): a positive integer or `unlimited`.
pub fn parse_count(s: &str) -> Result<Setting<u64>, String> {
    let t = s.trim();
    if is_unlimited(t) {
        return Ok(Setting::Unlimited);
    }
    match t.parse::<u64>() {
        Ok(n) if n > 0 => Ok(Setting::Set(n)),
        _ => Err(format!("`{s}` is not a positive whole number")),
    }
}

/// CPU bandwidth in CPUs (cgroup `cpu.max`): `0.5`, `2`, `150%`.
pub fn parse_cpus(s: &str) -> Result<Setting<f64>, String> {
    let t = s.trim();
    if is_unlimited(t) {
        return Ok(Setting::Unlimited);
    }
    let (num, scale) = match t.strip_suffix('%') {
        Some(p) => (p.trim(), 0.01),
        None => (t, 1.0),
    };
    match num.parse::<f64>() {
        Ok(n) if n * scale >= 0.01 && n * scale <= 1e6 => Ok(Setting::Set(n * scale)),
        _ => Err(format!(
            "`{s}` is not a number of CPUs (like 0.5, 2 or 150%)"
        )),
    }
}

/// A nice value, -20 (most favourable) to 19.
pub fn parse_nice(s: &str) -> Result<Setting<i32>, String> {
    let t = s.trim();
    if is_unlimited(t) {
        return Ok(Setting::Unlimited);
    }
    match t.parse::<i32>() {
        Ok(n) if (-20..=19).contains(&n) => Ok(Setting::Set(n)),
        _ => Err(format!("`{s}` is not a nice value (-20 to 19)")),
    }
}

/// An I/O scheduling class as ionice(1) knows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IoNice {
    Idle,
    BestEffort(u8),
    Realtime(u8),
}

impl IoNice {
    /// The value for ioprio_set(2): class << 13 | level.
    pub fn ioprio(self) -> i32 {
        match self {
            IoNice::Realtime(l) => (1 << 13) | l as i32,
            IoNice::BestEffort(l) => (2 << 13) | l as i32,
            IoNice::Idle => 3 << 13,
        }
    }
}

impl fmt::Display for IoNice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            IoNice::Idle => f.write_str("idle"),
            IoNice::BestEffort(l) => write!(f, "best-effort:{l}"),
            IoNice::Realtime(l) => write!(f, "realtime:{l}"),
        }
    }
}

/// `idle`, `best-effort[:0-7]` (`be`), `realtime[:0-7]` (`rt`), or `none`.
pub fn parse_ionice(s: &str) -> Result<Setting<IoNice>, String> {
    let t = s.trim().to_ascii_lowercase();
    if is_unlimited(&t) {
        return Ok(Setting::Unlimited);
    }
    let (class, level) = match t.split_once([':', '/']) {
        Some((c, l)) => (c.trim(), Some(l.trim())),
        None => (t.as_str(), None),
    };
    let bad = || format!("`{s}` is not an I/O class (idle, best-effort:0-7 or realtime:0-7)");
    let level = match level {
        None => 4,
        Some(l) => match l.parse::<u8>() {
            Ok(n) if n <= 7 => n,
            _ => return Err(bad()),
        },
    };
    match class {
        "idle" | "3" => Ok(Setting::Set(IoNice::Idle)),
        "best-effort" | "besteffort" | "be" | "2" => Ok(Setting::Set(IoNice::BestEffort(level))),
        "realtime" | "rt" | "1" => Ok(Setting::Set(IoNice::Realtime(level))),
        _ => Err(bad()),
    }
}

/// `on`/`off` and the usual spellings.
pub fn parse_switch(s: &str) -> Result<bool, String> {
    match s.trim().to_ascii_lowercase().as_str() {
        "on" | "yes" | "true" | "1" => Ok(true),
        "off" | "no" | "false" | "0" => Ok(false),
        _ => Err(format!("`{s}` is not on or off")),
    }
}

fn is_unlimited(s: &str) -> bool {
    matches!(
        s.to_ascii_lowercase().as_str(),
        "unlimited" | "infinity" | "max" | "none" | "off"
    )
}

/// "256 MiB", "1.5 GiB", "1000 bytes".
pub fn format_size(bytes: u64) -> String {
    const UNITS: [(&str, u64); 4] = [
        ("TiB", 1 << 40),
        ("GiB", 1 << 30),
        ("MiB", 1 << 20),
        ("KiB", 1 << 10),
    ];
    for (name, size) in UNITS {
        if bytes >= size {
            let v = bytes as f64 / size as f64;
            return if bytes.is_multiple_of(size) {
                format!("{} {name}", bytes / size)
            } else {
                format!("{} {name}", (v * 10.0).round() / 10.0)
            };
        }
    }
    format!("{bytes} bytes")
}

/// "30 s", "10 min", "2 h", "0.5 s".
pub fn format_duration(d: Duration) -> String {
    let ms = d.as_millis();
    if !ms.is_multiple_of(1000) {
        return format!("{} s", d.as_secs_f64());
    }
    let s = d.as_secs();
    match s {
        s if s >= 3600 && s % 3600 == 0 => format!("{} h", s / 3600),
        s if s >= 60 && s % 60 == 0 => format!("{} min", s / 60),
        s => format!("{s} s"),
    }
}

// ---------------------------------------------------------- configuration

/// One settings table: `[limits]` or a `[[plugin]]` section. Every key is
/// optional; a section's key replaces the default's.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Settings {
    /// Only in `[[plugin]]`: the glob matched against `module_name`.
    pub module: Option<String>,
    pub memory: Option<Size>,
    pub cpu: Option<Secs>,
    pub cpus: Option<Cpus>,
    pub files: Option<Count>,
    pub procs: Option<Count>,
    pub nice: Option<Nice>,
    pub ionice: Option<IoClass>,
    pub walltime: Option<Secs>,
    pub sandbox: Option<bool>,
    pub user: Option<String>,
    pub group: Option<String>,
    pub read_paths: Option<Vec<PathBuf>>,
    pub write_paths: Option<Vec<PathBuf>>,
    pub env: Option<Vec<String>>,
}

/// The limits part of the configuration file(s).
#[derive(Debug, Clone, Default)]
pub struct LimitsConfig {
    pub defaults: Settings,
    pub plugins: Vec<Settings>,
    /// Where the cgroups go: `None` = automatic (the daemon's own cgroup),
    /// `Some(None)` = never, `Some(Some(dir))` = under `dir`.
    pub cgroup: Option<Option<PathBuf>>,
    /// The file the settings came from, for messages.
    pub source: String,
}

impl LimitsConfig {
    /// Checks what serde cannot: `module` exactly where it belongs.
    pub fn validate(&self) -> Result<(), String> {
        if self.defaults.module.is_some() {
            return Err(format!(
                "{}: [limits]: `module` belongs in a [[plugin]] section",
                self.source
            ));
        }
        for (i, p) in self.plugins.iter().enumerate() {
            match &p.module {
                Some(m) if !m.is_empty() => {}
                _ => {
                    return Err(format!(
                        "{}: [[plugin]] section #{}: `module` (a module_name glob) is required",
                        self.source,
                        i + 1
                    ));
                }
            }
        }
        Ok(())
    }

    /// The first `[[plugin]]` section whose glob matches `module_name`.
    pub fn section_for(&self, module_name: Option<&str>) -> Option<&Settings> {
        let name = module_name?;
        self.plugins
            .iter()
            .find(|p| p.module.as_deref().is_some_and(|g| glob_match(g, name)))
    }
}

/// `*` matches any run of characters, `?` one character; everything else
/// itself.
pub fn glob_match(pattern: &str, name: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let n: Vec<char> = name.chars().collect();
    let (mut pi, mut ni) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ni < n.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == n[ni]) {
            pi += 1;
            ni += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some((pi, ni));
            pi += 1;
        } else if let Some((sp, sn)) = star {
            pi = sp + 1;
            ni = sn + 1;
            star = Some((sp, sn + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|&c| c == '*')
}

macro_rules! setting_type {
    ($name:ident, $inner:ty, $parse:ident, $what:literal) => {
        #[derive(Debug, Clone, Copy, PartialEq)]
        pub struct $name(pub Setting<$inner>);

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                struct V;
                impl<'de> Visitor<'de> for V {
                    type Value = $name;
                    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                        f.write_str($what)
                    }
                    fn visit_str<E: de::Error>(self, s: &str) -> Result<$name, E> {
                        $parse(s).map($name).map_err(E::custom)
                    }
                    fn visit_i64<E: de::Error>(self, n: i64) -> Result<$name, E> {
                        self.visit_str(&n.to_string())
                    }
                    fn visit_u64<E: de::Error>(self, n: u64) -> Result<$name, E> {
                        self.visit_str(&n.to_string())
                    }
                    fn visit_f64<E: de::Error>(self, n: f64) -> Result<$name, E> {
                        self.visit_str(&n.to_string())
                    }
                }
                d.deserialize_any(V)
            }
        }
    };
}

setting_type!(Size, u64, parse_size, "a size like \"512M\" or \"2G\"");
setting_type!(
    Secs,
    Duration,
    parse_duration,
    "a duration like \"30s\", \"10m\" or seconds"
);
setting_type!(Count, u64, parse_count, "a positive whole number");
setting_type!(Cpus, f64, parse_cpus, "a number of CPUs like 0.5");
setting_type!(Nice, i32, parse_nice, "a nice value from -20 to 19");
setting_type!(
    IoClass,
    IoNice,
    parse_ionice,
    "an I/O class like \"idle\" or \"best-effort:7\""
);

// ------------------------------------------------------------- resolution

/// One limit in force and where it was set, for messages.
#[derive(Debug, Clone, PartialEq)]
pub struct Limit<T> {
    pub value: T,
    /// `sidecar.cpu` (plugin string) or `cpu in /etc/.../sidecar.toml [limits]`.
    pub origin: String,
}

/// What the sandbox of one runner looks like.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SandboxSpec {
    pub user: Option<String>,
    pub group: Option<String>,
    pub read_paths: Vec<PathBuf>,
    pub write_paths: Vec<PathBuf>,
    /// Allow-list of environment variable names (`*` globs).
    pub env: Vec<String>,
    pub origin: String,
}

/// The limits of one runner, resolved.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Limits {
    pub memory: Option<Limit<u64>>,
    pub cpu: Option<Limit<Duration>>,
    pub cpus: Option<Limit<f64>>,
    pub files: Option<Limit<u64>>,
    pub procs: Option<Limit<u64>>,
    pub nice: Option<Limit<i32>>,
    pub ionice: Option<Limit<IoNice>>,
    pub walltime: Option<Limit<Duration>>,
    pub sandbox: Option<SandboxSpec>,
}

/// The default environment allow-list of a sandboxed runner.
pub const DEFAULT_ENV: [&str; 6] = ["PATH", "LANG", "LANGUAGE", "LC_*", "TZ", "SIDECAR_LOG"];

impl Limits {
    /// Layers the defaults, the first matching `[[plugin]]` section and the
    /// plugin string's `sidecar.*` options (already checked by
    /// [`parse_command`]).
    pub fn resolve(config: &LimitsConfig, cmd: Overrides<'_>) -> Result<Limits, String> {
        let module = cmd.module;
        let section = config.section_for(module);
        let d = &config.defaults;
        let src = &config.source;
        let here = |key: &str, from_section: bool| -> String {
            match (from_section, section.and_then(|s| s.module.as_deref())) {
                (true, Some(glob)) => format!("{key} in {src} [[plugin]] module = \"{glob}\""),
                _ => format!("{key} in {src} [limits]"),
            }
        };
        // The string's value (last one wins, as for python3-fd's options).
        let from_string = |key: &str| -> Option<&str> {
            cmd.keys
                .iter()
                .rev()
                .find(|(k, _)| k == key)
                .map(|(_, v)| v.as_str())
        };
        macro_rules! layer {
            ($key:literal, $field:ident, $parse:ident) => {{
                let file = match section.and_then(|s| s.$field) {
                    Some(v) => Some((v.0, here($key, true))),
                    None => d.$field.map(|v| (v.0, here($key, false))),
                };
                let chosen = match from_string($key) {
                    Some(v) => Some(($parse(v)?, format!("{OPTION_PREFIX}{}", $key))),
                    None => file,
                };
                match chosen {
                    Some((Setting::Set(value), origin)) => Some(Limit { value, origin }),
                    _ => None,
                }
            }};
        }
        let mut limits = Limits {
            memory: layer!("memory", memory, parse_size),
            cpu: layer!("cpu", cpu, parse_duration),
            cpus: layer!("cpus", cpus, parse_cpus),
            files: layer!("files", files, parse_count),
            procs: layer!("procs", procs, parse_count),
            nice: layer!("nice", nice, parse_nice),
            ionice: layer!("ionice", ionice, parse_ionice),
            walltime: layer!("walltime", walltime, parse_duration),
            sandbox: None,
        };
        let sandbox_on = match from_string("sandbox") {
            Some(v) => Some((parse_switch(v)?, format!("{OPTION_PREFIX}sandbox"))),
            None => match section.and_then(|s| s.sandbox) {
                Some(b) => Some((b, here("sandbox", true))),
                None => d.sandbox.map(|b| (b, here("sandbox", false))),
            },
        };
        if let Some((true, origin)) = sandbox_on {
            let pick = |f: fn(&Settings) -> Option<&Vec<PathBuf>>| -> Vec<PathBuf> {
                section
                    .and_then(f)
                    .or_else(|| f(d))
                    .cloned()
                    .unwrap_or_default()
            };
            limits.sandbox = Some(SandboxSpec {
                user: section
                    .and_then(|s| s.user.clone())
                    .or_else(|| d.user.clone()),
                group: section
                    .and_then(|s| s.group.clone())
                    .or_else(|| d.group.clone()),
                read_paths: pick(|s| s.read_paths.as_ref()),
                write_paths: pick(|s| s.write_paths.as_ref()),
                env: section
                    .and_then(|s| s.env.clone())
                    .or_else(|| d.env.clone())
                    .unwrap_or_else(|| DEFAULT_ENV.iter().map(|s| s.to_string()).collect()),
                origin,
            });
        }
        Ok(limits)
    }

    /// One line for the debug log: what is in force.
    pub fn summary(&self) -> String {
        let mut parts = Vec::new();
        if let Some(l) = &self.memory {
            parts.push(format!("memory {} ({})", format_size(l.value), l.origin));
        }
        if let Some(l) = &self.cpu {
            parts.push(format!("cpu {} ({})", format_duration(l.value), l.origin));
        }
        if let Some(l) = &self.cpus {
            parts.push(format!("cpus {} ({})", l.value, l.origin));
        }
        if let Some(l) = &self.files {
            parts.push(format!("files {} ({})", l.value, l.origin));
        }
        if let Some(l) = &self.procs {
            parts.push(format!("procs {} ({})", l.value, l.origin));
        }
        if let Some(l) = &self.nice {
            parts.push(format!("nice {} ({})", l.value, l.origin));
        }
        if let Some(l) = &self.ionice {
            parts.push(format!("ionice {} ({})", l.value, l.origin));
        }
        if let Some(l) = &self.walltime {
            parts.push(format!(
                "walltime {} ({})",
                format_duration(l.value),
                l.origin
            ));
        }
        if let Some(s) = &self.sandbox {
            parts.push(format!(
                "sandbox on ({}; user {}, read {:?}, write {:?})",
                s.origin,
                s.user.as_deref().unwrap_or("unchanged"),
                s.read_paths,
                s.write_paths
            ));
        }
        if parts.is_empty() {
            "none besides core dumps off".into()
        } else {
            parts.join(", ")
        }
    }

    /// Explains a runner killed by `signal` with the limit that plausibly
    /// did it; `oom_killed`: its cgroup recorded an OOM kill.
    pub fn explain_signal(&self, signal: i32, oom_killed: bool) -> Option<String> {
        let mem = self.memory.as_ref();
        match signal {
            libc::SIGXCPU => self.cpu.as_ref().map(|l| {
                format!(
                    "CPU time limit of {} ({}) exceeded",
                    format_duration(l.value),
                    l.origin
                )
            }),
            libc::SIGKILL if oom_killed => Some(match mem {
                Some(l) => format!(
                    "memory limit of {} ({}) exceeded: killed by the kernel's OOM killer in its cgroup",
                    format_size(l.value),
                    l.origin
                ),
                None => "killed by the kernel's OOM killer in its cgroup".into(),
            }),
            libc::SIGKILL => self.cpu.as_ref().map(|l| {
                format!(
                    "plausibly the CPU time limit of {} ({}): the kernel sends SIGKILL at its hard limit",
                    format_duration(l.value),
                    l.origin
                )
            }),
            libc::SIGABRT | libc::SIGSEGV | libc::SIGBUS => mem.map(|l| {
                format!(
                    "plausibly the memory limit of {} ({}): an allocation failed",
                    format_size(l.value),
                    l.origin
                )
            }),
            libc::SIGALRM => self.walltime.as_ref().map(|l| {
                format!(
                    "wall time limit of {} ({}) exceeded",
                    format_duration(l.value),
                    l.origin
                )
            }),
            _ => None,
        }
    }

    /// Explains a runner that exited with `code` 127: the dynamic loader
    /// could not load a library it needs.
    pub fn explain_exit(&self, code: i32) -> Option<String> {
        if code != 127 {
            return None;
        }
        let mut why = Vec::new();
        if let Some(s) = &self.sandbox {
            why.push(format!(
                "the sandbox ({}) lets it read only the system directories and its read_paths; \
                 add the directory of its Python (the prefix of libpython) to read_paths",
                s.origin
            ));
        }
        if let Some(l) = &self.files {
            why.push(format!(
                "plausibly the open files limit of {} ({}) is too low for it to start",
                l.value, l.origin
            ));
        }
        (!why.is_empty()).then(|| {
            format!(
                "it could not load a library it needs: {}",
                why.join("; or ")
            )
        })
    }

    /// The message when the job's wall time is used up.
    pub fn walltime_exceeded(&self) -> Option<String> {
        self.walltime.as_ref().map(|l| {
            format!(
                "wall time limit of {} ({}) exceeded",
                format_duration(l.value),
                l.origin
            )
        })
    }

    /// A hint to append to a job message from the runner (a Python
    /// traceback) that shows the plugin ran into one of its limits.
    pub fn annotate(&self, text: &[u8]) -> Option<String> {
        let has = |needle: &str| text.windows(needle.len()).any(|w| w == needle.as_bytes());
        let mut hints = Vec::new();
        if let Some(l) = &self.memory
            && (has("MemoryError") || has("Cannot allocate memory") || has("[Errno 12]"))
        {
            hints.push(format!(
                "the plugin's memory limit is {} ({})",
                format_size(l.value),
                l.origin
            ));
        }
        if let Some(l) = &self.files
            && (has("Too many open files") || has("[Errno 24]"))
        {
            hints.push(format!(
                "the plugin's open files limit is {} ({})",
                l.value, l.origin
            ));
        }
        if let Some(l) = &self.procs
            && (has("Resource temporarily unavailable")
                || has("[Errno 11]")
                || has("can't start new thread"))
        {
            hints.push(format!(
                "the plugin's process limit is {} ({})",
                l.value, l.origin
            ));
        }
        if let Some(s) = &self.sandbox
            && (has("Permission denied") || has("[Errno 13]") || has("[Errno 1]"))
        {
            let writable = if s.write_paths.is_empty() {
                "it may write nowhere (write_paths is empty)".to_string()
            } else {
                let paths: Vec<String> = s
                    .write_paths
                    .iter()
                    .map(|p| p.display().to_string())
                    .collect();
                format!("it may write only beneath {}", paths.join(", "))
            };
            hints.push(format!(
                "the plugin runs in a sandbox ({}): {writable}",
                s.origin
            ));
        }
        (!hints.is_empty()).then(|| format!("python3-fd (sidecar): {}", hints.join("; ")))
    }
}

#[cfg(test)]
mod tests;
