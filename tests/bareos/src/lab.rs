//! The lab: one scratch directory with a PostgreSQL catalog, bareos-dir,
//! bareos-sd and bareos-fd (loading our python3-fd.so) on loopback ports.
//! Dropping it stops exactly what it started.

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

use crate::config::{self, ConfigFiles, DirPlugins, JobDef, Layout, Ports};
use crate::console::Console;
use crate::daemons::{self, Daemon};
use crate::installation::{Installation, PgBinaries};
use crate::postgres::Postgres;
use crate::procs;

/// What a dead bareos-sd left behind (see [`Lab::sd_crash_report`]).
struct SdCrash {
    known: bool,
    signal: String,
    path: PathBuf,
}

pub struct Settings {
    pub installation: Installation,
    pub pg: PgBinaries,
    pub scratch: PathBuf,
    /// The directory with our python3-fd.so (and sidecar/sidecar-runner).
    pub sidecar_plugins: PathBuf,
    /// The repository's python/ directory (test and example plugins).
    pub python_dir: PathBuf,
    pub ports: Ports,
    pub debug: u32,
}

pub struct Lab {
    pub inst: Installation,
    pub scratch: PathBuf,
    pub etc: PathBuf,
    pub work: PathBuf,
    pub storage: PathBuf,
    pub log_dir: PathBuf,
    pub run_dir: PathBuf,
    /// Test data, one directory per scenario.
    pub data: PathBuf,
    pub restores: PathBuf,
    pub lists: PathBuf,
    pub sidecar_plugins: PathBuf,
    pub runner: PathBuf,
    pub python_dir: PathBuf,
    pub ports: Ports,
    pub debug: u32,
    pg: Postgres,
    files: Option<ConfigFiles>,
    jobs: Vec<JobDef>,
    daemons: Mutex<Vec<Daemon>>,
    /// Known Bareos bugs seen during the run (reported at the end).
    pub notes: Mutex<Vec<String>>,
    /// How many storage daemons died of the known SetupDCR crash so far,
    /// whoever noticed (a scenario's own check or the one after it).
    pub sd_crashes: std::sync::atomic::AtomicUsize,
    console: Option<Console>,
}

impl Lab {
    /// Lays out the scratch directory (after stopping whatever a killed
    /// earlier run left in it, and emptying it).
    pub fn new(s: Settings) -> Result<Lab> {
        let scratch = s.scratch;
        let run_dir = scratch.join("run");
        let pg = Postgres::new(
            s.pg.clone(),
            &scratch.join("pg"),
            s.ports.pg,
            &scratch.join("log"),
        );
        daemons::stop_stale(
            &run_dir,
            &scratch.join("etc").display().to_string(),
            &s.pg.bin.join("pg_ctl"),
            &pg.data,
        );
        for sub in [
            "etc", "work", "storage", "log", "run", "data", "restores", "lists", "pg",
        ] {
            let d = scratch.join(sub);
            if d.exists() {
                std::fs::remove_dir_all(&d).with_context(|| format!("clean {}", d.display()))?;
            }
            std::fs::create_dir_all(&d)?;
        }
        // PostgreSQL (user postgres) must be able to reach its directory.
        use std::os::unix::fs::PermissionsExt;
        let mut p = Some(scratch.as_path());
        while let Some(d) = p {
            if d == Path::new("/") {
                break;
            }
            let mode = std::fs::metadata(d)?.permissions().mode();
            if mode & 0o001 == 0 {
                std::fs::set_permissions(d, std::fs::Permissions::from_mode(mode | 0o711))?;
            }
            p = d.parent();
        }
        let runner = s.sidecar_plugins.join("sidecar/sidecar-runner");
        if !s.sidecar_plugins.join("python3-fd.so").is_file() {
            bail!(
                "{} has no python3-fd.so (run deploy/install.sh first)",
                s.sidecar_plugins.display()
            );
        }
        if !runner.is_file() {
            eprintln!(
                "acceptance: no sidecar/sidecar-runner in {}: a reference run of that (stock?) python3-fd.so",
                s.sidecar_plugins.display()
            );
        }
        Ok(Lab {
            inst: s.installation,
            etc: scratch.join("etc"),
            work: scratch.join("work"),
            storage: scratch.join("storage"),
            log_dir: scratch.join("log"),
            data: scratch.join("data"),
            restores: scratch.join("restores"),
            lists: scratch.join("lists"),
            run_dir,
            scratch,
            sidecar_plugins: s.sidecar_plugins,
            runner,
            python_dir: s.python_dir,
            ports: s.ports,
            debug: s.debug,
            pg,
            files: None,
            jobs: Vec::new(),
            daemons: Mutex::new(Vec::new()),
            notes: Mutex::new(Vec::new()),
            sd_crashes: Default::default(),
            console: None,
        })
    }

    /// Catalog, configuration with `jobs`, then sd, fd, dir; waits until
    /// the director answers.
    pub fn start(&mut self, jobs: &[JobDef]) -> Result<()> {
        let t = Instant::now();
        self.pg.start_with_catalog(&self.inst).context("catalog")?;
        eprintln!(
            "acceptance: catalog ready ({:.1} s)",
            t.elapsed().as_secs_f64()
        );
        let files = config::write_all(&self.inst, &self.layout(), self.ports, jobs)?;
        self.jobs = jobs.to_vec();
        for (name, conf) in [
            ("bareos-sd", &files.sd),
            ("bareos-fd", &files.fd),
            ("bareos-dir", &files.dir),
        ] {
            let out = std::process::Command::new(self.inst.daemon(name))
                .arg("-t")
                .arg("-c")
                .arg(conf)
                .env_clear()
                .env("PATH", daemons::SERVICE_PATH)
                .output()?;
            if !out.status.success() {
                bail!(
                    "config test of {name} failed:\n{}{}",
                    String::from_utf8_lossy(&out.stdout),
                    String::from_utf8_lossy(&out.stderr)
                );
            }
        }
        self.console = Some(Console::new(&self.inst.daemon("bconsole"), &files.bconsole));
        self.files = Some(files);
        for name in ["bareos-sd", "bareos-fd", "bareos-dir"] {
            self.start_daemon(name)?;
        }
        self.wait_for_director()?;
        eprintln!(
            "acceptance: daemons up ({:.1} s)",
            t.elapsed().as_secs_f64()
        );
        Ok(())
    }

    fn layout(&self) -> Layout<'_> {
        Layout {
            etc: &self.etc,
            work: &self.work,
            storage: &self.storage,
            log_dir: &self.log_dir,
            plugin_dir: &self.sidecar_plugins,
        }
    }

    /// Rewrites the director's configuration with `plugins` and restarts
    /// it (same jobs, same catalog); waits until it answers.
    pub fn restart_director(&self, plugins: DirPlugins) -> Result<()> {
        let conf = self.config_of("bareos-dir")?;
        let text = config::director(&self.inst, &self.layout(), self.ports, &self.jobs, plugins);
        std::fs::write(&conf, text)?;
        self.restart_daemon("bareos-dir")
    }

    /// Stops `name` (SIGTERM, SIGKILL after 20 s), starts it again with
    /// its configuration and waits until the director answers.
    pub fn restart_daemon(&self, name: &str) -> Result<()> {
        {
            let mut ds = self.daemons.lock().unwrap();
            for d in ds.iter_mut().filter(|d| d.name == name) {
                d.stop();
            }
            ds.retain(|d| d.name != name);
        }
        self.start_daemon(name)?;
        self.wait_for_director()
    }

    fn config_of(&self, name: &str) -> Result<PathBuf> {
        let f = self.files.as_ref().context("not configured")?;
        Ok(match name {
            "bareos-sd" => f.sd.clone(),
            "bareos-fd" => f.fd.clone(),
            _ => f.dir.clone(),
        })
    }

    fn start_daemon(&self, name: &str) -> Result<()> {
        let conf = self.config_of(name)?;
        let log = self.log_dir.join(format!("{name}.out"));
        let mut d = Daemon::start(
            name,
            &self.inst.daemon(name),
            &conf,
            &log,
            &self.run_dir.join(format!("{name}.pid")),
            self.debug,
        )?;
        std::thread::sleep(Duration::from_millis(300));
        d.check()?;
        self.daemons.lock().unwrap().push(d);
        Ok(())
    }

    fn wait_for_director(&self) -> Result<()> {
        let t = Instant::now();
        loop {
            if let Ok(out) = self.console().cmd(&["status director"])
                && out.contains(config::DIRECTOR)
                && !out.contains("Failed to connect")
            {
                return Ok(());
            }
            if t.elapsed() > Duration::from_secs(30) {
                bail!(
                    "director not answering on 127.0.0.1:{}; see {}",
                    self.ports.dir,
                    self.log_dir.display()
                );
            }
            std::thread::sleep(Duration::from_millis(300));
        }
    }

    pub fn console(&self) -> &Console {
        self.console.as_ref().expect("lab started")
    }

    pub fn pid_of(&self, name: &str) -> Option<i32> {
        self.daemons
            .lock()
            .unwrap()
            .iter()
            .find(|d| d.name == name)
            .map(|d| d.pid)
    }

    pub fn fd_pid(&self) -> i32 {
        self.pid_of("bareos-fd").unwrap_or(-1)
    }

    /// Fails if a daemon died; restarts it first, so that the next
    /// scenario has a working lab again. A storage daemon that died of the
    /// known Bareos crash (see [`Lab::sd_crash_report`]) is not a failure
    /// of ours: it is restarted, noted and returned, so that the caller
    /// can run the scenario it broke once more.
    pub fn check_daemons(&self) -> Result<Option<String>> {
        let mut dead = Vec::new();
        {
            let mut ds = self.daemons.lock().unwrap();
            for d in ds.iter_mut() {
                if let Err(e) = d.check() {
                    dead.push((d.name.clone(), d.pid, e));
                }
            }
            ds.retain_mut(|d| d.alive());
        }
        if dead.is_empty() {
            return Ok(None);
        }
        for (name, _, _) in &dead {
            eprintln!("acceptance: restarting {name}");
            self.start_daemon(name)?;
        }
        self.wait_for_director()?;
        let mut known = Vec::new();
        let mut other = Vec::new();
        for (name, pid, e) in dead {
            match self.sd_crash_report(pid) {
                Some(report) if name == "bareos-sd" && report.known => known.push(format!(
                    "bareos-sd (pid {pid}) crashed in SetupDCR (just-in-time reservation) during a scenario: Bareos SD bug, not ours (same crash with the stock python3-fd.so: fault-raise-io in a reference run); {}; report {}",
                    report.signal,
                    report.path.display()
                )),
                _ => other.push(e.to_string()),
            }
        }
        if !other.is_empty() {
            bail!("{}", other.join("\n"))
        }
        self.sd_crashes
            .fetch_add(known.len(), std::sync::atomic::Ordering::Relaxed);
        let what = known.join("; ");
        self.notes.lock().unwrap().push(what.clone());
        Ok(Some(what))
    }

    /// What a dead bareos-sd left: its crash report (Bareos's signal
    /// handler writes `bareos.<pid>.traceback` to its working directory and
    /// then exits with status 1, so the exit status does not show the
    /// signal) and the signal line of its log. `known` is the crash of
    /// Bareos 26.0's just-in-time reservation: a SIGSEGV in SetupDCR when
    /// the director cancels a job while the SD reserves a drive for its
    /// first record (reproduced with the stock python3-fd.so). `None` if
    /// there is no report.
    fn sd_crash_report(&self, pid: i32) -> Option<SdCrash> {
        let path = self.work.join(format!("bareos.{pid}.traceback"));
        let traceback = std::fs::read_to_string(&path).ok()?;
        let sd_out =
            std::fs::read_to_string(self.log_dir.join("bareos-sd.out")).unwrap_or_default();
        let signal = sd_out
            .lines()
            .rev()
            .find(|l| l.contains("interrupted by signal"))
            .unwrap_or("")
            .trim()
            .to_string();
        Some(SdCrash {
            known: traceback.contains("SetupDCR"),
            signal,
            path,
        })
    }

    /// After a failed backup whose log says the director lost the storage
    /// daemon: whether bareos-sd crashed the way Bareos 26.0's
    /// just-in-time reservation does when the director cancels a job
    /// while the SD reserves a drive for its first record (SetupDCR in
    /// the crash report; reproduced with the stock python3-fd.so and an
    /// exception in plugin_io: `fault-raise-io` in a reference run). Waits
    /// for the SD to end (its crash handler runs gdb first, up to 20 s),
    /// restarts it and returns what [`Lab::check_daemons`] found; `None` if
    /// the SD is fine. Any other death of the SD is an error.
    pub fn sd_crash_after(&self, job_log: &str) -> Result<Option<String>> {
        // The director also reports a dropped SD comm line when it cancels
        // an SD that ends cleanly (its "Transfer rate=" line); only a job
        // whose SD was reserving a drive and never ended is suspicious.
        if !job_log.contains("comm line to SD dropped")
            || !job_log.contains("JustInTime Reservation: Finding drive to reserve")
            || job_log.contains("Transfer rate=")
        {
            return Ok(None);
        }
        let Some(pid) = self.pid_of("bareos-sd") else {
            return Ok(None);
        };
        let t = Instant::now();
        while crate::daemons::alive(pid) && t.elapsed() < Duration::from_secs(20) {
            {
                let mut ds = self.daemons.lock().unwrap();
                if let Some(d) = ds.iter_mut().find(|d| d.pid == pid)
                    && !d.alive()
                {
                    break;
                }
            }
            std::thread::sleep(Duration::from_millis(200));
        }
        if crate::daemons::alive(pid) {
            return Ok(None);
        }
        // Restarts it; an SD death other than the known crash is an error.
        self.check_daemons()
            .with_context(|| format!("bareos-sd (pid {pid}) died after the failed job"))
    }

    /// Live processes of the installed sidecar-runner.
    pub fn runners(&self) -> Vec<procs::Proc> {
        procs::by_exe(&self.runner)
    }

    /// Waits until no sidecar-runner process is left (or `timeout`).
    pub fn wait_no_runners(&self, timeout: Duration) -> Result<Duration> {
        let t = Instant::now();
        loop {
            let left = self.runners();
            if left.is_empty() {
                return Ok(t.elapsed());
            }
            if t.elapsed() > timeout {
                bail!(
                    "sidecar-runner processes left {:?} after the job: {:?}",
                    timeout,
                    left.iter().map(|p| p.pid).collect::<Vec<_>>()
                );
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Writes `sidecar.toml` beside our python3-fd.so; removed when the
    /// guard is dropped.
    pub fn sidecar_toml(&self, text: &str) -> Result<SidecarToml> {
        let path = self.sidecar_plugins.join("sidecar.toml");
        std::fs::write(&path, text)?;
        Ok(SidecarToml { path })
    }

    /// Our test plugins (python/tests/plugins).
    pub fn test_plugins(&self) -> PathBuf {
        self.python_dir.join("tests/plugins")
    }

    /// Our example plugins as installed by install.sh.
    /// (The repository's copy for a reference run of a stock plugin.)
    pub fn examples(&self) -> PathBuf {
        let installed = self.sidecar_plugins.join("sidecar/examples");
        if installed.is_dir() {
            installed
        } else {
            self.python_dir.join("examples")
        }
    }

    pub fn scenario_data(&self, scenario: &str) -> PathBuf {
        self.data.join(scenario)
    }

    pub fn list_file(&self, scenario: &str) -> PathBuf {
        self.lists.join(format!("{scenario}.list"))
    }

    /// A fresh restore target for a scenario.
    pub fn restore_dir(&self, name: &str) -> Result<PathBuf> {
        let d = self.restores.join(name);
        if d.exists() {
            std::fs::remove_dir_all(&d)?;
        }
        std::fs::create_dir_all(&d)?;
        Ok(d)
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        daemons::stop_all();
        self.daemons
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clear();
    }
}

pub struct SidecarToml {
    path: PathBuf,
}

impl Drop for SidecarToml {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}
