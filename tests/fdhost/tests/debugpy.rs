//! `sidecar.debugpy`: the runner listens for a DAP client before it imports
//! the plugin; a client (written here as an IDE would speak) sets a
//! breakpoint in start_backup_file, sees the plugin stop there, reads a
//! variable and lets it go on; the job then succeeds. Needs debugpy in the
//! runner's Python (.ci/run installs it); without it the test says skipped.

mod sidecar_env;

use std::process::{Command, Stdio};

use sidecar_env::*;

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn has_debugpy() -> bool {
    let env = Env::new();
    let runner = std::fs::read_link(env.plugins.join("sidecar/sidecar-runner")).unwrap();
    Command::new(runner)
        .args(["python", "-c", "import debugpy"])
        .status()
        .is_ok_and(|s| s.success())
}

fn target() -> (std::path::PathBuf, usize) {
    let file = test_plugins().join("debug_target.py");
    let text = std::fs::read_to_string(&file).unwrap();
    let line = text
        .lines()
        .position(|l| l.contains("# BREAK HERE"))
        .expect("a marked line")
        + 1;
    (file, line)
}

#[test]
fn a_dap_client_stops_the_plugin_at_a_breakpoint_and_reads_a_variable() {
    if !has_debugpy() {
        eprintln!("skipped: debugpy is not installed in the runner's Python");
        return;
    }
    let env = Env::new();
    env.config("[debug]\nallow = true\n");
    let port = free_port();
    let plugin = plugin_string(
        &test_plugins(),
        "debug_target",
        // A colon in a plugin string value is escaped, as for python3-fd.
        &format!("sidecar.debugpy=127.0.0.1\\:{port}:sidecar.debug_wait=60"),
    );
    let archive = env.path("archive");
    let job = Command::new(env!("CARGO_BIN_EXE_fdhost"))
        .args(["backup", "--plugin-dir"])
        .arg(&env.plugins)
        .args(["--plugin", &plugin, "--archive"])
        .arg(&archive)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let (file, line) = target();
    let client = Command::new("python3")
        .arg(sidecar_env::root().join("python/tests/tools/dap_client.py"))
        .args(["127.0.0.1", &port.to_string()])
        .arg(&file)
        .args([&line.to_string(), "savepkt.fname", "60"])
        .output()
        .unwrap();
    let job = job.wait_with_output().unwrap();
    let log = format!(
        "{}{}",
        String::from_utf8_lossy(&job.stdout),
        String::from_utf8_lossy(&job.stderr)
    );
    let seen = String::from_utf8_lossy(&client.stdout).to_string();
    assert!(
        client.status.success(),
        "the DAP client failed:\n{}\n{}\njob:\n{log}",
        seen,
        String::from_utf8_lossy(&client.stderr)
    );
    assert!(seen.contains("\"reason\": \"breakpoint\""), "{seen}");
    assert!(seen.contains(&format!("\"line\": {line}")), "{seen}");
    assert!(
        seen.contains("\"function\": \"start_backup_file\""),
        "{seen}"
    );
    assert!(
        seen.contains("\"value\": \"'/debug_target/file'\""),
        "{seen}"
    );
    assert!(job.status.success(), "{log}");
    assert!(
        log.contains(&format!("debugpy listens on 127.0.0.1:{port}")),
        "{log}"
    );
    assert!(log.contains("a debugger attached"), "{log}");
}

#[test]
fn debugpy_is_refused_unless_the_client_allows_debugging() {
    let env = Env::new();
    let plugin = plugin_string(&test_plugins(), "debug_target", "sidecar.debugpy=5678");
    let run = env.backup("archive", &[&plugin], &[]);
    run.expect_failure();
    assert!(
        run.all()
            .contains("sidecar.debugpy refused: debugging is not allowed on this client"),
        "{}",
        run.all()
    );
}

#[test]
fn a_debugger_never_listens_beyond_loopback() {
    let env = Env::new();
    env.config("[debug]\nallow = true\n");
    let plugin = plugin_string(
        &test_plugins(),
        "debug_target",
        "sidecar.debugpy=0.0.0.0\\:5678",
    );
    let run = env.backup("archive", &[&plugin], &[]);
    run.expect_failure();
    assert!(
        run.all().contains("0.0.0.0 is not a loopback address"),
        "{}",
        run.all()
    );
}

/// Without debugpy in the runner's Python the job fails, saying how to
/// install it (a module that fails to import stands in for a missing one).
#[test]
fn without_debugpy_the_job_says_how_to_install_it() {
    let env = Env::new();
    env.config("[debug]\nallow = true\n");
    let dir = env.path("modules");
    std::fs::create_dir(&dir).unwrap();
    std::fs::copy(
        test_plugins().join("debug_target.py"),
        dir.join("debug_target.py"),
    )
    .unwrap();
    std::fs::write(
        dir.join("debugpy.py"),
        "raise ImportError('not installed')\n",
    )
    .unwrap();
    let port = free_port();
    let plugin = plugin_string(&dir, "debug_target", &format!("sidecar.debugpy={port}"));
    let run = env.backup("archive", &[&plugin], &[]);
    run.expect_failure();
    assert!(
        run.all().contains(
            "sidecar.debugpy: debugpy is not installed in the runner's Python; install it with `"
        ),
        "{}",
        run.all()
    );
    assert!(
        run.all().contains(" -m pip install debugpy`"),
        "{}",
        run.all()
    );
}
