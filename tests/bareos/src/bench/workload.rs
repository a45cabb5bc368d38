//! The benchmark's data: SMALL (many 1 KiB files in directories), BIG
//! (one large file), and the checks of their restores (and of PYDATA's,
//! whose bytes sidecar_generated.py computes).

use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

use crate::tree;

/// Sizes of the workloads (`--quick`: a tenth).
#[derive(Debug, Clone, Copy)]
pub struct Sizes {
    pub small_files: u64,
    pub small_dirs: u64,
    pub small_size: u64,
    pub big: u64,
    pub pydata: u64,
}

impl Sizes {
    pub fn new(quick: bool) -> Sizes {
        let div = if quick { 10 } else { 1 };
        Sizes {
            small_files: 20_000 / div,
            small_dirs: 100 / div,
            small_size: 1024,
            big: (1 << 30) / div,
            pydata: (1 << 30) / div,
        }
    }
}

/// SMALL: `files` files of `size` bytes in `dirs` directories below
/// `root` (ASCII names: the stock python3-fd runs with the daemon's bare
/// environment, whose Python cannot encode other names).
pub fn make_small(root: &Path, s: &Sizes) -> Result<()> {
    if root.exists() {
        std::fs::remove_dir_all(root)?;
    }
    let per_dir = s.small_files.div_ceil(s.small_dirs);
    let mut n = 0;
    for d in 0..s.small_dirs {
        let dir = root.join(format!("d{d:03}"));
        std::fs::create_dir_all(&dir)?;
        for f in 0..per_dir {
            if n == s.small_files {
                break;
            }
            tree::write_file(
                &dir.join(format!("f{f:05}.dat")),
                &tree::noise(n + 1, s.small_size as usize),
                0o644,
            )?;
            n += 1;
        }
    }
    Ok(())
}

/// BIG: one file of `size` pseudo-random bytes.
pub fn make_big(path: &Path, size: u64) -> Result<()> {
    if let Some(p) = path.parent() {
        std::fs::create_dir_all(p)?;
    }
    let mut f = std::io::BufWriter::with_capacity(1 << 20, std::fs::File::create(path)?);
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut chunk = vec![0u8; 1 << 20];
    let mut left = size;
    while left > 0 {
        for w in chunk.chunks_exact_mut(8) {
            // splitmix64
            x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = x;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            w.copy_from_slice(&(z ^ (z >> 31)).to_le_bytes());
        }
        let n = left.min(chunk.len() as u64) as usize;
        f.write_all(&chunk[..n])?;
        left -= n as u64;
    }
    f.flush()?;
    Ok(())
}

/// The restored copy of `original` below a restore's `where`.
pub fn restored(where_: &Path, original: &Path) -> PathBuf {
    tree::restored_root(where_, original)
}

/// The restored SMALL tree has the same files with the same contents.
pub fn verify_tree(original: &Path, restored: &Path) -> Result<()> {
    let want = tree::snapshot(original)?;
    let got =
        tree::snapshot(restored).with_context(|| format!("restored {}", restored.display()))?;
    tree::compare(
        &want,
        &got,
        tree::Compare {
            file_modes: true,
            dir_modes: false,
        },
    )
}

fn read_full(f: &mut std::fs::File, buf: &mut [u8]) -> Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        let k = f.read(&mut buf[n..])?;
        if k == 0 {
            break;
        }
        n += k;
    }
    Ok(n)
}

/// Two files have the same bytes.
pub fn verify_same_file(original: &Path, restored: &Path) -> Result<()> {
    let mut a = std::fs::File::open(original)?;
    let mut b = std::fs::File::open(restored)
        .with_context(|| format!("restored file {}", restored.display()))?;
    let (mut ba, mut bb) = (vec![0u8; 1 << 20], vec![0u8; 1 << 20]);
    let mut off = 0u64;
    loop {
        let na = read_full(&mut a, &mut ba)?;
        let nb = read_full(&mut b, &mut bb)?;
        if na != nb || ba[..na] != bb[..nb] {
            bail!(
                "{} differs from {} in the MiB at offset {off}",
                restored.display(),
                original.display()
            );
        }
        if na == 0 {
            return Ok(());
        }
        off += na as u64;
    }
}

/// sidecar_generated.py's file 0: byte j is (j * 31) % 251, `size` bytes.
pub fn verify_generated(restored: &Path, size: u64) -> Result<()> {
    const PERIOD: usize = 251;
    let mut f = std::fs::File::open(restored)
        .with_context(|| format!("restored file {}", restored.display()))?;
    let len = f.metadata()?.len();
    if len != size {
        bail!("{} has {len} bytes, expected {size}", restored.display());
    }
    // A whole number of periods per chunk keeps the pattern aligned.
    let chunk = PERIOD * 4096;
    let want: Vec<u8> = (0..chunk).map(|j| ((j * 31) % PERIOD) as u8).collect();
    let mut buf = vec![0u8; chunk];
    let mut off = 0u64;
    loop {
        let n = read_full(&mut f, &mut buf)?;
        if n == 0 {
            return Ok(());
        }
        if buf[..n] != want[..n] {
            bail!(
                "{} differs from sidecar_generated's pattern near offset {off}",
                restored.display()
            );
        }
        off += n as u64;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_pattern_matches_the_plugins_formula() {
        let d = std::env::temp_dir().join(format!("bench-gen-{}", std::process::id()));
        std::fs::create_dir_all(&d).unwrap();
        let p = d.join("g");
        let size = 251 * 4096 * 2 + 77;
        let data: Vec<u8> = (0..size).map(|j| ((j * 31) % 251) as u8).collect();
        std::fs::write(&p, &data).unwrap();
        verify_generated(&p, size as u64).unwrap();
        let mut bad = data.clone();
        bad[size - 3] ^= 1;
        std::fs::write(&p, &bad).unwrap();
        assert!(verify_generated(&p, size as u64).is_err());
        std::fs::remove_dir_all(&d).unwrap();
    }
}
