//! Shared helpers of the end-to-end tests: a plugin directory laid out as
//! `deploy/install.sh` lays it out, and `fdhost` runs against it.

#![allow(dead_code)] // each test crate uses a different part

use std::os::unix::fs::{PermissionsExt, symlink};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

/// The repository root.
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Where cargo put the workspace's artifacts (the fdhost binary's directory).
fn artifacts() -> PathBuf {
    Path::new(env!("CARGO_BIN_EXE_fdhost"))
        .parent()
        .expect("fdhost has a directory")
        .to_path_buf()
}

/// Builds the shim and the runner once per test binary, in the profile of
/// the tests. `cargo test -p fdhost` builds only the shim's rlib, so without
/// this the tests would run an old `libsidecar_shim.so`; when everything is
/// fresh this is a no-op of a second.
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

/// A fresh plugin directory: `python3-fd.so` (a copy: bareos-fd skips
/// symlinks) and `sidecar/sidecar-runner`, a symlink to the built runner.
/// Not a copy: a copy is open for writing while other test threads fork,
/// and a child holding that descriptor until its exec makes executing the
/// runner fail with ETXTBSY.
pub fn plugin_dir(base: &Path) -> PathBuf {
    build_once();
    let dir = base.join("plugins");
    std::fs::create_dir_all(dir.join("sidecar")).unwrap();
    std::fs::copy(
        artifacts().join("libsidecar_shim.so"),
        dir.join("python3-fd.so"),
    )
    .unwrap();
    symlink(
        artifacts().join("sidecar-runner"),
        dir.join("sidecar/sidecar-runner"),
    )
    .unwrap();
    dir
}

/// The example plugins' directory.
pub fn examples() -> PathBuf {
    root().join("python/examples")
}

/// The test plugins' directory.
pub fn test_plugins() -> PathBuf {
    root().join("python/tests/plugins")
}

pub struct Run {
    pub status: std::process::ExitStatus,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    pub fn ok(&self) -> bool {
        self.status.success()
    }

    /// Both streams, for assertions that do not care where a line went.
    pub fn all(&self) -> String {
        format!("{}\n{}", self.stdout, self.stderr)
    }

    #[track_caller]
    pub fn expect_ok(&self) -> &Self {
        assert!(self.ok(), "fdhost failed:\n{}", self.all());
        self
    }

    #[track_caller]
    pub fn expect_failure(&self) -> &Self {
        assert!(!self.ok(), "fdhost should have failed:\n{}", self.all());
        self
    }
}

/// Runs fdhost with `args`.
pub fn fdhost(args: &[&str]) -> Run {
    let Output {
        status,
        stdout,
        stderr,
    } = Command::new(env!("CARGO_BIN_EXE_fdhost"))
        .args(args)
        .output()
        .expect("fdhost runs");
    Run {
        status,
        stdout: String::from_utf8_lossy(&stdout).into_owned(),
        stderr: String::from_utf8_lossy(&stderr).into_owned(),
    }
}

/// A plugin directory and a scratch directory that live as long as the
/// test, and fdhost jobs against them.
pub struct Env {
    pub tmp: tempfile::TempDir,
    pub plugins: PathBuf,
}

impl Env {
    pub fn new() -> Env {
        let tmp = tempfile::tempdir().unwrap();
        let plugins = plugin_dir(tmp.path());
        Env { tmp, plugins }
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.tmp.path().join(name)
    }

    /// Writes the plugin directory's `sidecar.toml`.
    pub fn config(&self, toml: &str) -> &Self {
        std::fs::write(self.plugins.join("sidecar.toml"), toml).unwrap();
        self
    }

    /// `fdhost backup` into `archive` (a name in the scratch directory)
    /// with one `--plugin` per string, plus `extra` arguments.
    pub fn backup(&self, archive: &str, plugins: &[&str], extra: &[&str]) -> Run {
        let archive = self.path(archive);
        let mut args = vec![
            "backup",
            "--plugin-dir",
            self.plugins.to_str().unwrap(),
            "--archive",
            archive.to_str().unwrap(),
        ];
        for p in plugins {
            args.extend(["--plugin", p]);
        }
        args.extend_from_slice(extra);
        fdhost(&args)
    }

    /// `fdhost restore` of `archive` into `where_`, plus `extra` arguments.
    pub fn restore(&self, archive: &str, where_: &Path, extra: &[&str]) -> Run {
        let archive = self.path(archive);
        let mut args = vec![
            "restore",
            "--plugin-dir",
            self.plugins.to_str().unwrap(),
            "--archive",
            archive.to_str().unwrap(),
            "--where",
            where_.to_str().unwrap(),
        ];
        args.extend_from_slice(extra);
        fdhost(&args)
    }
}

/// `python3:module_path=DIR:module_name=NAME` plus `extra` options.
pub fn plugin_string(dir: &Path, module: &str, extra: &str) -> String {
    let mut s = format!("python3:module_path={}:module_name={module}", dir.display());
    if !extra.is_empty() {
        s.push(':');
        s.push_str(extra);
    }
    s
}

/// Deterministic, incompressible-looking bytes (xorshift), fast enough for
/// 100 MiB in a debug build.
pub fn noise(len: usize, seed: u64) -> Vec<u8> {
    let mut out = Vec::with_capacity(len + 8);
    let mut x = seed | 1;
    while out.len() < len {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        out.extend_from_slice(&x.to_le_bytes());
    }
    out.truncate(len);
    out
}

/// Makes the tree the issue asks for: regular files of the edge sizes
/// around the core's 64 KiB buffer, one of `big` bytes, an empty file and
/// directory, symlinks, names with spaces and UTF-8; odd modes and mtimes.
pub fn make_tree(src: &Path, big: usize) {
    let dirs = ["docs/deep/er", "empty dir", "ünïcödé"];
    for d in dirs {
        std::fs::create_dir_all(src.join(d)).unwrap();
    }
    let files: [(&str, usize); 7] = [
        ("docs/empty", 0),
        ("docs/one byte", 1),
        ("docs/deep/65535", 65535),
        ("docs/deep/65536", 65536),
        ("docs/deep/er/65537", 65537),
        ("ünïcödé/größe.bin", 100_000),
        ("big.bin", big),
    ];
    for (i, (name, len)) in files.iter().enumerate() {
        std::fs::write(src.join(name), noise(*len, i as u64 + 1)).unwrap();
        // In the past, so a restore that touches the data after setting
        // the times shows up as a different mtime.
        set_mtime(&src.join(name), 1_500_000_000 + i as i64);
    }
    std::fs::set_permissions(
        src.join("docs/one byte"),
        std::fs::Permissions::from_mode(0o640),
    )
    .unwrap();
    std::fs::set_permissions(
        src.join("docs/deep/65535"),
        std::fs::Permissions::from_mode(0o755),
    )
    .unwrap();
    symlink("docs/one byte", src.join("link to one byte")).unwrap();
    symlink("/nonexistent/target", src.join("ünïcödé/dangling")).unwrap();
    set_mtime(&src.join("docs/deep/65536"), 1_000_000_000);
    set_mtime(&src.join("ünïcödé"), 1_234_567_890);
}

pub fn set_mtime(path: &Path, secs: i64) {
    let t = std::time::UNIX_EPOCH + std::time::Duration::from_secs(secs as u64);
    std::fs::File::options()
        .read(true)
        .open(path)
        .unwrap()
        .set_modified(t)
        .unwrap();
}

/// Compares two trees: same entries, contents, symlink targets, modes and
/// mtimes (regular files and directories). Returns how many entries matched.
#[track_caller]
pub fn assert_same_tree(a: &Path, b: &Path) -> usize {
    use std::os::unix::fs::MetadataExt;
    let mut checked = 0;
    let mut stack = vec![PathBuf::new()];
    while let Some(rel) = stack.pop() {
        let (pa, pb) = (a.join(&rel), b.join(&rel));
        let (ma, mb) = (
            std::fs::symlink_metadata(&pa).unwrap(),
            std::fs::symlink_metadata(&pb)
                .unwrap_or_else(|e| panic!("{} missing after restore: {e}", pb.display())),
        );
        assert_eq!(ma.file_type(), mb.file_type(), "{}", rel.display());
        if ma.file_type().is_symlink() {
            assert_eq!(
                std::fs::read_link(&pa).unwrap(),
                std::fs::read_link(&pb).unwrap()
            );
        } else {
            assert_eq!(ma.mode(), mb.mode(), "mode of {}", rel.display());
            assert_eq!(ma.mtime(), mb.mtime(), "mtime of {}", rel.display());
        }
        if ma.is_file() {
            assert!(
                std::fs::read(&pa).unwrap() == std::fs::read(&pb).unwrap(),
                "contents of {} differ",
                rel.display()
            );
        }
        if ma.is_dir() {
            let mut names: Vec<_> = std::fs::read_dir(&pa)
                .unwrap()
                .map(|e| e.unwrap().file_name())
                .collect();
            let mut theirs: Vec<_> = std::fs::read_dir(&pb)
                .unwrap()
                .map(|e| e.unwrap().file_name())
                .collect();
            names.sort();
            theirs.sort();
            assert_eq!(names, theirs, "entries of {}", rel.display());
            stack.extend(names.into_iter().map(|n| rel.join(n)));
        }
        checked += 1;
    }
    checked
}

/// The runner pid the shim reports at debug level 10 (`runner pid N started
/// (daemon pid M)`).
pub fn runner_pids(output: &str) -> Vec<(u32, u32)> {
    output
        .lines()
        .filter_map(|l| {
            let rest = &l[l.find("runner pid ")? + "runner pid ".len()..];
            let (pid, rest) = rest.split_once(" started (daemon pid ")?;
            let daemon = rest.split(')').next()?;
            Some((pid.parse().ok()?, daemon.parse().ok()?))
        })
        .collect()
}
