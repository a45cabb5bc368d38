//! Shared helpers of the end-to-end tests: plugin directories laid out as
//! `deploy/install.sh` lays them out, and dirhost / sdhost runs.

#![allow(dead_code)] // each test crate uses a different part

use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn artifacts() -> PathBuf {
    Path::new(env!("CARGO_BIN_EXE_dirhost"))
        .parent()
        .expect("dirhost has a directory")
        .to_path_buf()
}

/// Builds the shim and the runner once per test binary, in the profile of
/// the tests (`cargo test -p v4host` builds only the shim's rlib).
fn build_once() {
    static BUILT: OnceLock<()> = OnceLock::new();
    BUILT.get_or_init(|| {
        let mut cmd = Command::new(env!("CARGO"));
        cmd.args([
            "build",
            "--quiet",
            "-p",
            "sidecar-shim",
            "-p",
            "sidecar-runner",
        ])
        .current_dir(root());
        if artifacts().ends_with("release") {
            cmd.arg("--release");
        }
        let status = cmd.status().expect("cargo runs");
        assert!(status.success(), "building the shim and the runner failed");
    });
}

/// A fresh plugin directory with the shim as `python3-dir.so` and
/// `python3-sd.so` (copies: the daemons skip symlinks) and
/// `sidecar/sidecar-runner` (a symlink to the built runner: a copy open for
/// writing while other test threads fork could make its exec fail with
/// ETXTBSY).
pub fn python_plugin_dir(base: &Path) -> PathBuf {
    build_once();
    let dir = base.join("plugins");
    std::fs::create_dir_all(dir.join("sidecar")).unwrap();
    for name in ["python3-dir.so", "python3-sd.so"] {
        std::fs::copy(artifacts().join("libsidecar_shim.so"), dir.join(name)).unwrap();
    }
    symlink(
        artifacts().join("sidecar-runner"),
        dir.join("sidecar/sidecar-runner"),
    )
    .unwrap();
    dir
}

/// A plugin directory holding copies of the given C test plugins (paths
/// from build.rs), under their own names.
pub fn c_plugin_dir(base: &Path, plugins: &[&str]) -> PathBuf {
    let dir = base.join("cplugins");
    std::fs::create_dir_all(&dir).unwrap();
    for p in plugins {
        let p = Path::new(p);
        std::fs::copy(p, dir.join(p.file_name().unwrap())).unwrap();
    }
    dir
}

pub fn test_plugins() -> PathBuf {
    root().join("python/tests/plugins")
}

/// Bareos's shipped Python plugins.
pub const BAREOS_PLUGINS: &str = "/opt/bareos/lib/bareos/plugins";

pub struct Run {
    pub status: std::process::ExitStatus,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    pub fn ok(&self) -> bool {
        self.status.success()
    }

    pub fn all(&self) -> String {
        format!("{}\n{}", self.stdout, self.stderr)
    }

    #[track_caller]
    pub fn expect_ok(&self) -> &Self {
        assert!(self.ok(), "the job failed:\n{}", self.all());
        self
    }

    #[track_caller]
    pub fn expect_failure(&self) -> &Self {
        assert!(!self.ok(), "the job should have failed:\n{}", self.all());
        self
    }

    #[track_caller]
    pub fn expect(&self, needle: &str) -> &Self {
        assert!(
            self.all().contains(needle),
            "{needle:?} missing in:\n{}",
            self.all()
        );
        self
    }

    /// stdout lines of job 1 containing `needle`, without the prefix.
    pub fn lines_with(&self, needle: &str) -> Vec<String> {
        self.stdout
            .lines()
            .filter(|l| l.contains(needle))
            .map(|l| l.split_once(": ").map_or(l, |(_, r)| r).to_string())
            .collect()
    }
}

fn run(bin: &str, args: &[&str]) -> Run {
    let Output {
        status,
        stdout,
        stderr,
    } = Command::new(bin)
        .args(args)
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .output()
        .expect("the host runs");
    Run {
        status,
        stdout: String::from_utf8_lossy(&stdout).into_owned(),
        stderr: String::from_utf8_lossy(&stderr).into_owned(),
    }
}

pub fn dirhost(args: &[&str]) -> Run {
    run(env!("CARGO_BIN_EXE_dirhost"), args)
}

pub fn sdhost(args: &[&str]) -> Run {
    run(env!("CARGO_BIN_EXE_sdhost"), args)
}

/// `python3:instance=N:module_path=DIR:module_name=NAME` plus `extra`.
pub fn python_options(instance: u32, dir: &Path, module: &str, extra: &str) -> String {
    let mut s = format!(
        "python3:instance={instance}:module_path={}:module_name={module}",
        dir.display()
    );
    if !extra.is_empty() {
        s.push(':');
        s.push_str(extra);
    }
    s
}
