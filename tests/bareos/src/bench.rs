//! `bareos-bench` (bin/bareos-bench.rs): the benchmark in the real daemons (project
//! issue 12). One lab (tests/bareos's Lab: catalog, director, storage
//! daemon, and the lab's bareos-fd, which loads our python3-fd.so) plus a
//! second bareos-fd of the same binary whose Plugin Directory is the
//! installation's own (stock python3-fd.so and grpc-fd.so, `Plugin Names =
//! "python3:grpc"`): two different python3-fd.so cannot share one daemon,
//! so each job runs on the client of its mode (`run ... client=`).
//!
//! Modes: `none` (a `File =` FileSet), `stock` (in-process python3-fd),
//! `grpc` (Bareos's gRPC bridge running the stock python3-fd in a child
//! process), `ours` (the shim and one sidecar-runner per job).
//!
//! Job time: from the director's "Start Backup JobId N" / "Start Restore
//! Job" message to its job report ("Termination:"), both timed as they
//! arrive in the director's log file (watched every 5 ms; the catalog's
//! StartTime/EndTime and the report's "Elapsed time" are whole seconds).
//! That is the job as the director sees it: connecting to the storage
//! daemon and the client, the fd's work, and the catalog inserts; the
//! `noop` row (one file, no plugin) is its fixed part. CPU: utime+stime of
//! the fd (/proc/PID/stat) before and after, its waited-for children's
//! (cutime+cstime: the runners and bridges are the fd's children and it
//! reaps them), and the director's, storage daemon's and PostgreSQL's.
//! See docs/benchmarks.md, "In the real bareos-fd".

// (Paths spelled out: bench.rs is also included by bin/bareos-bench.rs.)
#[path = "bench/measure.rs"]
mod measure;
#[path = "bench/workload.rs"]
mod workload;

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use clap::Parser;

use crate::config::{self, JobDef, Ports};
use crate::console::queued_jobids;
use crate::daemons::{self, Daemon};
use crate::installation::{Installation, PgBinaries};
use crate::lab::{self, Lab};
use measure::{ChildReport, ChildWatch, LogWatcher, Pids};
use workload::Sizes;

#[derive(Parser, Debug)]
#[command(
    name = "bareos-bench",
    about = "Benchmark: no plugin, stock python3-fd, Bareos's gRPC bridge and bareos-sidecar in the real bareos-fd"
)]
struct BenchArgs {
    /// The Bareos installation (sbin/bareos-fd, lib/bareos/plugins, ...).
    #[arg(long, env = "BAREOS_PREFIX", default_value = "/opt/bareos")]
    bareos_prefix: PathBuf,
    /// PostgreSQL server binaries (default: newest /usr/lib/postgresql/*/bin).
    #[arg(long, env = "PG_BIN")]
    pg_bin: Option<PathBuf>,
    /// Scratch directory: config, catalog, logs.
    #[arg(long, default_value = "/tmp/bareos-bench")]
    scratch: PathBuf,
    /// Workloads, volumes and restores (tmpfs, so that the figures are the
    /// daemons' and the plugins', not the disk's); emptied at the start,
    /// removed at the end.
    #[arg(long, default_value = "/dev/shm/bareos-bench")]
    data_dir: PathBuf,
    /// Directory holding our python3-fd.so and sidecar/sidecar-runner
    /// (default: SCRATCH/sidecar/plugins).
    #[arg(long)]
    sidecar_plugins: Option<PathBuf>,
    /// The repository's python/ directory.
    #[arg(long, default_value = concat!(env!("CARGO_MANIFEST_DIR"), "/../../python"))]
    python_dir: PathBuf,
    /// First of four consecutive loopback ports: director, lab fd, sd,
    /// stock fd.
    #[arg(long, default_value_t = 29201)]
    port_base: u16,
    /// The catalog's PostgreSQL port (127.0.0.1).
    #[arg(long, default_value_t = 25533)]
    pg_port: u16,
    /// Runs per cell.
    #[arg(long, default_value_t = 3)]
    runs: u32,
    /// Runs of the gRPC bridge's cells (the first N runs; it is 10-20x
    /// slower than the others).
    #[arg(long, default_value_t = 1)]
    grpc_runs: u32,
    /// Smoke test: one run, a tenth of the sizes, every restore checked.
    #[arg(long)]
    quick: bool,
    /// Only cells whose "workload plugin mode" contains one of these.
    #[arg(long, value_delimiter = ',')]
    only: Vec<String>,
    /// Leave out cells whose "workload plugin mode" contains one of these
    /// (e.g. `--skip grpc` for a quick comparison of ours with stock).
    #[arg(long, value_delimiter = ',')]
    skip: Vec<String>,
    /// The command line to print above the table.
    #[arg(long)]
    command: Option<String>,
    /// Also write the table (markdown) to this file.
    #[arg(long)]
    out: Option<PathBuf>,
    /// Daemon debug level.
    #[arg(long, default_value_t = 0)]
    debug: u32,
    /// Keep the lab running this many seconds after the cells (to look
    /// around with bconsole -c SCRATCH/etc/bconsole.conf).
    #[arg(long, default_value_t = 0)]
    hold: u64,
}

/// Entry point of bin/bareos-bench.rs (`args`: the process's arguments).
pub fn main(args: impl IntoIterator<Item = String>) -> ExitCode {
    let args = BenchArgs::parse_from(args);
    match run(args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            daemons::stop_all();
            eprintln!("bench: error: {e:#}");
            ExitCode::from(2)
        }
    }
}

const STOCK_CLIENT: &str = "bench-stock-fd";
const GRPC_PREFIX: &str = "grpc:bareos-grpc-fd-plugin-bridge:";
const JOB_TIMEOUT: Duration = Duration::from_secs(1800);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// No plugin, on the stock fd.
    None,
    /// No plugin, on the fd that has our python3-fd.so loaded (a control).
    NoneOursFd,
    Stock,
    Grpc,
    Ours,
}

impl Mode {
    fn label(self) -> &'static str {
        match self {
            Mode::None => "none",
            Mode::NoneOursFd => "none, ours' fd",
            Mode::Stock => "stock",
            Mode::Grpc => "grpc",
            Mode::Ours => "ours",
        }
    }
    fn on_stock_fd(self) -> bool {
        matches!(self, Mode::None | Mode::Stock | Mode::Grpc)
    }
    fn client(self) -> &'static str {
        if self.on_stock_fd() {
            STOCK_CLIENT
        } else {
            config::CLIENT
        }
    }
    /// The job family: stock and ours run the same jobs (the client
    /// decides which python3-fd.so runs them).
    fn family(self) -> &'static str {
        match self {
            Mode::None | Mode::NoneOursFd => "file",
            Mode::Stock | Mode::Ours => "py",
            Mode::Grpc => "grpc",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Noop,
    Small,
    Big,
    Pydata,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Plug {
    File,
    BareosLocal,
    SidecarCore,
    SidecarPlugin,
    Generated,
}

impl Plug {
    fn label(self) -> &'static str {
        match self {
            Plug::File => "`File =`",
            Plug::BareosLocal => "bareos-fd-local-fileset",
            Plug::SidecarCore => "sidecar_local_fileset io=core",
            Plug::SidecarPlugin => "sidecar_local_fileset io=plugin",
            Plug::Generated => "sidecar_generated",
        }
    }
    fn slug(self) -> &'static str {
        match self {
            Plug::File => "file",
            Plug::BareosLocal => "bareos",
            Plug::SidecarCore => "core",
            Plug::SidecarPlugin => "plugin",
            Plug::Generated => "gen",
        }
    }
}

#[derive(Debug, Clone)]
struct Cell {
    kind: Kind,
    group: String,
    plug: Plug,
    mode: Mode,
    jobs: Vec<String>,
}

impl Cell {
    fn label(&self) -> String {
        format!("{} {} {}", self.group, self.plug.label(), self.mode.label())
    }
}

fn job_name(kind: Kind, plug: Plug, mode: Mode, k: usize) -> String {
    let kind = match kind {
        Kind::Noop => "noop",
        Kind::Small => "small",
        Kind::Big => "big",
        Kind::Pydata => "pydata",
    };
    format!("bench-{kind}-{}-{}-{k}", plug.slug(), mode.family())
}

fn cells() -> Vec<Cell> {
    use Mode::*;
    let py = [Stock, Grpc, Ours];
    let mut v = Vec::new();
    let mut add = |kind: Kind, group: &str, plug: Plug, modes: &[Mode], n: usize| {
        for &mode in modes {
            v.push(Cell {
                kind,
                group: group.to_string(),
                plug,
                mode,
                jobs: (1..=n).map(|k| job_name(kind, plug, mode, k)).collect(),
            });
        }
    };
    add(Kind::Noop, "noop", Plug::File, &[None, NoneOursFd], 1);
    add(Kind::Small, "SMALL", Plug::File, &[None], 1);
    add(Kind::Small, "SMALL", Plug::BareosLocal, &py, 1);
    add(Kind::Small, "SMALL", Plug::SidecarCore, &py, 1);
    add(Kind::Small, "SMALL", Plug::SidecarPlugin, &py, 1);
    add(Kind::Big, "BIG", Plug::File, &[None], 1);
    add(Kind::Big, "BIG", Plug::SidecarCore, &py, 1);
    add(Kind::Pydata, "PYDATA", Plug::Generated, &py, 1);
    for n in [2, 4] {
        let g = format!("SMALL x{n}");
        add(Kind::Small, &g, Plug::File, &[None], n);
        add(Kind::Small, &g, Plug::SidecarPlugin, &py, n);
    }
    v
}

/// Where the workloads are.
struct Data {
    root: PathBuf,
    noop: PathBuf,
    small: PathBuf,
    small_list: PathBuf,
    big: PathBuf,
    big_list: PathBuf,
    restores: PathBuf,
    storage: PathBuf,
    sizes: Sizes,
}

impl Data {
    fn source(&self, kind: Kind) -> &Path {
        match kind {
            Kind::Noop => &self.noop,
            Kind::Small => &self.small,
            Kind::Big | Kind::Pydata => &self.big,
        }
    }
    /// Files and bytes one job of `kind` moves.
    fn amount(&self, kind: Kind) -> (u64, u64) {
        let s = &self.sizes;
        match kind {
            Kind::Noop => (1, 6),
            Kind::Small => (s.small_files, s.small_files * s.small_size),
            Kind::Big => (1, s.big),
            Kind::Pydata => (1, s.pydata),
        }
    }
}

fn job_def(lab: &Lab, data: &Data, kind: Kind, plug: Plug, family: &str, name: &str) -> JobDef {
    let examples = lab.examples();
    let list = if kind == Kind::Big {
        &data.big_list
    } else {
        &data.small_list
    };
    let py = match plug {
        Plug::File => return JobDef::new(name).file(data.source(kind)),
        Plug::BareosLocal => format!(
            "python3:module_path={}:module_name=bareos-fd-local-fileset:filename={}",
            lab.inst.plugin_dir.display(),
            list.display()
        ),
        Plug::SidecarCore | Plug::SidecarPlugin => format!(
            "python3:module_path={}:module_name=sidecar_local_fileset:filename={}:io={}",
            examples.display(),
            list.display(),
            if plug == Plug::SidecarCore {
                "core"
            } else {
                "plugin"
            }
        ),
        Plug::Generated => format!(
            "python3:module_path={}:module_name=sidecar_generated:files=1:size={}",
            examples.display(),
            data.sizes.pydata
        ),
    };
    let s = if family == "grpc" {
        format!("{GRPC_PREFIX}{py}")
    } else {
        py
    };
    JobDef::new(name).plugin(&s)
}

/// One measured backup or restore of a cell (all its jobs together).
#[derive(Debug, Clone, Default)]
struct Sample {
    secs: f64,
    fd_cpu: f64,
    child_cpu: f64,
    other_cpu: f64,
    children: ChildReport,
    contended: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Backup,
    Restore,
}

#[derive(Default)]
struct Results {
    backup: Vec<Sample>,
    restore: Vec<Sample>,
    errors: Vec<String>,
}

struct Bench<'a> {
    lab: &'a Lab,
    data: &'a Data,
    watcher: &'a LogWatcher,
    stock_fd: i32,
    pids: Pids,
}

fn run(args: BenchArgs) -> Result<()> {
    let runs = if args.quick { 1 } else { args.runs.max(1) };
    let installation = match Installation::find(&args.bareos_prefix) {
        Ok(i) => i,
        Err(e) => {
            println!("bench: skipped: {e:#}");
            return Ok(());
        }
    };
    let pg = match PgBinaries::find(args.pg_bin.as_deref()) {
        Ok(p) => p,
        Err(e) => {
            println!("bench: skipped: {e:#}");
            return Ok(());
        }
    };
    for f in [
        "python3-fd.so",
        "grpc-fd.so",
        "grpc/bareos-grpc-fd-plugin-bridge",
    ] {
        if !installation.plugin_dir.join(f).is_file() {
            bail!(
                "{} has no {f}: the bench compares against it",
                installation.plugin_dir.display()
            );
        }
    }
    let sidecar_plugins = args
        .sidecar_plugins
        .clone()
        .unwrap_or_else(|| args.scratch.join("sidecar/plugins"));
    let python_dir = std::fs::canonicalize(&args.python_dir)
        .with_context(|| format!("python dir {}", args.python_dir.display()))?;
    let all_cells = cells();
    let selected: Vec<Cell> = all_cells
        .into_iter()
        .filter(|c| args.only.is_empty() || args.only.iter().any(|o| c.label().contains(o)))
        .filter(|c| !args.skip.iter().any(|s| c.label().contains(s)))
        .collect();
    if selected.is_empty() {
        bail!("no cell matches {:?}", args.only);
    }

    // The workloads, on tmpfs.
    let t = Instant::now();
    let root = args.data_dir.clone();
    if root.exists() {
        std::fs::remove_dir_all(&root).with_context(|| format!("clean {}", root.display()))?;
    }
    let sizes = Sizes::new(args.quick);
    let data = Data {
        noop: root.join("src/noop"),
        small: root.join("src/small"),
        small_list: root.join("src/small.list"),
        big: root.join("src/big/big.bin"),
        big_list: root.join("src/big.list"),
        restores: root.join("restores"),
        storage: root.join("storage"),
        root: root.clone(),
        sizes,
    };
    for d in [&data.restores, &data.storage, &data.noop] {
        std::fs::create_dir_all(d)?;
    }
    std::fs::write(data.noop.join("hello"), b"hello\n")?;
    workload::make_small(&data.small, &sizes)?;
    std::fs::write(&data.small_list, format!("{}\n", data.small.display()))?;
    if selected.iter().any(|c| c.kind == Kind::Big) {
        workload::make_big(&data.big, sizes.big)?;
    }
    std::fs::write(&data.big_list, format!("{}\n", data.big.display()))?;
    eprintln!(
        "bench: workloads in {} ({:.1} s)",
        root.display(),
        t.elapsed().as_secs_f64()
    );
    let _cleanup = RemoveOnDrop(root.clone());

    let b = args.port_base;
    let ports = Ports {
        dir: b,
        fd: b + 1,
        sd: b + 2,
        pg: args.pg_port,
    };
    let stock_port = b + 3;
    let inst_version = installation.version.clone();
    let mut lab = Lab::new(lab::Settings {
        installation,
        pg,
        scratch: args.scratch.clone(),
        sidecar_plugins,
        python_dir: python_dir.clone(),
        ports,
        debug: args.debug,
    })?;
    // Volumes on tmpfs too (removed after each cell).
    std::fs::remove_dir_all(&lab.storage)?;
    std::os::unix::fs::symlink(&data.storage, &lab.storage)?;

    let mut jobs: Vec<JobDef> = Vec::new();
    for c in &selected {
        for j in &c.jobs {
            if !jobs.iter().any(|k| &k.name == j) {
                jobs.push(job_def(&lab, &data, c.kind, c.plug, c.mode.family(), j));
            }
        }
    }
    lab.start(&jobs)?;
    let stock = start_stock_fd(&lab, stock_port)?;
    // BENCH_TRACE=1: every line of the director's log with its arrival time
    // in LOG/bench-trace.log (where a job's time goes).
    let trace = std::env::var_os("BENCH_TRACE").map(|_| lab.log_dir.join("bench-trace.log"));
    let watcher = LogWatcher::start(&lab.log_dir.join("bareos.log"), trace);
    let pids = Pids {
        dir: lab.pid_of("bareos-dir").unwrap_or(-1),
        sd: lab.pid_of("bareos-sd").unwrap_or(-1),
        postmaster_pid_file: lab.scratch.join("pg/data/postmaster.pid"),
    };
    let bench = Bench {
        lab: &lab,
        data: &data,
        watcher: &watcher,
        stock_fd: stock.pid,
        pids,
    };
    let date = now_utc();
    let mut results: Vec<Results> = selected.iter().map(|_| Results::default()).collect();
    let total = Instant::now();
    for r in 0..runs {
        for (i, c) in selected.iter().enumerate() {
            if c.mode == Mode::Grpc && r >= args.grpc_runs.max(1) {
                continue;
            }
            let verify = args.quick || r == 0;
            let res = &mut results[i];
            match bench.cell(c, verify) {
                Ok((b, rs)) => {
                    eprintln!(
                        "bench: run {}/{runs} {:<48} backup {:>7.3} s  restore {:>7.3} s  (fd {:.2} + children {:.2} s CPU)",
                        r + 1,
                        c.label(),
                        b.secs,
                        rs.as_ref().map(|x| x.secs).unwrap_or(f64::NAN),
                        b.fd_cpu,
                        b.child_cpu
                    );
                    res.backup.push(b);
                    res.restore.extend(rs);
                }
                Err(e) => {
                    eprintln!("bench: run {}/{runs} {}: FAILED: {e:#}", r + 1, c.label());
                    res.errors.push(format!("run {}: {e:#}", r + 1));
                }
            }
            bench.after_cell()?;
        }
    }
    let took = total.elapsed();
    if args.hold > 0 {
        eprintln!(
            "bench: holding the lab for {} s: bconsole -c {}",
            args.hold,
            lab.etc.join("bconsole.conf").display()
        );
        std::thread::sleep(Duration::from_secs(args.hold));
    }
    let table = render(
        &args,
        &selected,
        &results,
        &data,
        runs,
        &date,
        &inst_version,
        &python_dir,
        took,
    );
    println!("{table}");
    if let Some(out) = &args.out {
        std::fs::write(out, &table)?;
    }
    drop(bench);
    drop(watcher);
    drop(stock);
    drop(lab);
    let failed = results.iter().filter(|r| !r.errors.is_empty()).count();
    if failed > 0 {
        bail!("{failed} cell(s) failed (see above)");
    }
    Ok(())
}

struct RemoveOnDrop(PathBuf);

impl Drop for RemoveOnDrop {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The second bareos-fd: the lab's configuration with another name, port
/// and working directory, and the installation's plugin directory with
/// the stock python3-fd.so and grpc-fd.so. The director learns its
/// Client resource by `reload`.
fn start_stock_fd(lab: &Lab, port: u16) -> Result<Daemon> {
    let lab_conf = std::fs::read_to_string(lab.etc.join("bareos-fd.conf"))?;
    let work = lab.scratch.join("work-stock");
    std::fs::create_dir_all(&work)?;
    let mut text = String::new();
    let mut password = None;
    for line in lab_conf.lines() {
        let t = line.trim_start();
        let indent = &line[..line.len() - t.len()];
        let out = if t.starts_with("Plugin Directory") {
            format!(
                "{indent}Plugin Directory = {}",
                config::quote(&lab.inst.plugin_dir.display().to_string())
            )
        } else if t.starts_with("Plugin Names") {
            format!("{indent}Plugin Names = \"python3:grpc\"")
        } else if t.starts_with("Working Directory") {
            format!(
                "{indent}Working Directory = {}",
                config::quote(&work.display().to_string())
            )
        } else if t.starts_with("FD Addresses") {
            line.replace(
                &format!("port = {}", lab.ports.fd),
                &format!("port = {port}"),
            )
        } else if t.starts_with(&format!("Name = {}", config::CLIENT)) {
            format!("{indent}Name = {STOCK_CLIENT}")
        } else {
            if t.starts_with("Director")
                && let Some(i) = t.find("Password = \"")
            {
                let rest = &t[i + 12..];
                password = rest.find('"').map(|e| rest[..e].to_string());
            }
            line.to_string()
        };
        text.push_str(&out);
        text.push('\n');
    }
    let password = password.context("no director password in the lab's bareos-fd.conf")?;
    if !text.contains(&format!("port = {port}")) || !text.contains(STOCK_CLIENT) {
        bail!("cannot derive the stock fd's configuration from:\n{lab_conf}");
    }
    let conf = lab.etc.join("bench-stock-fd.conf");
    std::fs::write(&conf, &text)?;
    std::fs::set_permissions(&conf, std::os::unix::fs::PermissionsExt::from_mode(0o600))?;
    let fd_bin = lab.inst.daemon("bareos-fd");
    let out = std::process::Command::new(&fd_bin)
        .arg("-t")
        .arg("-c")
        .arg(&conf)
        .env_clear()
        .env("PATH", daemons::SERVICE_PATH)
        .output()?;
    if !out.status.success() {
        bail!(
            "config test of the stock fd failed:\n{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let mut d = Daemon::start(
        STOCK_CLIENT,
        &fd_bin,
        &conf,
        &lab.log_dir.join("bench-stock-fd.out"),
        &lab.run_dir.join("bench-stock-fd.pid"),
        lab.debug,
    )?;
    std::thread::sleep(Duration::from_millis(300));
    d.check()?;
    // The director's Client resource for it.
    let dir_conf = lab.etc.join("bareos-dir.conf");
    let mut dir = std::fs::read_to_string(&dir_conf)?;
    let _ = write!(
        dir,
        "Client {{\n  Name = {STOCK_CLIENT}\n  Address = 127.0.0.1; Port = {port}\n  Password = {}\n  Maximum Concurrent Jobs = 10\n}}\n",
        config::quote(&password)
    );
    std::fs::write(&dir_conf, dir)?;
    let out = lab.console().cmd(&["reload"])?;
    let t = Instant::now();
    loop {
        let status = lab
            .console()
            .cmd(&[&format!("status client={STOCK_CLIENT}")])?;
        if status.contains("Daemon started")
            || status.contains(STOCK_CLIENT) && status.contains("Running Jobs")
        {
            let plugins = status
                .lines()
                .filter(|l| {
                    l.contains("Plugin") || l.contains("python3-fd") || l.contains("grpc-fd")
                })
                .map(str::trim)
                .collect::<Vec<_>>()
                .join("; ");
            eprintln!("bench: stock fd (pid {}) on port {port}: {plugins}", d.pid);
            return Ok(d);
        }
        if t.elapsed() > Duration::from_secs(20) {
            bail!("the stock fd does not answer (reload said: {out}):\n{status}");
        }
        std::thread::sleep(Duration::from_millis(500));
    }
}

impl Bench<'_> {
    fn fd_pid(&self, mode: Mode) -> i32 {
        if mode.on_stock_fd() {
            self.stock_fd
        } else {
            self.lab.fd_pid()
        }
    }

    fn own_daemons(&self) -> Vec<i32> {
        vec![
            self.stock_fd,
            self.lab.fd_pid(),
            self.pids.dir,
            self.pids.sd,
        ]
    }

    /// Waits (up to 15 s) while a compiler runs; says whether anything
    /// else that competes for the CPU runs now.
    fn quiet(&self) -> bool {
        let t = Instant::now();
        loop {
            let c = measure::competitors(&self.own_daemons());
            let compiling = c
                .iter()
                .any(|n| matches!(n.as_str(), "rustc" | "cc1" | "cc1plus" | "ld"));
            if c.is_empty() || (!compiling || t.elapsed() > Duration::from_secs(15)) {
                return !c.is_empty();
            }
            std::thread::sleep(Duration::from_millis(500));
        }
    }

    /// Runs the commands in one bconsole session and measures the jobs
    /// they queue (expected: `n`).
    fn measure(
        &self,
        mode: Mode,
        cmds: &[String],
        want: usize,
        op: Op,
        min_files: u64,
    ) -> Result<Sample> {
        let fd = self.fd_pid(mode);
        let contended = self.quiet();
        let before = measure::lab_cpu(fd, &self.pids);
        let watch = ChildWatch::start(fd);
        let out = self.submit(cmds)?;
        let ids = queued_jobids(&out);
        if ids.len() != want {
            watch.finish();
            bail!("expected {want} queued job(s):\n{out}");
        }
        let times = self.watcher.wait_all(&ids, JOB_TIMEOUT);
        let times = match times {
            Ok(t) => t,
            Err(e) => {
                watch.finish();
                return Err(e);
            }
        };
        let gone = measure::wait_no_children(fd, Duration::from_secs(30));
        let children = watch.finish();
        gone?;
        let after = measure::lab_cpu(fd, &self.pids);
        let what = if op == Op::Backup {
            "Backup"
        } else {
            "Restore"
        };
        for (id, t) in ids.iter().zip(&times) {
            let term = t.termination.clone().unwrap_or_default();
            // A restore by bootstrap file expects 0 files: "Warning: File
            // count mismatch: expected=0", hence "Restore OK -- with
            // warnings"; jobs appending to one volume at once make the sd
            // correct the volume's size in the catalog ("Warning: For
            // Volume ...: The sizes do not match!"). Any other warning
            // fails the cell.
            let other_warning = t.text.lines().any(|l| {
                l.contains("Warning:")
                    && !l.contains("File count mismatch: expected=0")
                    && !l.contains("Warning: For Volume")
            });
            if !term.starts_with(&format!("{what} OK")) || other_warning {
                let log: Vec<&str> = t
                    .text
                    .lines()
                    .filter(|l| {
                        let l = l.to_lowercase();
                        l.contains("error") || l.contains("fatal") || l.contains("warning")
                    })
                    .take(15)
                    .collect();
                bail!(
                    "jobid {id}: Termination: {term}\n    {}",
                    log.join("\n    ")
                );
            }
            let key = if op == Op::Backup {
                "FD Files Written:"
            } else {
                "Files Restored:"
            };
            let files = t.report_number(key).unwrap_or(0);
            if files < min_files {
                bail!("jobid {id}: {key} {files}, expected at least {min_files}");
            }
        }
        let start = times.iter().filter_map(|t| t.start).min();
        let end = times.iter().filter_map(|t| t.end).max();
        let (Some(start), Some(end)) = (start, end) else {
            bail!("no start line for jobs {ids:?} in the director's log");
        };
        Ok(Sample {
            secs: end.duration_since(start).as_secs_f64(),
            fd_cpu: after.fd - before.fd,
            child_cpu: after.fd_children - before.fd_children,
            other_cpu: after.others - before.others,
            children,
            contended,
        })
    }

    /// Runs `cmds` in one bconsole session, each once the job before it
    /// has started: jobs queued back to back waited in the director's job
    /// queue ("is waiting execution", JS_Created, no resource named) for
    /// another job to end (of two queued at once, the second mostly ran
    /// after the first; of four, three ran at once).
    fn submit(&self, cmds: &[String]) -> Result<String> {
        use std::io::{Read, Write};
        use std::process::{Command, Stdio};
        if cmds.len() == 1 {
            return self.lab.console().cmd(&[&cmds[0]]);
        }
        let mut child = Command::new(self.lab.inst.daemon("bconsole"))
            .arg("-c")
            .arg(self.lab.etc.join("bconsole.conf"))
            .env_clear()
            .env("PATH", daemons::SERVICE_PATH)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .context("start bconsole")?;
        let mut stdin = child.stdin.take().context("bconsole stdin")?;
        let mut stdout = child.stdout.take().context("bconsole stdout")?;
        let reader = std::thread::spawn(move || {
            let mut out = Vec::new();
            let _ = stdout.read_to_end(&mut out);
            out
        });
        for c in cmds {
            let started = self.watcher.started();
            stdin.write_all(format!("{c}\n").as_bytes())?;
            stdin.flush()?;
            // The next job only once this one runs (its worker is busy).
            let t = Instant::now();
            while self.watcher.started() == started && t.elapsed() < Duration::from_secs(5) {
                std::thread::sleep(Duration::from_millis(2));
            }
        }
        stdin.write_all(b"quit\n")?;
        drop(stdin);
        let _ = child.wait();
        let out = reader.join().unwrap_or_default();
        Ok(String::from_utf8_lossy(&out).into_owned())
    }

    /// Backup, then restore, of one cell; checks the restore if `verify`.
    /// Cells of several jobs measure the backups only (the storage daemon
    /// reads one volume for one restore at a time: concurrent restores
    /// from its one device wait for each other, and in a trial one of four
    /// failed after 30 s); their restores, one after the other, are checked.
    fn cell(&self, c: &Cell, verify: bool) -> Result<(Sample, Option<Sample>)> {
        let client = c.mode.client();
        let cmds: Vec<String> = c
            .jobs
            .iter()
            .map(|j| format!("run job={j} client={client} level=Full yes"))
            .collect();
        let (files, _) = self.data.amount(c.kind);
        let backup = self.measure(c.mode, &cmds, c.jobs.len(), Op::Backup, files)?;
        let mut wheres = Vec::new();
        let mut cmds = Vec::new();
        for j in &c.jobs {
            let bsr = self.lab.work.join(format!("{client}_{j}.bsr"));
            if !bsr.is_file() {
                bail!("no bootstrap file {} after the backup", bsr.display());
            }
            let where_ = self.data.restores.join(j);
            if where_.exists() {
                std::fs::remove_dir_all(&where_)?;
            }
            std::fs::create_dir_all(&where_)?;
            cmds.push(format!(
                "run job={} client={client} bootstrap={} where={} yes",
                config::RESTORE_JOB,
                config::quote(&bsr.display().to_string()),
                config::quote(&where_.display().to_string())
            ));
            wheres.push(where_);
        }
        if c.jobs.len() > 1 {
            if verify {
                for (cmd, w) in cmds.iter().zip(&wheres) {
                    self.measure(c.mode, std::slice::from_ref(cmd), 1, Op::Restore, files)?;
                    self.verify(c.kind, w)
                        .with_context(|| format!("restore of {}", c.label()))?;
                }
            }
            return Ok((backup, None));
        }
        let restore = self.measure(c.mode, &cmds, c.jobs.len(), Op::Restore, files)?;
        if verify {
            for w in &wheres {
                self.verify(c.kind, w)
                    .with_context(|| format!("restore of {}", c.label()))?;
            }
        }
        Ok((backup, Some(restore)))
    }

    fn verify(&self, kind: Kind, where_: &Path) -> Result<()> {
        let d = self.data;
        match kind {
            Kind::Noop | Kind::Small => {
                let src = d.source(kind);
                workload::verify_tree(src, &workload::restored(where_, src))
            }
            Kind::Big => workload::verify_same_file(&d.big, &workload::restored(where_, &d.big)),
            Kind::Pydata => {
                workload::verify_generated(&where_.join("generated/file-0"), d.sizes.pydata)
            }
        }
    }

    /// Removes the restores and every volume (catalog and file): the next
    /// cell starts on a new volume, the tmpfs does not fill up.
    fn after_cell(&self) -> Result<()> {
        for e in std::fs::read_dir(&self.data.restores)?.flatten() {
            let _ = std::fs::remove_dir_all(e.path());
        }
        let v = self.lab.console().api("list volumes")?;
        let mut names = Vec::new();
        collect_field(&v, "volumename", &mut names);
        if !names.is_empty() {
            let cmds: Vec<String> = names
                .iter()
                .map(|n| format!("delete volume={n} yes"))
                .collect();
            let refs: Vec<&str> = cmds.iter().map(String::as_str).collect();
            self.lab.console().cmd(&refs)?;
            for n in &names {
                let _ = std::fs::remove_file(self.data.storage.join(n));
            }
        }
        if !daemons::alive(self.stock_fd) {
            bail!("the stock bareos-fd (pid {}) died", self.stock_fd);
        }
        self.lab.check_daemons()?;
        Ok(())
    }
}

fn collect_field(v: &serde_json::Value, key: &str, out: &mut Vec<String>) {
    match v {
        serde_json::Value::Object(m) => {
            for (k, x) in m {
                if k == key {
                    if let Some(s) = x.as_str() {
                        out.push(s.to_string());
                    }
                } else {
                    collect_field(x, key, out);
                }
            }
        }
        serde_json::Value::Array(a) => {
            for x in a {
                collect_field(x, key, out);
            }
        }
        _ => {}
    }
}

fn median(mut v: Vec<f64>) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    v.sort_by(|a, b| a.total_cmp(b));
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

fn min(v: &[f64]) -> f64 {
    v.iter().cloned().fold(f64::INFINITY, f64::min)
}

fn sh(cmd: &str, args: &[&str]) -> String {
    std::process::Command::new(cmd)
        .args(args)
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default()
}

fn now_utc() -> String {
    sh("date", &["-u", "+%Y-%m-%d %H:%M UTC"])
}

fn machine() -> String {
    let nproc = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(0);
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpuinfo
        .lines()
        .find(|l| l.starts_with("model name"))
        .and_then(|l| l.split_once(':'))
        .map(|(_, m)| m.trim().to_string())
        .unwrap_or_else(|| "?".into());
    let mem = std::fs::read_to_string("/proc/meminfo")
        .unwrap_or_default()
        .lines()
        .find(|l| l.starts_with("MemTotal:"))
        .and_then(|l| l.split_whitespace().nth(1)?.parse::<u64>().ok())
        .map(|kb| format!("{:.0} GiB RAM", kb as f64 / 1024.0 / 1024.0))
        .unwrap_or_default();
    format!(
        "nproc {nproc}, {model}, {mem}, Linux {}",
        sh("uname", &["-r"])
    )
}

fn fmt_rate(kind: Kind, files: u64, bytes: u64, secs: f64) -> String {
    if secs.is_nan() || secs <= 0.0 {
        return "-".into();
    }
    match kind {
        Kind::Noop | Kind::Small => format!("{:.0} files/s", files as f64 / secs),
        Kind::Big | Kind::Pydata => format!("{:.0} MB/s", bytes as f64 / 1e6 / secs),
    }
}

#[allow(clippy::too_many_arguments)]
fn render(
    args: &BenchArgs,
    cells: &[Cell],
    results: &[Results],
    data: &Data,
    runs: u32,
    date: &str,
    bareos: &str,
    python_dir: &Path,
    took: Duration,
) -> String {
    let mut s = String::new();
    let repo = python_dir.parent().unwrap_or(python_dir);
    let rev = sh(
        "git",
        &[
            "-C",
            &repo.display().to_string(),
            "describe",
            "--always",
            "--dirty",
        ],
    );
    let command = args
        .command
        .clone()
        .unwrap_or_else(|| std::env::args().collect::<Vec<_>>().join(" "));
    let z = &data.sizes;
    let _ = writeln!(s, "Command: `{command}`  ");
    let _ = writeln!(s, "Machine: {}  ", machine());
    let _ = writeln!(
        s,
        "Date: {date}; {runs} run(s) per cell, {:.0} s in all; Bareos {bareos}; bareos-sidecar {rev}  ",
        took.as_secs_f64()
    );
    let _ = writeln!(
        s,
        "Workloads: SMALL {} files x {} B in {} directories; BIG one file of {} B; PYDATA {} B generated in Python (64 KiB reads); on tmpfs ({}), volumes and restores too",
        z.small_files,
        z.small_size,
        z.small_dirs,
        z.big,
        z.pydata,
        data.root.display()
    );
    let _ = writeln!(s);
    let _ = writeln!(
        s,
        "| workload | plugin | mode | op | min s | median s | net s | rate (net) | x stock | x none | fd CPU s | runner CPU s | dir+sd+pg CPU s | fd+runner CPU µs/file |"
    );
    let _ = writeln!(
        s,
        "|---|---|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|"
    );
    let find = |group: &str, plug: Plug, mode: Mode| {
        cells
            .iter()
            .position(|c| c.group == group && c.plug == plug && c.mode == mode)
    };
    let med_of = |i: usize, op: Op| {
        let r = &results[i];
        let v = if op == Op::Backup {
            &r.backup
        } else {
            &r.restore
        };
        median(v.iter().map(|x| x.secs).collect())
    };
    // Rows in the cells' order, grouped by (workload, plugin), backup
    // rows before restore rows.
    let mut seen: Vec<(String, Plug)> = Vec::new();
    let mut contended = (0, 0);
    for c in cells {
        if seen.iter().any(|(g, p)| *g == c.group && *p == c.plug) {
            continue;
        }
        seen.push((c.group.clone(), c.plug));
        for op in [Op::Backup, Op::Restore] {
            for (i, d) in cells.iter().enumerate() {
                if d.group != c.group || d.plug != c.plug {
                    continue;
                }
                let r = &results[i];
                let v = if op == Op::Backup {
                    &r.backup
                } else {
                    &r.restore
                };
                let opname = if op == Op::Backup {
                    "backup"
                } else {
                    "restore"
                };
                if op == Op::Restore && d.jobs.len() > 1 {
                    continue;
                }
                if v.is_empty() {
                    let _ = writeln!(
                        s,
                        "| {} | {} | {} | {opname} | FAILED | | | | | | | | | |",
                        d.group,
                        d.plug.label(),
                        d.mode.label()
                    );
                    continue;
                }
                contended.0 += v.iter().filter(|x| x.contended).count();
                contended.1 += v.len();
                let secs: Vec<f64> = v.iter().map(|x| x.secs).collect();
                let med = median(secs.clone());
                // Net: minus the noop job's median (the director's fixed part).
                let noop = find("noop", Plug::File, Mode::None)
                    .map(|j| med_of(j, op))
                    .filter(|m| m.is_finite());
                let net_of = |m: f64| match noop {
                    Some(n) if d.kind != Kind::Noop => m - n,
                    _ => m,
                };
                let net = net_of(med);
                let (files, bytes) = data.amount(d.kind);
                let n = d.jobs.len() as u64;
                let ratio = |j: Option<usize>| match j {
                    Some(j) if d.mode != Mode::None => {
                        let m = net_of(med_of(j, op));
                        if m > 0.0 && net > 0.0 {
                            format!("{:.2}", net / m)
                        } else {
                            "-".into()
                        }
                    }
                    _ => "-".into(),
                };
                let x_stock = if matches!(d.mode, Mode::Grpc | Mode::Ours) {
                    ratio(find(&d.group, d.plug, Mode::Stock))
                } else {
                    "-".into()
                };
                let x_none = ratio(find(&d.group, Plug::File, Mode::None));
                let fd_cpu = median(v.iter().map(|x| x.fd_cpu).collect());
                let child = median(v.iter().map(|x| x.child_cpu).collect());
                let other = median(v.iter().map(|x| x.other_cpu).collect());
                let per_file = if matches!(d.kind, Kind::Small) {
                    format!("{:.0}", (fd_cpu + child) / (files * n) as f64 * 1e6)
                } else {
                    "-".into()
                };
                let _ = writeln!(
                    s,
                    "| {} | {} | {} | {opname} | {:.3} | {:.3} | {} | {} | {x_stock} | {x_none} | {fd_cpu:.2} | {child:.2} | {other:.2} | {per_file} |",
                    d.group,
                    d.plug.label(),
                    d.mode.label(),
                    min(&secs),
                    med,
                    if d.kind == Kind::Noop {
                        "-".to_string()
                    } else {
                        format!("{net:.3}")
                    },
                    if d.kind == Kind::Noop {
                        "-".to_string()
                    } else {
                        fmt_rate(d.kind, files * n, bytes * n, net)
                    },
                );
            }
        }
    }
    let _ = writeln!(s);
    let _ = writeln!(
        s,
        "Job time: the director's \"Start Backup JobId N\"/\"Start Restore Job\" message to its job report, as they arrive in its log (watched every 5 ms); net = median minus the noop row's median of the same op (the director's, storage daemon's and fd's fixed cost of a job: connections, volume, catalog; restores include a 2.0 s wait between the director's start of the fd and the fd's connection to the storage daemon), rate and ratios are of the net times. xN rows: N jobs, each queued once the one before has started (queued at once, they waited for each other in the director), first start to last report, rate of all jobs together; backups only (concurrent restores from the one File device wait for each other in the storage daemon; each restore was checked one after the other). Restores: `run job=RestoreFiles bootstrap=<the backup's .bsr>`. x stock / x none: ratio of the net medians (< 1 = faster); grpc cells ran in the first run only (`--grpc-runs`). CPU: medians of the differences of utime+stime in /proc/PID/stat before and after; runner = the fd's reaped children (cutime+cstime: sidecar-runner, the gRPC bridge); dir+sd+pg = director, storage daemon, PostgreSQL (postmaster, its backends, and the backends it reaped)."
    );
    // The children seen while the jobs ran (cross-check of cutime).
    let mut by_mode: Vec<(Mode, usize, f64, f64, Vec<String>)> = Vec::new();
    for (c, r) in cells.iter().zip(results) {
        for x in r.backup.iter().chain(&r.restore) {
            let e = match by_mode.iter_mut().find(|e| e.0 == c.mode) {
                Some(e) => e,
                None => {
                    by_mode.push((c.mode, 0, 0.0, 0.0, Vec::new()));
                    by_mode.last_mut().unwrap()
                }
            };
            e.1 += x.children.count;
            e.2 += x.children.cpu;
            e.3 += x.child_cpu;
            for exe in &x.children.exes {
                if !e.4.contains(exe) {
                    e.4.push(exe.clone());
                }
            }
        }
    }
    let _ = writeln!(s);
    for (m, count, polled, cut, exes) in &by_mode {
        let _ = writeln!(
            s,
            "- {}: {count} child process(es) of the fd seen during the jobs{}; their CPU when last seen (every 100 ms) {polled:.2} s, the fd's cutime+cstime grew by {cut:.2} s; none left after any job",
            m.label(),
            if exes.is_empty() {
                String::new()
            } else {
                format!(" ({})", exes.join(", "))
            }
        );
    }
    if contended.0 > 0 {
        let _ = writeln!(
            s,
            "- {} of {} samples started while a compiler or another Bareos ran on the machine",
            contended.0, contended.1
        );
    }
    for (c, r) in cells.iter().zip(results) {
        for e in &r.errors {
            let _ = writeln!(s, "- FAILED {}: {e}", c.label());
        }
    }
    s
}
