//! Test data trees: creating sample data, taking a snapshot of a tree
//! (contents, modes, symlink targets) and comparing two snapshots.

use std::collections::BTreeMap;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kind {
    File(Vec<u8>),
    Dir,
    Link(PathBuf),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub kind: Kind,
    /// Permission bits (0 for symlinks).
    pub mode: u32,
}

/// Relative path -> entry, for everything below a root (the root itself excluded).
pub type Snapshot = BTreeMap<PathBuf, Entry>;

pub fn snapshot(root: &Path) -> Result<Snapshot> {
    let mut out = Snapshot::new();
    walk(root, root, &mut out)?;
    Ok(out)
}

fn walk(root: &Path, dir: &Path, out: &mut Snapshot) -> Result<()> {
    for e in std::fs::read_dir(dir).with_context(|| format!("read {}", dir.display()))? {
        let e = e?;
        let path = e.path();
        let rel = path.strip_prefix(root)?.to_path_buf();
        let meta = std::fs::symlink_metadata(&path)?;
        let ft = meta.file_type();
        let entry = if ft.is_symlink() {
            Entry {
                kind: Kind::Link(std::fs::read_link(&path)?),
                mode: 0,
            }
        } else if ft.is_dir() {
            walk(root, &path, out)?;
            Entry {
                kind: Kind::Dir,
                mode: meta.permissions().mode() & 0o7777,
            }
        } else {
            Entry {
                kind: Kind::File(std::fs::read(&path)?),
                mode: meta.permissions().mode() & 0o7777,
            }
        };
        out.insert(rel, entry);
    }
    Ok(())
}

/// What to compare besides contents and symlink targets.
#[derive(Debug, Clone, Copy)]
pub struct Compare {
    pub file_modes: bool,
    pub dir_modes: bool,
}

pub const CONTENTS_AND_MODES: Compare = Compare {
    file_modes: true,
    dir_modes: true,
};

/// Differences between the expected and the restored tree, or Ok.
pub fn compare(expected: &Snapshot, actual: &Snapshot, how: Compare) -> Result<()> {
    let mut diffs = Vec::new();
    for (path, want) in expected {
        match actual.get(path) {
            None => diffs.push(format!("missing: {}", path.display())),
            Some(got) => {
                let same_kind = match (&want.kind, &got.kind) {
                    (Kind::File(a), Kind::File(b)) => {
                        if a != b {
                            diffs.push(format!(
                                "contents differ: {} ({} vs {} bytes)",
                                path.display(),
                                a.len(),
                                b.len()
                            ));
                        }
                        true
                    }
                    (Kind::Dir, Kind::Dir) => true,
                    (Kind::Link(a), Kind::Link(b)) => {
                        if a != b {
                            diffs.push(format!(
                                "symlink target differs: {} ({} vs {})",
                                path.display(),
                                a.display(),
                                b.display()
                            ));
                        }
                        true
                    }
                    _ => {
                        diffs.push(format!(
                            "type differs: {} ({:?} vs {:?})",
                            path.display(),
                            kind(want),
                            kind(got)
                        ));
                        false
                    }
                };
                let check_mode = match want.kind {
                    Kind::File(_) => how.file_modes,
                    Kind::Dir => how.dir_modes,
                    Kind::Link(_) => false,
                };
                if same_kind && check_mode && want.mode != got.mode {
                    diffs.push(format!(
                        "mode differs: {} ({:o} vs {:o})",
                        path.display(),
                        want.mode,
                        got.mode
                    ));
                }
            }
        }
    }
    for path in actual.keys() {
        if !expected.contains_key(path) {
            diffs.push(format!("unexpected: {}", path.display()));
        }
    }
    if diffs.is_empty() {
        return Ok(());
    }
    let n = diffs.len();
    diffs.truncate(12);
    bail!(
        "restored tree differs ({n} differences): {}",
        diffs.join("; ")
    )
}

fn kind(e: &Entry) -> &'static str {
    match e.kind {
        Kind::File(_) => "file",
        Kind::Dir => "dir",
        Kind::Link(_) => "symlink",
    }
}

/// Deterministic pseudo-random bytes.
pub fn noise(seed: u64, len: usize) -> Vec<u8> {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}

pub fn write_file(path: &Path, data: &[u8], mode: u32) -> Result<()> {
    if let Some(p) = path.parent() {
        std::fs::create_dir_all(p)?;
    }
    std::fs::write(path, data).with_context(|| format!("write {}", path.display()))?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))?;
    Ok(())
}

/// A sample tree: small, empty and larger files, nested directories, a
/// symlink, odd names, several modes.
pub fn make_sample(root: &Path, seed: u64) -> Result<()> {
    std::fs::create_dir_all(root)?;
    write_file(&root.join("hello.txt"), b"hello bareos\n", 0o644)?;
    write_file(&root.join("empty"), b"", 0o600)?;
    write_file(&root.join("run.sh"), b"#!/bin/sh\necho hi\n", 0o755)?;
    write_file(
        &root.join("sub/numbers.txt"),
        numbers(5000).as_bytes(),
        0o640,
    )?;
    write_file(
        &root.join("sub/deeper/random.bin"),
        &noise(seed, 300_000),
        0o644,
    )?;
    // (ACCEPTANCE_ASCII_NAMES=1: for a reference run of the stock python3-fd,
    // whose Python cannot encode such names without a UTF-8 locale.)
    let odd = if std::env::var_os("ACCEPTANCE_ASCII_NAMES").is_some() {
        "with space.txt"
    } else {
        "with space é.txt"
    };
    write_file(&root.join("sub").join(odd), "ünïcödé\n".as_bytes(), 0o644)?;
    write_file(&root.join("big.bin"), &noise(seed + 1, 3 << 20), 0o644)?;
    std::fs::create_dir_all(root.join("empty-dir"))?;
    std::fs::set_permissions(
        root.join("empty-dir"),
        std::fs::Permissions::from_mode(0o750),
    )?;
    std::os::unix::fs::symlink("hello.txt", root.join("link-to-hello"))?;
    Ok(())
}

fn numbers(n: u32) -> String {
    (1..=n).map(|i| format!("{i}\n")).collect()
}

/// The relative path of `abs` inside `where_` (Bareos restores to
/// WHERE/<original absolute path>).
pub fn restored_root(where_: &Path, original: &Path) -> PathBuf {
    where_.join(original.strip_prefix("/").unwrap_or(original))
}

#[cfg(test)]
mod tests {
    use super::*;

    const CONTENTS_ONLY: Compare = Compare {
        file_modes: false,
        dir_modes: false,
    };

    fn file(data: &[u8], mode: u32) -> Entry {
        Entry {
            kind: Kind::File(data.to_vec()),
            mode,
        }
    }

    #[test]
    fn compare_reports_each_kind_of_difference() {
        let mut a = Snapshot::new();
        a.insert("x".into(), file(b"1", 0o644));
        a.insert(
            "l".into(),
            Entry {
                kind: Kind::Link("x".into()),
                mode: 0,
            },
        );
        a.insert("gone".into(), file(b"", 0o600));
        let mut b = a.clone();
        assert!(compare(&a, &b, CONTENTS_AND_MODES).is_ok());
        b.insert("x".into(), file(b"1", 0o600));
        assert!(compare(&a, &b, CONTENTS_ONLY).is_ok());
        let err = compare(&a, &b, CONTENTS_AND_MODES).unwrap_err().to_string();
        assert!(err.contains("mode differs: x"), "{err}");
        b.remove(Path::new("gone"));
        b.insert(
            "new".into(),
            Entry {
                kind: Kind::Dir,
                mode: 0o755,
            },
        );
        let err = compare(&a, &b, CONTENTS_ONLY).unwrap_err().to_string();
        assert!(
            err.contains("missing: gone") && err.contains("unexpected: new"),
            "{err}"
        );
    }

    #[test]
    fn noise_is_deterministic() {
        assert_eq!(noise(1, 64), noise(1, 64));
        assert_ne!(noise(1, 64), noise(2, 64));
    }

    #[test]
    fn restored_root_joins_the_absolute_path() {
        assert_eq!(
            restored_root(Path::new("/r"), Path::new("/data/x")),
            PathBuf::from("/r/data/x")
        );
    }
}
