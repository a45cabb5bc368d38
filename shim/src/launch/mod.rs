//! Starting a runner under its limits: everything the daemon must prepare
//! before the fork (cgroup, Landlock ruleset, user, environment, rlimits;
//! [`prepare`]), what the forked child does before exec (`child`), the
//! sandbox's parts (`sandbox`, `cgroup`) and the child process itself
//! (`process`).

pub mod cgroup;
mod child;
pub mod process;
pub mod sandbox;

use std::path::{Path, PathBuf};

use crate::error::Error;
use crate::limits::{Limits, LimitsConfig, format_size};
use crate::options::Command;

pub use child::{ChildSetup, clamp_to_hard_limits, high_fd};

/// Headroom between RLIMIT_CPU's soft limit (SIGXCPU) and its hard limit
/// (SIGKILL), for a runner that ignores SIGXCPU.
const CPU_HARD_EXTRA: u64 = 5;

/// Everything needed to start one runner under its limits.
pub struct Launch {
    pub limits: Limits,
    pub child: ChildSetup,
    /// Set when the sandbox replaces the environment.
    pub env: Option<Vec<(std::ffi::OsString, std::ffi::OsString)>>,
    pub cgroup: Option<cgroup::Cgroup>,
    /// The Landlock ruleset; the child's copy is applied, ours closed after
    /// the spawn.
    pub ruleset: Option<std::os::fd::OwnedFd>,
    /// For the job log, once: limits that could not be applied as asked.
    pub warnings: Vec<String>,
}

impl Launch {
    /// No limits besides core dumps off (for tests and callers without a
    /// configuration).
    pub fn unlimited() -> Launch {
        Launch {
            limits: Limits::default(),
            child: ChildSetup {
                rlimits: vec![(libc::RLIMIT_CORE, 0, 0)],
                parent: std::process::id() as libc::pid_t,
                die_with_thread: true,
                ..Default::default()
            },
            env: None,
            cgroup: None,
            ruleset: None,
            warnings: Vec::new(),
        }
    }
}

/// Resolves the limits for a runner about to start for `cmd` (the plugin
/// string that starts it) and prepares everything the parent must do
/// before the fork: the cgroup, the Landlock ruleset, the user, the
/// environment.
pub fn prepare(
    config: &LimitsConfig,
    cmd: Option<&Command>,
    runner: &Path,
    plugin_dir: &Path,
) -> Result<Launch, Error> {
    let limits = Limits::resolve(config, cmd.map(Command::overrides).unwrap_or_default())
        .map_err(Error::Refused)?;
    let mut launch = Launch::unlimited();
    let mut warnings = Vec::new();

    // cgroup v2 first: what it covers needs no rlimit stand-in.
    let wants = cgroup::Wants {
        memory: limits.memory.as_ref().map(|l| l.value),
        pids: limits.procs.as_ref().map(|l| l.value),
        cpus: limits.cpus.as_ref().map(|l| l.value),
    };
    let mut applied = cgroup::Applied::default();
    let mut cgroup_note = None;
    if !wants.is_empty() {
        match &config.cgroup {
            Some(None) => cgroup_note = Some("cgroups are switched off (cgroup = \"off\")".into()),
            parent => {
                let (cg, got, why) =
                    cgroup::setup(parent.as_ref().and_then(|p| p.as_deref()), &wants);
                applied = got;
                cgroup_note = why;
                if let Some(cg) = cg {
                    launch.child.cgroup_procs = Some(cg.procs_fd());
                    launch.cgroup = Some(cg);
                }
            }
        }
    }
    let mut fallback = Vec::new();
    if let Some(l) = &limits.memory {
        // RLIMIT_AS always: Python then fails with MemoryError instead of
        // being killed by the OOM killer.
        launch
            .child
            .rlimits
            .push((libc::RLIMIT_AS, l.value, l.value));
        if !applied.memory {
            fallback.push(format!(
                "memory ({}) by RLIMIT_AS only (address space, not resident memory)",
                format_size(l.value)
            ));
        }
    }
    if let Some(l) = &limits.procs
        && !applied.pids
    {
        launch
            .child
            .rlimits
            .push((libc::RLIMIT_NPROC, l.value, l.value));
        fallback.push(format!(
            "procs ({}) by RLIMIT_NPROC only (counts every process and thread of the runner's user; not enforced for root)",
            l.value
        ));
    }
    if let Some(l) = &limits.cpus
        && !applied.cpu
    {
        fallback.push(format!("cpus ({}) not at all", l.value));
    }
    if !fallback.is_empty() {
        let why = cgroup_note.unwrap_or_else(|| "no writable cgroup v2".into());
        warnings.push(format!("{why}; enforcing {}", fallback.join(", ")));
    }
    if let Some(l) = &limits.cpu {
        let soft = l.value.as_secs_f64().ceil().max(1.0) as u64;
        launch
            .child
            .rlimits
            .push((libc::RLIMIT_CPU, soft, soft + CPU_HARD_EXTRA));
    }
    if let Some(l) = &limits.files {
        launch
            .child
            .rlimits
            .push((libc::RLIMIT_NOFILE, l.value, l.value));
    }
    clamp_to_hard_limits(&mut launch.child.rlimits);
    launch.child.nice = limits.nice.as_ref().map(|l| l.value);
    launch.child.ioprio = limits.ionice.as_ref().map(|l| l.value.ioprio());

    if let Some(spec) = &limits.sandbox {
        let mut read = vec![plugin_dir.to_path_buf()];
        if let Some(dir) = runner.parent() {
            read.push(dir.to_path_buf());
        }
        // Where the runner really is, when its path is a symlink: Landlock
        // checks the file itself at exec.
        if let Some(dir) = runner.canonicalize().ok().as_deref().and_then(Path::parent) {
            read.push(dir.to_path_buf());
        }
        if let Some(p) = cmd.and_then(|c| c.module_path.as_deref()) {
            read.push(PathBuf::from(p));
        }
        let prepared = sandbox::prepare(spec, &read).map_err(Error::Refused)?;
        launch.child.ids = prepared.ids;
        launch.child.no_new_privs = true;
        launch.child.landlock = prepared
            .ruleset
            .as_ref()
            .map(std::os::fd::AsRawFd::as_raw_fd);
        launch.ruleset = prepared.ruleset;
        launch.env = Some(prepared.env);
        warnings.extend(prepared.warnings);
    }
    launch.limits = limits;
    launch.warnings = warnings;
    Ok(launch)
}
