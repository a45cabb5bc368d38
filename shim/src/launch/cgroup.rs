//! A cgroup v2 per runner, when the daemon has a writable one.
//!
//! The runner's cgroup `sidecar-<daemon pid>-<n>` is made under the
//! configured parent, or else the daemon's own cgroup v2, and gets
//! `memory.max`, `pids.max` and `cpu.max`. The forked child moves itself
//! into it (writing "0" to `cgroup.procs`) before exec, so the runner never
//! runs outside it. When the runner has been reaped whatever is left in the
//! cgroup is killed and the cgroup removed.
//!
//! Controllers can only be enabled for a cgroup's children when the cgroup
//! itself holds no processes (the "no internal processes" rule), so with the
//! daemon in its own cgroup this works only when that is the root or when
//! the admin delegates a parent (`cgroup = "/sys/fs/cgroup/..."`, e.g. a
//! systemd `Delegate=yes` sub-cgroup). Whatever cannot be set falls back to
//! rlimits, and the job gets a warning saying so.

use std::fs;
use std::io::Write;
use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// What the limits ask of a cgroup.
#[derive(Debug, Default, Clone, Copy)]
pub struct Wants {
    pub memory: Option<u64>,
    pub pids: Option<u64>,
    pub cpus: Option<f64>,
}

impl Wants {
    pub fn is_empty(&self) -> bool {
        self.memory.is_none() && self.pids.is_none() && self.cpus.is_none()
    }

    fn controllers(&self) -> Vec<&'static str> {
        let mut c = Vec::new();
        if self.memory.is_some() {
            c.push("memory");
        }
        if self.pids.is_some() {
            c.push("pids");
        }
        if self.cpus.is_some() {
            c.push("cpu");
        }
        c
    }
}

/// Which of the wanted limits the cgroup enforces.
#[derive(Debug, Default, Clone, Copy, PartialEq)]
pub struct Applied {
    pub memory: bool,
    pub pids: bool,
    pub cpu: bool,
}

/// `cpu.max`'s period.
const CPU_PERIOD_US: u64 = 100_000;

static SEQUENCE: AtomicU64 = AtomicU64::new(1);

#[derive(Debug)]
pub struct Cgroup {
    dir: PathBuf,
    procs: OwnedFd,
}

/// Creates the runner's cgroup under `parent` (or the daemon's own cgroup
/// v2) and writes the wanted limits. Returns the cgroup when at least one
/// limit is in it, what it enforces, and why the rest is not.
pub fn setup(parent: Option<&Path>, wants: &Wants) -> (Option<Cgroup>, Applied, Option<String>) {
    let parent = match parent {
        Some(p) => p.to_path_buf(),
        None => match own_cgroup() {
            Some(p) => p,
            None => {
                return (
                    None,
                    Applied::default(),
                    Some("no cgroup v2 is mounted for the daemon".into()),
                );
            }
        },
    };
    if !is_cgroup2(&parent) {
        return (
            None,
            Applied::default(),
            Some(format!("{} is not a cgroup v2 directory", parent.display())),
        );
    }
    let wanted = wants.controllers();
    let available = read_words(&parent.join("cgroup.controllers"));
    let mut enabled = read_words(&parent.join("cgroup.subtree_control"));
    for c in &wanted {
        if available.iter().any(|a| a == c) && !enabled.iter().any(|e| e == c) {
            // Fails (EBUSY) while the parent holds processes itself.
            if fs::write(parent.join("cgroup.subtree_control"), format!("+{c}")).is_ok() {
                enabled.push(c.to_string());
            }
        }
    }
    let missing: Vec<&str> = wanted
        .iter()
        .copied()
        .filter(|c| !enabled.iter().any(|e| e == c))
        .collect();
    let why_missing = |missing: &[&str]| {
        format!(
            "the cgroup v2 {} does not offer its children the {} controller{}",
            parent.display(),
            missing.join(", "),
            if missing.len() == 1 { "" } else { "s" }
        )
    };
    if missing.len() == wanted.len() {
        return (None, Applied::default(), Some(why_missing(&missing)));
    }
    remove_stale(&parent);
    let cg = match Cgroup::create(&parent) {
        Ok(cg) => cg,
        Err(e) => return (None, Applied::default(), Some(e)),
    };
    let mut applied = Applied::default();
    let mut failed = Vec::new();
    if let Some(m) = wants.memory {
        applied.memory = cg.write("memory.max", &m.to_string());
        // No swap beyond the limit either, where swap accounting exists.
        let _ = cg.write("memory.swap.max", "0");
        if !applied.memory {
            failed.push("memory.max");
        }
    }
    if let Some(p) = wants.pids {
        applied.pids = cg.write("pids.max", &p.to_string());
        if !applied.pids {
            failed.push("pids.max");
        }
    }
    if let Some(c) = wants.cpus {
        let quota = ((c * CPU_PERIOD_US as f64).round() as u64).max(1000);
        applied.cpu = cg.write("cpu.max", &format!("{quota} {CPU_PERIOD_US}"));
        if !applied.cpu {
            failed.push("cpu.max");
        }
    }
    let why = if !missing.is_empty() {
        Some(why_missing(&missing))
    } else if !failed.is_empty() {
        Some(format!(
            "cannot write {} in {}",
            failed.join(", "),
            cg.dir.display()
        ))
    } else {
        None
    };
    if applied == Applied::default() {
        return (None, applied, why); // dropping `cg` removes it
    }
    (Some(cg), applied, why)
}

impl Cgroup {
    /// Makes an empty cgroup `sidecar-<daemon pid>-<n>` under `parent`.
    pub fn create(parent: &Path) -> Result<Cgroup, String> {
        let name = format!(
            "sidecar-{}-{}",
            std::process::id(),
            SEQUENCE.fetch_add(1, Ordering::Relaxed)
        );
        let dir = parent.join(name);
        fs::create_dir(&dir)
            .map_err(|e| format!("cannot create a cgroup under {}: {e}", parent.display()))?;
        let procs = fs::OpenOptions::new()
            .write(true)
            .create(cfg!(test)) // the tests' stand-in has no kernel behind it
            .custom_flags(libc::O_CLOEXEC)
            .open(dir.join("cgroup.procs"))
            .and_then(|f| super::high_fd(OwnedFd::from(f)));
        match procs {
            Ok(procs) => Ok(Cgroup { dir, procs }),
            Err(e) => {
                let _ = fs::remove_dir(&dir);
                Err(format!("cannot open {}/cgroup.procs: {e}", dir.display()))
            }
        }
    }

    /// For the child: write "0" here to move itself in.
    pub fn procs_fd(&self) -> RawFd {
        self.procs.as_raw_fd()
    }

    #[cfg(test)]
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn write(&self, file: &str, value: &str) -> bool {
        fs::OpenOptions::new()
            .write(true)
            .create(cfg!(test))
            .truncate(cfg!(test))
            .open(self.dir.join(file))
            .and_then(|mut f| f.write_all(value.as_bytes()))
            .is_ok()
    }

    /// How often the kernel's OOM killer struck in this cgroup.
    pub fn oom_kills(&self) -> u64 {
        let text = fs::read_to_string(self.dir.join("memory.events")).unwrap_or_default();
        text.lines()
            .find_map(|l| l.strip_prefix("oom_kill "))
            .and_then(|n| n.trim().parse().ok())
            .unwrap_or(0)
    }
}

/// Kills what is left in the cgroup (the runner's own children) and removes
/// it.
impl Drop for Cgroup {
    fn drop(&mut self) {
        // cgroup.kill exists since Linux 5.14.
        let _ = fs::OpenOptions::new()
            .write(true)
            .open(self.dir.join("cgroup.kill"))
            .and_then(|mut f| f.write_all(b"1"));
        for _ in 0..50 {
            if fs::remove_dir(&self.dir).is_ok() {
                return;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

/// Whether `dir` is on a cgroup2 file system (the tests' stand-in is not).
fn is_cgroup2(dir: &Path) -> bool {
    if cfg!(test) {
        return dir.is_dir();
    }
    nix::sys::statfs::statfs(dir)
        .is_ok_and(|s| s.filesystem_type() == nix::sys::statfs::CGROUP2_SUPER_MAGIC)
}

/// The daemon's own cgroup v2 directory: the `0::` line of
/// /proc/self/cgroup below the cgroup2 mount.
pub fn own_cgroup() -> Option<PathBuf> {
    let cgroups = fs::read_to_string("/proc/self/cgroup").ok()?;
    let rel = cgroups.lines().find_map(|l| l.strip_prefix("0::"))?;
    let mountinfo = fs::read_to_string("/proc/self/mountinfo").ok()?;
    let mount = cgroup2_mount(&mountinfo)?;
    let rel = rel.trim().trim_start_matches('/');
    Some(if rel.is_empty() {
        mount
    } else {
        mount.join(rel)
    })
}

/// The mount point of the first cgroup2 file system in a mountinfo text.
fn cgroup2_mount(mountinfo: &str) -> Option<PathBuf> {
    mountinfo.lines().find_map(|line| {
        let (left, right) = line.split_once(" - ")?;
        let fstype = right.split_whitespace().next()?;
        if fstype != "cgroup2" {
            return None;
        }
        let mount_point = left.split_whitespace().nth(4)?;
        Some(PathBuf::from(unescape_octal(mount_point)))
    })
}

/// mountinfo escapes space, tab, newline and backslash as `\ooo`.
fn unescape_octal(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'\\'
            && i + 3 < b.len()
            && b[i + 1..i + 4].iter().all(|c| (b'0'..=b'7').contains(c))
        {
            out.push((b[i + 1] - b'0') * 64 + (b[i + 2] - b'0') * 8 + (b[i + 3] - b'0'));
            i += 4;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn read_words(path: &Path) -> Vec<String> {
    fs::read_to_string(path)
        .unwrap_or_default()
        .split_whitespace()
        .map(str::to_string)
        .collect()
}

/// Removes empty cgroups of daemons that are gone (a crashed daemon cannot
/// clean up after itself).
fn remove_stale(parent: &Path) {
    let Ok(entries) = fs::read_dir(parent) else {
        return;
    };
    for e in entries.flatten() {
        let name = e.file_name();
        let Some(rest) = name.to_str().and_then(|n| n.strip_prefix("sidecar-")) else {
            continue;
        };
        let Some(pid) = rest.split('-').next().and_then(|p| p.parse::<u32>().ok()) else {
            continue;
        };
        if pid != std::process::id() && !Path::new(&format!("/proc/{pid}")).exists() {
            let _ = fs::remove_dir(e.path());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_cgroup2_mount() {
        let mi = "22 1 0:21 / /sys/fs/cgroup ro,nosuid - tmpfs tmpfs ro,mode=755\n\
                  30 22 0:26 / /sys/fs/cgroup/unified rw,relatime shared:9 - cgroup2 cgroup2 rw\n";
        assert_eq!(
            cgroup2_mount(mi),
            Some(PathBuf::from("/sys/fs/cgroup/unified"))
        );
        assert_eq!(cgroup2_mount("1 2 0:3 / /x rw - ext4 /dev/sda rw\n"), None);
        let spaced = "30 22 0:26 / /mnt/a\\040b rw - cgroup2 cgroup2 rw\n";
        assert_eq!(cgroup2_mount(spaced), Some(PathBuf::from("/mnt/a b")));
    }

    /// A directory that looks like a cgroup v2 parent: the kernel's files
    /// are plain files here, so this checks what is written where.
    #[test]
    fn writes_the_limits_into_a_fresh_cgroup_and_removes_it() {
        let parent = tempfile_dir("cg-ok");
        fs::write(
            parent.join("cgroup.controllers"),
            "cpuset cpu io memory pids\n",
        )
        .unwrap();
        fs::write(parent.join("cgroup.subtree_control"), "memory pids\n").unwrap();
        let wants = Wants {
            memory: Some(256 << 20),
            pids: Some(32),
            cpus: Some(1.5),
        };
        // The fake parent has no kernel behind it: the child directory is
        // empty, so the limit files are created by the writes. cpu is not
        // in subtree_control and writing "+cpu" just replaces the file.
        let (cg, applied, why) = setup(Some(&parent), &wants);
        let cg = cg.expect("a cgroup");
        assert_eq!(
            applied,
            Applied {
                memory: true,
                pids: true,
                cpu: true
            }
        );
        assert_eq!(why, None);
        assert_eq!(
            fs::read_to_string(cg.dir().join("memory.max")).unwrap(),
            "268435456"
        );
        assert_eq!(fs::read_to_string(cg.dir().join("pids.max")).unwrap(), "32");
        assert_eq!(
            fs::read_to_string(cg.dir().join("cpu.max")).unwrap(),
            "150000 100000"
        );
        assert!(
            cg.dir()
                .file_name()
                .unwrap()
                .to_str()
                .unwrap()
                .starts_with("sidecar-")
        );
        fs::write(cg.dir().join("memory.events"), "low 0\noom 1\noom_kill 2\n").unwrap();
        assert_eq!(cg.oom_kills(), 2);
        let dir = cg.dir().to_path_buf();
        // A real cgroup directory's files vanish with rmdir; here they are
        // removed first so dropping it can finish.
        for f in fs::read_dir(&dir).unwrap() {
            fs::remove_file(f.unwrap().path()).unwrap();
        }
        drop(cg);
        assert!(!dir.exists());
        fs::remove_dir_all(parent).unwrap();
    }

    #[test]
    fn missing_controllers_are_reported() {
        let parent = tempfile_dir("cg-none");
        fs::write(parent.join("cgroup.controllers"), "").unwrap();
        let wants = Wants {
            memory: Some(1 << 30),
            pids: Some(8),
            cpus: None,
        };
        let (cg, applied, why) = setup(Some(&parent), &wants);
        assert!(cg.is_none());
        assert_eq!(applied, Applied::default());
        let why = why.unwrap();
        assert!(why.contains("memory, pids controllers"), "{why}");
        fs::remove_dir_all(parent).unwrap();
    }

    fn tempfile_dir(tag: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!(
            "{tag}-{}-{:?}",
            std::process::id(),
            std::thread::current().id()
        ));
        let _ = fs::remove_dir_all(&d);
        fs::create_dir_all(&d).unwrap();
        d
    }
}
