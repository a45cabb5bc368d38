//! Starting and stopping the Bareos daemons the way a service manager
//! does (environment cleared except PATH, foreground, own process group),
//! and the registry of everything this run started, so that exactly that
//! is stopped again: at the end, on an error, on a panic (the lab's Drop)
//! and on Ctrl-C/SIGTERM (the signal thread).

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

/// systemd's default PATH for services; nothing else is kept.
pub const SERVICE_PATH: &str = "/usr/sbin:/usr/bin:/sbin:/bin";

/// Something to stop at the end.
#[derive(Debug, Clone)]
enum Started {
    Process { name: String, pid: i32 },
    Postgres { pg_ctl: PathBuf, data: PathBuf },
}

static STARTED: Mutex<Vec<Started>> = Mutex::new(Vec::new());

fn register(s: Started) {
    STARTED.lock().unwrap_or_else(|e| e.into_inner()).push(s);
}

/// Registers a process this run started (stopped at the end, on an
/// error and on a signal, like the daemons).
pub fn register_process(name: &str, pid: i32) {
    register(Started::Process {
        name: name.to_string(),
        pid,
    });
}

/// Forgets a process that was stopped already (its pid may be reused).
pub fn unregister_process(pid: i32) {
    STARTED
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .retain(|s| !matches!(s, Started::Process { pid: p, .. } if *p == pid));
}

/// Stops one process this run started (SIGTERM, then SIGKILL after
/// `grace`), reaps it and forgets it.
pub fn stop_process(name: &str, pid: i32, grace: Duration) {
    stop_pid(name, pid, grace);
    unregister_process(pid);
}

pub fn register_postgres(pg_ctl: &Path, data: &Path) {
    register(Started::Postgres {
        pg_ctl: pg_ctl.to_path_buf(),
        data: data.to_path_buf(),
    });
}

/// Stops everything registered, newest first. Safe to call more than once.
pub fn stop_all() {
    let list: Vec<Started> =
        std::mem::take(&mut *STARTED.lock().unwrap_or_else(|e| e.into_inner()));
    for s in list.into_iter().rev() {
        match s {
            Started::Process { name, pid } => stop_pid(&name, pid, Duration::from_secs(20)),
            Started::Postgres { pg_ctl, data } => {
                let _ = Command::new("runuser")
                    .args(["-u", "postgres", "--"])
                    .arg(&pg_ctl)
                    .arg("-D")
                    .arg(&data)
                    .args(["-m", "fast", "-w", "-t", "30", "stop"])
                    .stdout(Stdio::null())
                    .stderr(Stdio::null())
                    .status();
            }
        }
    }
}

/// Whether `pid` is a live (not zombie) process.
pub fn alive(pid: i32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => stat
            .rsplit_once(')')
            .map(|(_, rest)| !rest.trim_start().starts_with('Z'))
            .unwrap_or(false),
        Err(_) => false,
    }
}

/// SIGTERM, wait up to `grace`, then SIGKILL. Reaps the process if it is our child.
fn stop_pid(name: &str, pid: i32, grace: Duration) {
    if !alive(pid) {
        reap(pid);
        return;
    }
    let _ = kill(Pid::from_raw(pid), Signal::SIGTERM);
    let t = Instant::now();
    while t.elapsed() < grace {
        reap(pid);
        if !alive(pid) {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    eprintln!("acceptance: {name} (pid {pid}) still alive after {grace:?}, SIGKILL");
    let _ = kill(Pid::from_raw(pid), Signal::SIGKILL);
    std::thread::sleep(Duration::from_millis(100));
    reap(pid);
}

fn reap(pid: i32) {
    let _ = nix::sys::wait::waitpid(
        Pid::from_raw(pid),
        Some(nix::sys::wait::WaitPidFlag::WNOHANG),
    );
}

/// One running daemon (a child of this process, in its own process group).
pub struct Daemon {
    pub name: String,
    pub pid: i32,
    child: Child,
    pub log: PathBuf,
}

impl Daemon {
    /// Starts `binary -f -c config` with only PATH in the environment.
    /// stdout/stderr go to `log`. The pid is recorded in `pid_file` (the
    /// stale-run cleanup reads it) and in the stop registry.
    pub fn start(
        name: &str,
        binary: &Path,
        config: &Path,
        log: &Path,
        pid_file: &Path,
        debug: u32,
    ) -> Result<Daemon> {
        // Appended: a restarted daemon keeps what the old one wrote (its
        // crash report).
        let out = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(log)
            .with_context(|| format!("create {}", log.display()))?;
        let err = out.try_clone()?;
        let mut cmd = Command::new(binary);
        cmd.arg("-f").arg("-c").arg(config);
        if debug > 0 {
            cmd.arg("-d").arg(debug.to_string()).arg("--dt");
        }
        cmd.env_clear()
            .env("PATH", SERVICE_PATH)
            .current_dir("/")
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err);
        unblock_signals_in_child(&mut cmd);
        let child = cmd
            .spawn()
            .with_context(|| format!("start {}", binary.display()))?;
        let pid = child.id() as i32;
        register(Started::Process {
            name: name.to_string(),
            pid,
        });
        std::fs::write(pid_file, format!("{pid}\n"))?;
        Ok(Daemon {
            name: name.to_string(),
            pid,
            child,
            log: log.to_path_buf(),
        })
    }

    /// Stops the daemon (SIGTERM, SIGKILL after 20 s) and waits for it.
    pub fn stop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = kill(Pid::from_raw(self.pid), Signal::SIGTERM);
            let t = Instant::now();
            while matches!(self.child.try_wait(), Ok(None)) {
                if t.elapsed() > Duration::from_secs(20) {
                    let _ = self.child.kill();
                    let _ = self.child.wait();
                    break;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
        }
        unregister_process(self.pid);
    }

    pub fn alive(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None)) && alive(self.pid)
    }

    /// Fails if the daemon has exited (with its exit status and log tail).
    pub fn check(&mut self) -> Result<()> {
        if let Ok(Some(status)) = self.child.try_wait() {
            bail!(
                "{} (pid {}) exited: {status}; log tail:\n{}",
                self.name,
                self.pid,
                tail(&self.log, 20)
            );
        }
        Ok(())
    }
}

/// Own process group (a terminal's Ctrl-C reaches only us, and we stop
/// the daemon) and an empty signal mask (ours blocks SIGINT/SIGTERM for
/// the signal thread).
pub fn unblock_signals_in_child(cmd: &mut Command) {
    use std::os::unix::process::CommandExt;
    cmd.process_group(0);
    // SAFETY: sigemptyset and sigprocmask are async-signal-safe.
    unsafe {
        cmd.pre_exec(|| {
            let mut set = std::mem::MaybeUninit::<libc::sigset_t>::uninit();
            libc::sigemptyset(set.as_mut_ptr());
            libc::sigprocmask(libc::SIG_SETMASK, set.as_ptr(), std::ptr::null_mut());
            Ok(())
        });
    }
}

/// The last `n` lines of a text file.
pub fn tail(path: &Path, n: usize) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

/// Stops processes a previous, killed run left behind: pid files in
/// `run_dir` whose process still runs a command line mentioning `marker`
/// (the scratch directory), and a PostgreSQL cluster in `pg_data`.
pub fn stop_stale(run_dir: &Path, marker: &str, pg_ctl: &Path, pg_data: &Path) {
    if let Ok(entries) = std::fs::read_dir(run_dir) {
        for e in entries.flatten() {
            let path = e.path();
            if path.extension().and_then(|x| x.to_str()) != Some("pid") {
                continue;
            }
            let Some(pid) = std::fs::read_to_string(&path)
                .ok()
                .and_then(|s| s.trim().parse::<i32>().ok())
            else {
                continue;
            };
            let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
            if String::from_utf8_lossy(&cmdline).contains(marker) {
                eprintln!(
                    "acceptance: stopping {} (pid {pid}) left by an earlier run",
                    path.display()
                );
                stop_pid(&path.display().to_string(), pid, Duration::from_secs(10));
            }
            let _ = std::fs::remove_file(&path);
        }
    }
    if pg_data.join("postmaster.pid").exists() {
        eprintln!(
            "acceptance: stopping PostgreSQL in {} left by an earlier run",
            pg_data.display()
        );
        let _ = Command::new("runuser")
            .args(["-u", "postgres", "--"])
            .arg(pg_ctl)
            .arg("-D")
            .arg(pg_data)
            .args(["-m", "immediate", "-w", "stop"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
    }
}

/// Blocks SIGINT/SIGTERM/SIGHUP in every thread and starts a thread that
/// waits for them, stops everything registered and exits. Call first in
/// main, before any other thread exists. (Children get an empty signal
/// mask from std's spawn.)
pub fn install_signal_thread() -> Result<()> {
    use nix::sys::signal::{SigSet, SigmaskHow, pthread_sigmask};
    let mut set = SigSet::empty();
    set.add(Signal::SIGINT);
    set.add(Signal::SIGTERM);
    set.add(Signal::SIGHUP);
    pthread_sigmask(SigmaskHow::SIG_BLOCK, Some(&set), None)?;
    std::thread::Builder::new()
        .name("signals".into())
        .spawn(move || {
            if let Ok(sig) = set.wait() {
                eprintln!("\nacceptance: {sig}, stopping what this run started");
                stop_all();
                std::process::exit(128 + sig as i32);
            }
        })?;
    Ok(())
}
