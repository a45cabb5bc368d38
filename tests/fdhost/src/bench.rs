//! `fdhost bench`: the same workloads backed up and restored in three modes,
//! side by side in one run.
//!
//! * `native`: no plugin; fdhost walks and reads the tree itself (a
//!   `File =` FileSet, `job::native`) and on restore writes it back as the
//!   core does for ordinary files.
//! * `inprocess`: python3-fd's architecture: the same `bareosfd` module and
//!   dispatcher as the runner, hosted inside the daemon process
//!   (`libsidecar_inprocess.so` installed as `python3-fd.so`); Python is
//!   initialised once per daemon and all jobs share one GIL.
//! * `sidecar`: the shim (`python3-fd.so`) and one `sidecar-runner` per job.
//!
//! Every measured run is a fresh daemon process (`fdhost bench-run`, hidden),
//! so modes cannot disturb each other (two different `python3-fd.so` cannot
//! be loaded in one daemon). The child loads the plugins, then times only
//! the job(s): from the job's creation (newPlugin) until freePlugin has
//! returned, i.e. what a Bareos job would take. Restores are checked
//! byte for byte against the source (or the generator's pattern).

use std::ffi::CString;
use std::io::{Read, Write};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::{Duration, Instant};

use clap::Parser;
use sidecar_shim::abi::msg;

use crate::cli::{self, BackupArgs, BenchArgs, BenchRunArgs, Cli, Common};
use crate::core::{self, daemon_msg};
use crate::job::{self, Job, Totals};
use crate::loader::{self, LoadedPlugin};
use crate::report::{self, Kind};

/// Read size of the core's data buffer (bytes per read), as bareos-fd's default.
const READ_SIZE: usize = 65536;
/// The byte pattern of `sidecar_generated.py`: byte j of file i.
const PERIOD: u64 = 251;

// ------------------------------------------------------------------ child

/// `fdhost bench-run`: one measured run in a fresh daemon process. Prints
/// `bench-result wall_us=N files=N bytes=N ok=0|1 rss_kib=N`.
pub fn run_child(a: &BenchRunArgs) -> ExitCode {
    let plugins: Vec<LoadedPlugin> = match &a.plugin_dir {
        Some(dir) => {
            core::init_daemon(core::Daemon {
                debug: a.debug,
                working_dir: c"/tmp".into(),
                exe_path: c"/".into(),
                plugin_dir: CString::new(dir.as_os_str().as_bytes()).unwrap_or_default(),
                used_config: c"".into(),
            });
            match loader::load_plugins(dir, &["python3".to_string()]) {
                Ok(p) if !p.is_empty() => p,
                Ok(_) => {
                    daemon_msg(msg::ERROR, "bench-run: python3-fd.so was not loaded\n");
                    return ExitCode::from(2);
                }
                Err(e) => {
                    daemon_msg(msg::ERROR, &format!("{e}\n"));
                    return ExitCode::from(2);
                }
            }
        }
        None => Vec::new(),
    };
    let Some(common) = backup_args(a, Path::new("/dev/null")).map(|b| b.common) else {
        daemon_msg(msg::ERROR, "bench-run: bad arguments\n");
        return ExitCode::from(2);
    };
    let base = rss_kib();
    let peak = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(base));
    let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let sampler = {
        let (peak, done) = (peak.clone(), done.clone());
        std::thread::spawn(move || {
            while !done.load(std::sync::atomic::Ordering::Relaxed) {
                peak.fetch_max(rss_kib(), std::sync::atomic::Ordering::Relaxed);
                std::thread::sleep(Duration::from_millis(10));
            }
        })
    };
    let started = Instant::now();
    let results: Vec<Option<Totals>> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..a.parallel)
            .map(|k| {
                let (plugins, common) = (&plugins, &common);
                s.spawn(move || one_job(a, plugins, common, k))
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().ok().flatten())
            .collect()
    });
    let wall = started.elapsed();
    done.store(true, std::sync::atomic::Ordering::Relaxed);
    let _ = sampler.join();
    let kind = if a.restore {
        Kind::Restore
    } else {
        Kind::Backup
    };
    let (mut files, mut bytes, mut ok) = (0, 0, true);
    for t in &results {
        match t {
            Some(t) => {
                files += t.files;
                bytes += t.bytes;
                let term = report::termination(kind, t);
                if term != "Backup OK" && term != "Restore OK" {
                    report::print(kind, t);
                    ok = false;
                }
            }
            None => ok = false,
        }
    }
    loader::unload_all(plugins);
    let rss = peak.load(std::sync::atomic::Ordering::Relaxed) - base;
    println!(
        "bench-result wall_us={} files={files} bytes={bytes} ok={} rss_kib={rss}",
        wall.as_micros(),
        ok as u8
    );
    ExitCode::SUCCESS
}

/// This process's resident set (cheap: one small /proc read).
fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/statm")
        .ok()
        .and_then(|s| s.split_whitespace().nth(1)?.parse::<u64>().ok())
        .map_or(0, |pages| pages * 4)
}

fn one_job(a: &BenchRunArgs, plugins: &[LoadedPlugin], common: &Common, k: u32) -> Option<Totals> {
    let archive = a.archive_dir.join(format!("job-{k}.archive"));
    let jobid = 1 + k;
    if a.restore {
        let where_ = a.where_.as_ref()?.join(k.to_string());
        let mut p = crate::params(common, Kind::Restore, None);
        p.jobid = jobid;
        p.where_ = Some(CString::new(where_.as_os_str().as_bytes()).ok()?);
        let opts = job::restore::RestoreOptions {
            where_: Some(where_.to_string_lossy().into_owned()),
            regex_where: None,
            replace: b'a',
        };
        let bootstrap = crate::bootstrap::Bootstrap::build(&[archive], None).ok()?;
        let mut job = Job::start(plugins, p, a.debug);
        job::restore::run(&mut job, &opts, &bootstrap);
        return Some(job.finish());
    }
    // Native: the core's own FileSet walk (`File =`); else the plugin.
    let b = backup_args(a, &archive)?;
    crate::backup(
        plugins,
        &b.common,
        &b.fileset,
        &archive,
        jobid,
        READ_SIZE as u32,
    )
    .ok()
    .flatten()
}

/// The `fdhost backup` arguments of this run, so every FileSet option has
/// the command line's default.
fn backup_args(a: &BenchRunArgs, archive: &Path) -> Option<BackupArgs> {
    let mut args: Vec<std::ffi::OsString> = vec![
        "fdhost".into(),
        "backup".into(),
        "--plugin-dir".into(),
        a.plugin_dir
            .clone()
            .unwrap_or_else(|| "/nonexistent".into())
            .into(),
        "--archive".into(),
        archive.into(),
        // The benchmark measures the data path, as documented: no
        // getAcl/getXattr round trips (bareos's default has them on).
        "--no-acl".into(),
        "--no-xattr".into(),
    ];
    match (&a.native, &a.plugin) {
        (Some(tree), _) => args.extend(["--file".into(), tree.into()]),
        (None, Some(p)) => args.extend(["--plugin".into(), p.into()]),
        (None, None) => {
            // Restores need only the common settings.
            args.extend(["--file".into(), "/nonexistent".into()]);
        }
    }
    match Cli::try_parse_from(args).ok()?.command {
        cli::Command::Backup(b) => Some(b),
        _ => None,
    }
}

fn read_full(f: &mut std::fs::File, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut got = 0;
    while got < buf.len() {
        match f.read(&mut buf[got..]) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(got)
}

// ----------------------------------------------------------------- parent

#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
enum Mode {
    Native,
    InProcess,
    Sidecar,
}

impl Mode {
    fn name(self) -> &'static str {
        match self {
            Mode::Native => "native",
            Mode::InProcess => "inprocess",
            Mode::Sidecar => "sidecar",
        }
    }
}

/// What a restore must reproduce.
#[derive(Clone)]
enum Source {
    /// A tree: restored under `where/<absolute path>`.
    Tree(PathBuf),
    /// `sidecar_generated.py` files `<prefix>/file-<i>` of these sizes.
    Generated { prefix: String, sizes: Vec<u64> },
}

struct Workload {
    name: &'static str,
    /// What the table says about it.
    what: String,
    /// The Python plugin string (plugin modes).
    plugin: String,
    /// The tree native mode walks (None: no native equivalent).
    native: Option<PathBuf>,
    source: Source,
    parallel: u32,
    /// files/s (true) or MB/s.
    per_file: bool,
}

#[derive(Default, Clone)]
struct Sample {
    secs: f64,
    files: u64,
    bytes: u64,
    rss_kib: u64,
}

#[derive(Default)]
struct Cell {
    backup: Vec<Sample>,
    restore: Vec<Sample>,
    /// Why the mode could not run or failed, if it did.
    error: Option<String>,
}

struct Setup {
    exe: PathBuf,
    work: PathBuf,
    examples: PathBuf,
    modes: Vec<(Mode, Option<PathBuf>)>,
    debug: i32,
}

pub fn run(a: &BenchArgs) -> ExitCode {
    match run_inner(a) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(e) => {
            eprintln!("fdhost bench: {e}");
            ExitCode::from(2)
        }
    }
}

fn run_inner(a: &BenchArgs) -> Result<bool, String> {
    let exe = std::env::current_exe().map_err(|e| format!("cannot find fdhost itself: {e}"))?;
    let bin = exe.parent().ok_or("fdhost has no directory")?.to_path_buf();
    let tmp_holder;
    let work = match &a.work_dir {
        Some(d) => {
            std::fs::create_dir_all(d).map_err(|e| format!("{}: {e}", d.display()))?;
            d.clone()
        }
        None => {
            tmp_holder = TempDir::new()?;
            tmp_holder.0.clone()
        }
    };
    let examples = a
        .examples
        .clone()
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../python/examples"));
    let runs = if a.quick { 1 } else { a.runs.max(1) };
    let (small_files, small_dirs, small_size) = if a.quick {
        (200, 10, 1024)
    } else {
        (20_000, 100, 1024)
    };
    let big: u64 = if a.quick { 4 << 20 } else { 1 << 30 };
    let pydata: u64 = big;

    // Plugin directories.
    let mut modes = Vec::new();
    for m in &a.modes {
        let mode = match m.as_str() {
            "native" => Mode::Native,
            "inprocess" => Mode::InProcess,
            "sidecar" => Mode::Sidecar,
            other => return Err(format!("unknown mode {other:?}")),
        };
        let dir = match mode {
            Mode::Native => None,
            Mode::Sidecar => {
                let d = work.join("plugins-sidecar");
                std::fs::create_dir_all(d.join("sidecar")).map_err(|e| e.to_string())?;
                copy(&bin.join("libsidecar_shim.so"), &d.join("python3-fd.so"))?;
                copy(
                    &bin.join("sidecar-runner"),
                    &d.join("sidecar/sidecar-runner"),
                )?;
                Some(d)
            }
            Mode::InProcess => {
                let lib = bin.join("libsidecar_inprocess.so");
                if !lib.exists() {
                    eprintln!(
                        "fdhost bench: {} is missing (cargo build --workspace): mode inprocess skipped",
                        lib.display()
                    );
                    continue;
                }
                let d = work.join("plugins-inprocess");
                std::fs::create_dir_all(&d).map_err(|e| e.to_string())?;
                copy(&lib, &d.join("python3-fd.so"))?;
                Some(d)
            }
        };
        modes.push((mode, dir));
    }
    let setup = Setup {
        exe: exe.clone(),
        work: work.clone(),
        examples: examples.clone(),
        modes,
        debug: a.debug,
    };

    // Workloads.
    eprintln!("fdhost bench: creating the workloads in {}", work.display());
    let small = work.join("small");
    make_small(&small, small_files, small_dirs, small_size)?;
    let bigdir = work.join("big");
    make_big(&bigdir, big)?;
    let list = |name: &str, tree: &Path| -> Result<PathBuf, String> {
        let l = work.join(format!("{name}.list"));
        std::fs::write(&l, format!("{}\n", tree.display())).map_err(|e| e.to_string())?;
        Ok(l)
    };
    let fileset = |tree: &Path, io: &str, name: &str| -> Result<String, String> {
        Ok(format!(
            "python3:module_path={}:module_name=sidecar_local_fileset:filename={}:io={io}",
            examples.display(),
            list(name, tree)?.display()
        ))
    };
    let generated = |size: u64| {
        format!(
            "python3:module_path={}:module_name=sidecar_generated:files=1:size={size}:prefix=/pydata",
            examples.display()
        )
    };
    let small_what = format!("{small_files} x {small_size} B in {small_dirs} dirs");
    let all = vec![
        Workload {
            name: "start",
            what: "one empty file (runner start + module load)".into(),
            plugin: generated(0),
            native: None,
            source: Source::Generated {
                prefix: "/pydata".into(),
                sizes: vec![0],
            },
            parallel: 1,
            per_file: true,
        },
        Workload {
            name: "small-pluginio",
            what: format!("SMALL {small_what}, plugin_io"),
            plugin: fileset(&small, "plugin", "small-pluginio")?,
            native: Some(small.clone()),
            source: Source::Tree(small.clone()),
            parallel: 1,
            per_file: true,
        },
        Workload {
            name: "small-direct",
            what: format!("SMALL {small_what}, direct I/O"),
            plugin: fileset(&small, "core", "small-direct")?,
            native: Some(small.clone()),
            source: Source::Tree(small.clone()),
            parallel: 1,
            per_file: true,
        },
        Workload {
            name: "big-direct",
            what: format!("BIG one {} file, direct I/O", human(big)),
            plugin: fileset(&bigdir, "core", "big-direct")?,
            native: Some(bigdir.clone()),
            source: Source::Tree(bigdir.clone()),
            parallel: 1,
            per_file: false,
        },
        Workload {
            name: "pydata",
            what: format!("PYDATA {} generated in Python, plugin_io", human(pydata)),
            plugin: generated(pydata),
            native: None,
            source: Source::Generated {
                prefix: "/pydata".into(),
                sizes: vec![pydata],
            },
            parallel: 1,
            per_file: false,
        },
        Workload {
            name: "pydata-x2",
            what: format!("2 concurrent PYDATA jobs of {}", human(pydata)),
            plugin: generated(pydata),
            native: None,
            source: Source::Generated {
                prefix: "/pydata".into(),
                sizes: vec![pydata],
            },
            parallel: 2,
            per_file: false,
        },
        Workload {
            name: "small-pluginio-x2",
            what: "2 concurrent SMALL plugin_io jobs (not by default)".into(),
            plugin: fileset(&small, "plugin", "small-pluginio")?,
            native: Some(small.clone()),
            source: Source::Tree(small.clone()),
            parallel: 2,
            per_file: true,
        },
    ];
    let workloads: Vec<Workload> = all
        .into_iter()
        .filter(|w| {
            if a.workloads.is_empty() {
                w.name != "small-pluginio-x2" || a.quick
            } else {
                a.workloads.iter().any(|n| n == w.name)
            }
        })
        .collect();

    let mut table: Vec<(Workload, Vec<(Mode, Cell)>)> = Vec::new();
    let mut all_ok = true;
    for w in workloads {
        let mut cells = Vec::new();
        for (mode, dir) in &setup.modes {
            let mut cell = Cell::default();
            if *mode == Mode::Native && w.native.is_none() {
                cells.push((*mode, cell));
                continue;
            }
            for r in 0..runs {
                eprintln!(
                    "fdhost bench: {} {} run {}/{runs}",
                    w.name,
                    mode.name(),
                    r + 1
                );
                match one_run(&setup, &w, *mode, dir.as_deref(), r == 0 || a.quick) {
                    Ok((b, rs)) => {
                        eprintln!(
                            "fdhost bench: {} {}: backup {:.3} s ({} files, {} bytes), restore {:.3} s",
                            w.name,
                            mode.name(),
                            b.secs,
                            b.files,
                            b.bytes,
                            rs.secs
                        );
                        cell.backup.push(b);
                        cell.restore.push(rs);
                    }
                    Err(e) => {
                        eprintln!("fdhost bench: {} {}: {e}", w.name, mode.name());
                        cell.error = Some(e);
                        all_ok = false;
                        break;
                    }
                }
            }
            cells.push((*mode, cell));
        }
        table.push((w, cells));
    }
    print_table(&table, runs, a.quick);
    Ok(all_ok)
}

/// One backup and the restore of its archive; the restore is verified
/// when `verify`.
fn one_run(
    s: &Setup,
    w: &Workload,
    mode: Mode,
    plugin_dir: Option<&Path>,
    verify: bool,
) -> Result<(Sample, Sample), String> {
    let archives = s.work.join(format!("archives-{}-{}", w.name, mode.name()));
    let where_ = s.work.join(format!("restored-{}-{}", w.name, mode.name()));
    let _ = std::fs::remove_dir_all(&where_);
    std::fs::create_dir_all(&archives).map_err(|e| e.to_string())?;
    let mut args: Vec<String> = vec![
        "bench-run".into(),
        "--archive-dir".into(),
        archives.display().to_string(),
        "--parallel".into(),
        w.parallel.to_string(),
        "-d".into(),
        s.debug.to_string(),
    ];
    match (mode, plugin_dir) {
        (Mode::Native, _) => {
            args.push("--native".into());
            args.push(
                w.native
                    .as_ref()
                    .ok_or("no native equivalent")?
                    .display()
                    .to_string(),
            );
        }
        (_, Some(dir)) => {
            args.push("--plugin-dir".into());
            args.push(dir.display().to_string());
            args.push("--plugin".into());
            args.push(w.plugin.clone());
        }
        (_, None) => return Err("no plugin directory".into()),
    }
    let backup = child(&s.exe, &args)?;
    // Restore: native archives hold no plugin records, so the core itself
    // writes them; plugin archives go back through the plugin.
    let mut rargs: Vec<String> = args
        .iter()
        .take(7)
        .cloned()
        .chain(["--restore".into(), "--where".into()])
        .collect();
    rargs.push(where_.display().to_string());
    if let Some(dir) = plugin_dir {
        rargs.push("--plugin-dir".into());
        rargs.push(dir.display().to_string());
    }
    let restore = child(&s.exe, &rargs)?;
    if verify {
        for k in 0..w.parallel {
            verify_restore(&w.source, &where_.join(k.to_string()))
                .map_err(|e| format!("restore of job {k} differs: {e}"))?;
        }
    }
    let _ = std::fs::remove_dir_all(&where_);
    let _ = std::fs::remove_dir_all(&archives);
    let _ = &s.examples;
    Ok((backup, restore))
}

fn child(exe: &Path, args: &[String]) -> Result<Sample, String> {
    let out = Command::new(exe)
        .args(args)
        .output()
        .map_err(|e| format!("cannot run {}: {e}", exe.display()))?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    let line = stdout
        .lines()
        .find(|l| l.starts_with("bench-result "))
        .ok_or_else(|| {
            format!(
                "no result from `fdhost {}`:\n{stdout}\n{}",
                args.join(" "),
                String::from_utf8_lossy(&out.stderr)
            )
        })?;
    let field = |k: &str| -> u64 {
        line.split_whitespace()
            .find_map(|f| f.strip_prefix(k)?.strip_prefix('='))
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    };
    if field("ok") != 1 {
        return Err(format!(
            "the job failed (`fdhost {}`):\n{stdout}\n{}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    Ok(Sample {
        secs: field("wall_us") as f64 / 1e6,
        files: field("files"),
        bytes: field("bytes"),
        rss_kib: field("rss_kib"),
    })
}

// ------------------------------------------------------------- workloads

fn make_small(root: &Path, files: usize, dirs: usize, size: usize) -> Result<(), String> {
    let marker = root.join(format!(".complete-{files}-{dirs}-{size}"));
    if marker.exists() {
        return Ok(());
    }
    let _ = std::fs::remove_dir_all(root);
    for i in 0..files {
        let d = root.join(format!("d{:03}", i % dirs));
        if i < dirs {
            std::fs::create_dir_all(&d).map_err(|e| e.to_string())?;
        }
        std::fs::write(d.join(format!("f{i:05}")), noise(size, i as u64 + 1))
            .map_err(|e| e.to_string())?;
    }
    std::fs::write(&marker, b"").map_err(|e| e.to_string())?;
    // The marker is part of the tree: it is backed up and compared too.
    Ok(())
}

fn make_big(dir: &Path, size: u64) -> Result<(), String> {
    let path = dir.join("big.bin");
    if std::fs::metadata(&path).is_ok_and(|m| m.len() == size) {
        return Ok(());
    }
    std::fs::create_dir_all(dir).map_err(|e| e.to_string())?;
    let mut f = std::io::BufWriter::new(std::fs::File::create(&path).map_err(|e| e.to_string())?);
    let chunk = noise(1 << 20, 99);
    let mut left = size;
    let mut k = 0u8;
    while left > 0 {
        let n = left.min(chunk.len() as u64) as usize;
        // Vary every MiB so no two blocks are alike.
        let mut c = chunk[..n].to_vec();
        c[0] = k;
        k = k.wrapping_add(1);
        f.write_all(&c).map_err(|e| e.to_string())?;
        left -= n as u64;
    }
    f.flush().map_err(|e| e.to_string())?;
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644))
        .map_err(|e| e.to_string())
}

fn noise(len: usize, seed: u64) -> Vec<u8> {
    let mut out = Vec::with_capacity(len + 8);
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    while out.len() < len {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        out.extend_from_slice(&x.to_le_bytes());
    }
    out.truncate(len);
    out
}

fn human(b: u64) -> String {
    if b >= 1 << 30 && b.is_multiple_of(1 << 30) {
        format!("{} GiB", b >> 30)
    } else if b >= 1 << 20 {
        format!("{} MiB", b >> 20)
    } else {
        format!("{b} B")
    }
}

// ---------------------------------------------------------- verification

fn verify_restore(source: &Source, where_: &Path) -> Result<(), String> {
    match source {
        Source::Tree(src) => {
            let restored = where_.join(src.strip_prefix("/").unwrap_or(src));
            let n = same_tree(src, &restored)?;
            if n == 0 {
                return Err("nothing compared".into());
            }
            Ok(())
        }
        Source::Generated { prefix, sizes } => {
            for (i, &size) in sizes.iter().enumerate() {
                let p = where_
                    .join(prefix.trim_start_matches('/'))
                    .join(format!("file-{i}"));
                let mut f = std::fs::File::open(&p).map_err(|e| format!("{}: {e}", p.display()))?;
                let mut buf = vec![0u8; 1 << 20];
                let mut off = 0u64;
                loop {
                    let n = read_full(&mut f, &mut buf).map_err(|e| e.to_string())?;
                    if n == 0 {
                        break;
                    }
                    for (j, b) in buf[..n].iter().enumerate() {
                        let want = ((off + j as u64) * 31 + i as u64 * 7) % PERIOD;
                        if *b as u64 != want {
                            return Err(format!(
                                "{}: byte {} is {b}, not {want}",
                                p.display(),
                                off + j as u64
                            ));
                        }
                    }
                    off += n as u64;
                }
                if off != size {
                    return Err(format!("{}: {off} bytes, not {size}", p.display()));
                }
            }
            Ok(())
        }
    }
}

/// Same entries, types, contents, symlink targets and modes.
fn same_tree(a: &Path, b: &Path) -> Result<usize, String> {
    let mut checked = 0;
    let mut stack = vec![PathBuf::new()];
    while let Some(rel) = stack.pop() {
        let (pa, pb) = (a.join(&rel), b.join(&rel));
        let ma = std::fs::symlink_metadata(&pa).map_err(|e| format!("{}: {e}", pa.display()))?;
        let mb = std::fs::symlink_metadata(&pb)
            .map_err(|e| format!("{} missing after restore: {e}", pb.display()))?;
        if ma.file_type() != mb.file_type() {
            return Err(format!("{}: type differs", rel.display()));
        }
        if !ma.file_type().is_symlink() && ma.mode() != mb.mode() {
            return Err(format!("{}: mode differs", rel.display()));
        }
        if ma.is_file() && !same_contents(&pa, &pb)? {
            return Err(format!("{}: contents differ", rel.display()));
        }
        if ma.is_dir() {
            let names = |p: &Path| -> Result<Vec<_>, String> {
                let mut v: Vec<_> = std::fs::read_dir(p)
                    .map_err(|e| e.to_string())?
                    .filter_map(|e| e.ok().map(|e| e.file_name()))
                    .collect();
                v.sort();
                Ok(v)
            };
            let (na, nb) = (names(&pa)?, names(&pb)?);
            if na != nb {
                return Err(format!("{}: entries differ", rel.display()));
            }
            stack.extend(na.into_iter().map(|n| rel.join(n)));
        }
        checked += 1;
    }
    Ok(checked)
}

fn same_contents(a: &Path, b: &Path) -> Result<bool, String> {
    let open = |p: &Path| std::fs::File::open(p).map_err(|e| format!("{}: {e}", p.display()));
    let (mut fa, mut fb) = (open(a)?, open(b)?);
    let (mut ba, mut bb) = (vec![0u8; 1 << 20], vec![0u8; 1 << 20]);
    loop {
        let na = read_full(&mut fa, &mut ba).map_err(|e| e.to_string())?;
        let nb = read_full(&mut fb, &mut bb).map_err(|e| e.to_string())?;
        if na != nb || ba[..na] != bb[..nb] {
            return Ok(false);
        }
        if na == 0 {
            return Ok(true);
        }
    }
}

// ----------------------------------------------------------------- table

fn min_median(v: &[f64]) -> Option<(f64, f64)> {
    if v.is_empty() {
        return None;
    }
    let mut s = v.to_vec();
    s.sort_by(|a, b| a.total_cmp(b));
    let med = if s.len() % 2 == 1 {
        s[s.len() / 2]
    } else {
        (s[s.len() / 2 - 1] + s[s.len() / 2]) / 2.0
    };
    Some((s[0], med))
}

fn print_table(table: &[(Workload, Vec<(Mode, Cell)>)], runs: u32, quick: bool) {
    let modes: Vec<Mode> = table
        .first()
        .map(|(_, c)| c.iter().map(|(m, _)| *m).collect())
        .unwrap_or_default();
    println!();
    println!(
        "fdhost bench: {runs} run(s) per cell{}; times are seconds (min / median) of the job(s), \
         from newPlugin to freePlugin; rate = median throughput of the job(s) together",
        if quick {
            " (--quick: tiny workloads)"
        } else {
            ""
        }
    );
    let mut header = format!("| {:<18} | {:<7} |", "workload", "op");
    for m in &modes {
        header.push_str(&format!(" {:>15} |", format!("{} s", m.name())));
    }
    header.push_str(&format!(
        " {:>8} | {:>8} | {:>22} | {:>9} |",
        "sid/inp", "sid/nat", "rate nat / inp / sid", "rss MiB s"
    ));
    println!("{header}");
    println!(
        "|{}|",
        header[1..header.len() - 1]
            .split('|')
            .map(|c| "-".repeat(c.len()))
            .collect::<Vec<_>>()
            .join("|")
    );
    for (w, cells) in table {
        for op in ["backup", "restore"] {
            let mut line = format!("| {:<18} | {:<7} |", w.name, op);
            let mut med = std::collections::HashMap::new();
            let mut rates = Vec::new();
            let mut rss = None;
            for (m, c) in cells {
                let samples = if op == "backup" {
                    &c.backup
                } else {
                    &c.restore
                };
                let secs: Vec<f64> = samples.iter().map(|s| s.secs).collect();
                let text = match (min_median(&secs), &c.error) {
                    (_, Some(_)) => "FAILED".to_string(),
                    (Some((lo, md)), None) => {
                        med.insert(*m, md);
                        let units = samples.last().map_or(0.0, |s| {
                            if w.per_file {
                                s.files as f64
                            } else {
                                s.bytes as f64 / 1e6
                            }
                        });
                        rates.push(format!("{:.0}", units / md.max(1e-9)));
                        if *m == Mode::Sidecar {
                            rss = samples.iter().map(|s| s.rss_kib).max();
                        }
                        format!("{lo:.3} / {md:.3}")
                    }
                    (None, None) => {
                        rates.push("-".into());
                        "-".into()
                    }
                };
                line.push_str(&format!(" {text:>15} |"));
            }
            let ratio = |a: Mode, b: Mode| match (med.get(&a), med.get(&b)) {
                (Some(x), Some(y)) if *y > 0.0 => format!("{:.2}", x / y),
                _ => "-".into(),
            };
            line.push_str(&format!(
                " {:>8} | {:>8} | {:>22} | {:>9} |",
                ratio(Mode::Sidecar, Mode::InProcess),
                ratio(Mode::Sidecar, Mode::Native),
                format!(
                    "{} {}",
                    rates.join(" / "),
                    if w.per_file { "f/s" } else { "MB/s" }
                ),
                rss.map_or("-".into(), |k| format!("{:.1}", k as f64 / 1024.0)),
            ));
            println!("{line}");
        }
    }
    println!();
    for (w, cells) in table {
        println!("  {:<18} {}", w.name, w.what);
        for (m, c) in cells {
            if let Some(e) = &c.error {
                println!(
                    "  {:<18} {} FAILED: {}",
                    "",
                    m.name(),
                    e.lines().next().unwrap_or("")
                );
            }
        }
    }
}

fn copy(from: &Path, to: &Path) -> Result<(), String> {
    std::fs::copy(from, to)
        .map(|_| ())
        .map_err(|e| format!("cannot copy {} to {}: {e}", from.display(), to.display()))?;
    std::fs::set_permissions(to, std::fs::Permissions::from_mode(0o755)).map_err(|e| e.to_string())
}

/// A temporary directory removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new() -> Result<TempDir, String> {
        let base = std::env::var_os("TMPDIR").map_or_else(|| PathBuf::from("/tmp"), PathBuf::from);
        for n in 0..1000u32 {
            let p = base.join(format!("fdhost-bench-{}-{n}", std::process::id()));
            if std::fs::create_dir(&p).is_ok() {
                return Ok(TempDir(p));
            }
        }
        Err("cannot create a temporary directory".into())
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
