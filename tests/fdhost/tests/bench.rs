//! `fdhost bench --quick`: every mode (native, inprocess, sidecar) backs up
//! and restores tiny versions of every workload, the restores are checked
//! byte for byte, and the table prints. Correctness, not speed.

mod sidecar_env;

use std::process::Command;

use sidecar_env::*;

#[test]
fn quick_bench_runs_every_mode_and_restores_byte_identical() {
    let bin = std::path::Path::new(env!("CARGO_BIN_EXE_fdhost"))
        .parent()
        .unwrap()
        .to_path_buf();
    // The shim and runner (support builds them), and the in-process host.
    let _ = plugin_dir(tempfile::tempdir().unwrap().path());
    if !bin.join("libsidecar_inprocess.so").exists() {
        let status = Command::new(env!("CARGO"))
            .args(["build", "-p", "sidecar-inprocess"])
            .current_dir(root())
            .status()
            .expect("cargo runs");
        assert!(status.success(), "building sidecar-inprocess failed");
    }
    let work = tempfile::tempdir().unwrap();
    let run = fdhost(&[
        "bench",
        "--quick",
        "--work-dir",
        work.path().to_str().unwrap(),
        "--examples",
        examples().to_str().unwrap(),
    ]);
    assert!(run.ok(), "bench failed:\n{}", run.all());
    assert!(!run.all().contains("FAILED"), "{}", run.all());
    assert!(!run.all().contains("skipped"), "{}", run.all());
    for workload in [
        "start",
        "small-pluginio",
        "small-direct",
        "big-direct",
        "pydata",
        "pydata-x2",
        "small-pluginio-x2",
    ] {
        for op in ["backup", "restore"] {
            let row = run
                .stdout
                .lines()
                .find(|l| l.starts_with(&format!("| {workload:<18} | {op:<7} |")))
                .unwrap_or_else(|| panic!("no row for {workload} {op}:\n{}", run.stdout));
            // native (where it applies), inprocess and sidecar have times.
            let cells: Vec<&str> = row.split('|').map(str::trim).collect();
            assert!(cells[4].contains(" / "), "inprocess missing: {row}");
            assert!(cells[5].contains(" / "), "sidecar missing: {row}");
            if !workload.starts_with("start") && !workload.starts_with("pydata") {
                assert!(cells[3].contains(" / "), "native missing: {row}");
            }
        }
    }
}
