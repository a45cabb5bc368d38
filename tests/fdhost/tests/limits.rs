//! End to end: the runner's resource limits and sandbox (shim/src/limits.rs,
//! shim/src/sandbox.rs). Each test runs a `python/tests/plugins/limit_*.py`
//! plugin that runs into one limit and checks that the job fails with a
//! message naming that limit, that fdhost itself survives, and that the
//! runner is gone afterwards.

mod sidecar_env;

use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use sidecar_env::*;

struct Job(Env);

/// The plugin directory, scratch directory and `config` of [`Env`].
impl std::ops::Deref for Job {
    type Target = Env;
    fn deref(&self) -> &Env {
        &self.0
    }
}

impl Job {
    fn new() -> Job {
        Job(Env::new())
    }

    /// Backs up through `module` with `extra` plugin options.
    fn backup(&self, module: &str, extra: &str) -> Run {
        let plugin = plugin_string(&test_plugins(), module, extra);
        let run = fdhost(&[
            "backup",
            "--plugin-dir",
            self.plugins.to_str().unwrap(),
            "--plugin",
            &plugin,
            "--archive",
            self.tmp.path().join("archive").to_str().unwrap(),
            "-d",
            "10",
        ]);
        // Whatever the limit did, fdhost reports the job and exits 1 ...
        run.expect_failure();
        assert_eq!(run.status.code(), Some(1), "{}", run.all());
        assert!(run.stdout.contains("Backup Error"), "{}", run.all());
        // ... and no runner is left behind.
        for (runner, _) in runner_pids(&run.all()) {
            assert!(
                !Path::new(&format!("/proc/{runner}")).exists(),
                "runner {runner} outlived its job"
            );
        }
        run
    }
}

/// The job's messages from the first fatal error up to the job report.
fn fatal(run: &Run) -> String {
    let start = run
        .stdout
        .find(": Fatal error: ")
        .unwrap_or_else(|| panic!("no fatal error:\n{}", run.all()));
    let rest = &run.stdout[start..];
    let end = rest.find("\n  JobId:").unwrap_or(rest.len());
    rest[..end].to_string()
}

/// The plugin saw its options without any sidecar.* key.
fn assert_stripped(run: &Run, expected_options: &str) {
    let line = run
        .stdout
        .lines()
        .find(|l| l.contains("limit plugin options: "))
        .unwrap_or_else(|| panic!("the plugin did not load:\n{}", run.all()));
    let options = line.split("limit plugin options: ").nth(1).unwrap();
    assert_eq!(options, expected_options, "{}", run.all());
    assert!(!options.contains("sidecar."));
}

#[test]
fn memory_a_memory_bomb_fails_with_memory_error_and_names_the_limit() {
    let job = Job::new();
    let run = job.backup("limit_memory", "sidecar.memory=300M:keep=1");
    assert_stripped(&run, "keep=1:");
    let f = fatal(&run);
    assert!(f.contains("MemoryError"), "{f}");
    assert!(
        f.contains("the plugin's memory limit is 300 MiB (sidecar.memory)"),
        "{f}"
    );
}

#[test]
fn memory_from_a_plugin_section_of_sidecar_toml() {
    let job = Job::new();
    job.config(
        "[limits]\nmemory = \"8G\"\n\n[[plugin]]\nmodule = \"limit_mem*\"\nmemory = \"320M\"\n",
    );
    let run = job.backup("limit_memory", "");
    let f = fatal(&run);
    assert!(f.contains("MemoryError"), "{f}");
    assert!(
        f.contains("memory limit is 320 MiB (memory in ")
            && f.contains("sidecar.toml [[plugin]] module = \"limit_mem*\")"),
        "{f}"
    );
}

#[test]
fn cpu_a_spinning_plugin_is_killed_by_sigxcpu_and_the_limit_named() {
    let job = Job::new();
    let run = job.backup("limit_cpu", "sidecar.cpu=2");
    let f = fatal(&run);
    assert!(f.contains("start_backup_file failed"), "{f}");
    assert!(
        f.contains(
            "was killed by signal SIGXCPU (24): CPU time limit of 2 s (sidecar.cpu) exceeded"
        ),
        "{f}"
    );
}

#[test]
fn files_exhausting_descriptors_fails_with_emfile_and_names_the_limit() {
    let job = Job::new();
    let run = job.backup("limit_files", "sidecar.files=64");
    let f = fatal(&run);
    assert!(f.contains("[Errno 24] Too many open files"), "{f}");
    assert!(
        f.contains("the plugin's open files limit is 64 (sidecar.files)"),
        "{f}"
    );
}

#[test]
fn walltime_a_sleeping_plugin_is_stopped_when_the_job_time_is_up() {
    let job = Job::new();
    let started = Instant::now();
    let run = job.backup("limit_walltime", "sidecar.walltime=3s");
    let took = started.elapsed();
    let f = fatal(&run);
    assert!(
        f.contains("start_backup_file failed: wall time limit of 3 s (sidecar.walltime) exceeded"),
        "{f}"
    );
    assert!(took < Duration::from_secs(30), "took {took:?}");
}

/// The directory of the Python the runner links against (its prefix), so
/// a sandbox can be told to allow it.
fn runner_python_prefix(plugins: &Path) -> Option<PathBuf> {
    let out = std::process::Command::new("ldd")
        .arg(plugins.join("sidecar/sidecar-runner"))
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&out.stdout);
    let lib = text
        .lines()
        .find(|l| l.contains("libpython"))?
        .split("=>")
        .nth(1)?
        .split_whitespace()
        .next()?
        .to_string();
    // <prefix>/lib/libpython3.x.so...
    Path::new(&lib).parent()?.parent().map(Path::to_path_buf)
}

/// Whether `nobody` can run the runner with the test plugins (it cannot
/// when, say, the checkout or the runner's Python is under /root).
fn nobody_can_run(job: &Job) -> Result<(), String> {
    for dir in [job.tmp.path(), job.plugins.as_path()] {
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    let script = format!(
        "import sys; sys.path.insert(0, {:?}); import limit_common",
        test_plugins().display().to_string()
    );
    let out = std::process::Command::new(job.plugins.join("sidecar/sidecar-runner"))
        .args(["python", "-c", &script])
        .uid(65534)
        .gid(65534)
        .current_dir("/")
        .output()
        .map_err(|e| e.to_string())?;
    if out.status.success() {
        Ok(())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).into_owned())
    }
}

#[test]
fn procs_a_fork_bomb_is_bounded_and_the_limit_named() {
    // RLIMIT_NPROC does not bind root, and this machine has no cgroup v2
    // pids controller to hand out: the runner drops to `nobody`.
    if !nix_is_root() {
        eprintln!("skipped: needs root to switch the runner to nobody");
        return;
    }
    let job = Job::new();
    if let Err(why) = nobody_can_run(&job) {
        eprintln!("skipped: nobody cannot run the runner here: {why}");
        return;
    }
    job.config("[[plugin]]\nmodule = \"limit_procs\"\nsandbox = true\nuser = \"nobody\"\n");
    let run = job.backup("limit_procs", "sidecar.procs=12");
    let f = fatal(&run);
    assert!(
        f.contains("[Errno 11] Resource temporarily unavailable"),
        "{f}"
    );
    assert!(
        f.contains("the plugin's process limit is 12 (sidecar.procs)"),
        "{f}"
    );
}

#[test]
fn sandbox_writes_outside_the_allowed_paths_are_refused() {
    let job = Job::new();
    let prefix = runner_python_prefix(&job.plugins)
        .map(|p| format!("read_paths = [{:?}]\n", p.display().to_string()))
        .unwrap_or_default();
    let allowed = job.tmp.path().join("allowed");
    std::fs::create_dir(&allowed).unwrap();
    job.config(&format!(
        "[[plugin]]\nmodule = \"limit_sandbox\"\n{prefix}write_paths = [{:?}]\n",
        allowed.display().to_string()
    ));
    let target = job.tmp.path().join("escaped");
    let run = job.backup(
        "limit_sandbox",
        &format!("sidecar.sandbox=on:target={}", target.display()),
    );
    assert_stripped(&run, &format!("target={}:", target.display()));
    let f = fatal(&run);
    assert!(
        f.contains("PermissionError: [Errno 13] Permission denied"),
        "{f}"
    );
    assert!(
        f.contains("the plugin runs in a sandbox (sidecar.sandbox)"),
        "{f}"
    );
    assert!(!target.exists(), "the plugin wrote outside its sandbox");

    // The same plugin may write beneath write_paths: the job then gets past
    // the write (and succeeds).
    let inside = allowed.join("ok");
    let plugin = plugin_string(
        &test_plugins(),
        "limit_sandbox",
        &format!("sidecar.sandbox=on:target={}", inside.display()),
    );
    let ok = fdhost(&[
        "backup",
        "--plugin-dir",
        job.plugins.to_str().unwrap(),
        "--plugin",
        &plugin,
        "--archive",
        job.tmp.path().join("archive2").to_str().unwrap(),
    ]);
    ok.expect_ok();
    assert!(inside.exists());
}

#[test]
fn an_unknown_sidecar_option_fails_the_job_naming_it() {
    let job = Job::new();
    let run = job.backup("limit_walltime", "sidecar.memroy=1G");
    let f = fatal(&run);
    assert!(f.contains("unknown plugin option sidecar.memroy"), "{f}");
    assert!(
        !run.stdout.contains("limit plugin options"),
        "the plugin must not run"
    );
}

#[test]
fn a_bad_limits_file_fails_the_job_naming_file_and_key() {
    let job = Job::new();
    job.config("[limits]\nmemory = \"lots\"\n");
    let run = job.backup("limit_walltime", "");
    let f = fatal(&run);
    assert!(f.contains("bad configuration: "), "{f}");
    assert!(f.contains("sidecar.toml:2: `lots` is not a size"), "{f}");
}

fn nix_is_root() -> bool {
    // SAFETY: geteuid cannot fail.
    unsafe { libc::geteuid() == 0 }
}
