//! Helpers for driving the built `fdhost` binary with the C test plugins
//! that build.rs compiled.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

pub const GOOD: &str = env!("FDHOST_TEST_GOOD");

pub struct Run {
    pub ok: bool,
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
    /// The plugins' call trace ($FDHOST_TEST_TRACE).
    pub trace: String,
}

/// A scratch area: a plugin directory, a trace file, an archive path.
pub struct Env {
    pub dir: tempfile::TempDir,
}

impl Env {
    pub fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("plugins")).unwrap();
        Env { dir }
    }

    pub fn path(&self, p: &str) -> PathBuf {
        self.dir.path().join(p)
    }

    pub fn plugins(&self) -> PathBuf {
        self.path("plugins")
    }

    /// Copy a built plugin into the plugin directory as `name`.
    pub fn add(&self, built: &str, name: &str) -> &Self {
        std::fs::copy(built, self.plugins().join(name)).unwrap();
        self
    }

    pub fn archive(&self) -> String {
        self.path("archive.fdh").display().to_string()
    }

    /// Run fdhost with `args` (plus `--plugin-dir` first after the job kind).
    pub fn fdhost(&self, kind: &str, args: &[&str]) -> Run {
        let trace = self.path("trace");
        let _ = std::fs::remove_file(&trace);
        let out = Command::new(env!("CARGO_BIN_EXE_fdhost"))
            .arg(kind)
            .arg("--plugin-dir")
            .arg(self.plugins())
            .args(args)
            .env("FDHOST_TEST_TRACE", &trace)
            .output()
            .unwrap();
        let run = Run {
            ok: out.status.success(),
            code: out.status.code(),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
            trace: std::fs::read_to_string(&trace).unwrap_or_default(),
        };
        eprintln!(
            "--- fdhost {kind} {args:?}: {:?}\n--- stdout\n{}--- stderr\n{}--- trace\n{}",
            out.status, run.stdout, run.stderr, run.trace
        );
        run
    }
}

impl Run {
    /// The report's termination text.
    pub fn termination(&self) -> &str {
        self.stdout
            .lines()
            .find_map(|l| l.trim_start().strip_prefix("Termination:"))
            .map(str::trim)
            .unwrap_or("")
    }

    /// A report value, e.g. `report("FD Files Written")`.
    pub fn report(&self, key: &str) -> String {
        let key = format!("{key}:");
        self.stdout
            .lines()
            .find_map(|l| l.trim_start().strip_prefix(key.as_str()))
            .map(|v| v.trim().to_string())
            .unwrap_or_default()
    }

    /// Assert the trace contains `items` as lines starting with them, in
    /// this order (other lines may come between).
    pub fn assert_trace_order(&self, items: &[&str]) {
        let mut lines = self.trace.lines();
        for want in items {
            assert!(
                lines.any(|l| l.starts_with(want)),
                "trace lacks {want:?} (in order {items:?}):\n{}",
                self.trace
            );
        }
    }
}

/// The content the good plugin generates for `/good/dir/big.bin`.
pub fn pattern(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i % 251) as u8).collect()
}

pub fn read(p: &Path) -> Vec<u8> {
    std::fs::read(p).unwrap_or_else(|e| panic!("read {}: {e}", p.display()))
}
