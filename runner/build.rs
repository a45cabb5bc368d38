//! Links the runner against the machine's shared libpython and records its
//! directory as RPATH, so `sidecar-runner` starts without LD_LIBRARY_PATH.
//!
//! It also records where that Python's standard library lives. A daemon
//! started by a service manager has a bare environment (no PYTHONHOME, a
//! PATH without the Python the runner was built with); left to itself,
//! CPython would then guess its home from whatever `python3` is first on
//! PATH and load another build's standard library.

use std::process::Command;

fn main() {
    let config = pyo3_build_config::get();
    if let Some(dir) = &config.lib_dir {
        println!("cargo:rustc-link-arg-bins=-Wl,-rpath,{dir}");
    }
    println!("cargo:rerun-if-env-changed=PYO3_PYTHON");
    let python = config
        .executable
        .clone()
        .expect("pyo3 found no Python interpreter to build against (set PYO3_PYTHON)");
    // base_prefix, not prefix: a virtualenv has no standard library of its own.
    let script = "import os, sys, sysconfig\n\
                  print(sys.base_prefix)\n\
                  print(sysconfig.get_path('stdlib'))\n\
                  print(os.path.realpath(sys.executable))";
    let out = Command::new(&python)
        .args(["-c", script])
        .output()
        .unwrap_or_else(|e| panic!("cannot run {python}: {e}"));
    assert!(
        out.status.success(),
        "{python} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).expect("paths are UTF-8");
    let mut lines = text.lines();
    let mut next = |what: &str| {
        lines
            .next()
            .unwrap_or_else(|| panic!("{python} did not print its {what}"))
            .to_string()
    };
    println!("cargo:rustc-env=SIDECAR_PYTHON_HOME={}", next("home"));
    println!("cargo:rustc-env=SIDECAR_PYTHON_STDLIB={}", next("stdlib"));
    println!(
        "cargo:rustc-env=SIDECAR_PYTHON_EXECUTABLE={}",
        next("executable")
    );
    pyo3_build_config::use_pyo3_cfgs();
}
