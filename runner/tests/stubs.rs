//! python/bareosfd.pyi, bareosdir.pyi, bareossd.pyi: the type stubs plugin
//! authors check their plugins with. They must match the modules the runner
//! provides, and the example plugins must pass `mypy --strict` against them.

use std::process::Command;

const PYTHON_DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../python");

fn check_stubs(module: &str) {
    let out = Command::new(env!("CARGO_BIN_EXE_sidecar-runner"))
        .arg("python")
        .arg(format!("{PYTHON_DIR}/tests/check_stubs.py"))
        .arg(format!("{PYTHON_DIR}/{module}.pyi"))
        .output()
        .expect("runner starts");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains(", 0 problems"), "{stdout}");
}

#[test]
fn the_type_stubs_match_the_module() {
    check_stubs("bareosfd");
}

#[test]
fn the_director_and_storage_daemon_stubs_match_their_modules() {
    check_stubs("bareosdir");
    check_stubs("bareossd");
}

#[test]
fn the_examples_pass_mypy_strict() {
    let out = Command::new("python3")
        .args(["-m", "mypy", "--strict", "examples"])
        .env("MYPYPATH", PYTHON_DIR)
        .current_dir(PYTHON_DIR)
        .output()
        .expect("python3 runs");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        !text.contains("No module named mypy"),
        "mypy is not installed (pip install mypy); .ci/run installs it"
    );
    assert!(out.status.success(), "{text}");
    assert!(text.contains("Success: no issues found"), "{text}");
}
