//! The daemon's environment must not decide which Python the runner runs:
//! bareos-fd under a service manager has a bare PATH and no PYTHONHOME, and
//! may even inherit a PYTHONHOME that points elsewhere.

mod sidecar_env;

use std::process::Command;

use sidecar_env::*;

/// A service manager's environment: the system PATH and nothing else.
const SYSTEM_PATH: &str = "/usr/sbin:/usr/bin:/sbin:/bin";

fn backup_in(env: &Env, vars: &[(&str, &str)]) -> (bool, String) {
    let plugin = plugin_string(&test_plugins(), "stdlib_probe", "");
    let archive = env.path("archive");
    let out = Command::new(env!("CARGO_BIN_EXE_fdhost"))
        .env_clear()
        .envs(vars.iter().copied())
        .args(["backup", "--plugin-dir"])
        .arg(&env.plugins)
        .arg("--plugin")
        .arg(&plugin)
        .arg("--archive")
        .arg(&archive)
        .output()
        .expect("fdhost runs");
    let text = format!(
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

#[test]
fn the_runner_uses_its_own_python_with_the_system_path_only() {
    let env = Env::new();
    let (ok, out) = backup_in(&env, &[("PATH", SYSTEM_PATH)]);
    assert!(ok, "{out}");
    // The job log names the Python, and the plugin ran in it.
    let line = out
        .lines()
        .find(|l| l.contains("plugin runs out of process in sidecar-runner pid"))
        .unwrap_or_else(|| panic!("no line naming the Python:\n{out}"));
    let home = line
        .split("(home ")
        .nth(1)
        .and_then(|r| r.strip_suffix(')'))
        .unwrap_or_else(|| panic!("no home in {line:?}"));
    assert!(
        out.contains(&format!("stdlib_probe: prefix={home} ")),
        "the plugin ran in another Python than the job log names:\n{out}"
    );
}

#[test]
fn a_stray_pythonhome_in_the_daemon_does_not_matter() {
    let env = Env::new();
    let (ok, out) = backup_in(&env, &[("PATH", SYSTEM_PATH), ("PYTHONHOME", "/usr")]);
    assert!(ok, "{out}");
    assert!(!out.contains("stdlib_probe: prefix=/usr "), "{out}");
}
