//! What the benchmark measures: job times from the director's log (each
//! line's arrival, watched every 5 ms), CPU times from /proc, the fd's
//! child processes (runners, gRPC bridges) while a job runs.

use std::collections::HashMap;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use anyhow::{Result, bail};

/// How often the log watcher looks for new lines.
pub const LOG_POLL: Duration = Duration::from_millis(5);

/// One job as the director's log shows it.
#[derive(Debug, Clone, Default)]
pub struct JobTimes {
    /// When "Start Backup JobId N" / "Start Restore Job" appeared.
    pub start: Option<Instant>,
    /// When the job report (with its "Termination:" line) appeared.
    pub end: Option<Instant>,
    /// The text after "Termination:" ("Backup OK", "Restore OK", ...).
    pub termination: Option<String>,
    /// The job report and every other message of the job, as logged.
    pub text: String,
}

impl JobTimes {
    /// A number from the job report ("FD Files Written:  20,000").
    pub fn report_number(&self, key: &str) -> Option<u64> {
        let line = self
            .text
            .lines()
            .find(|l| l.trim_start().starts_with(key))?;
        let rest = &line.trim_start()[key.len()..];
        let digits: String = rest
            .trim_start()
            .chars()
            .take_while(|c| c.is_ascii_digit() || *c == ',')
            .filter(|c| *c != ',')
            .collect();
        digits.parse().ok()
    }
}

/// Tails the director's log file (`append = ... = all` in its Messages
/// resource) in a thread and notes when each job's start and end lines
/// arrive: the director writes each message as it is generated (it opens,
/// appends and closes the file per message), so the time a line appears
/// is the time the director got there, to within the 5 ms poll.
pub struct LogWatcher {
    jobs: Arc<Mutex<HashMap<u32, JobTimes>>>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl LogWatcher {
    /// `trace`: also write every line with its arrival time (ms since
    /// the start) to this file.
    pub fn start(path: &Path, trace: Option<PathBuf>) -> LogWatcher {
        let jobs: Arc<Mutex<HashMap<u32, JobTimes>>> = Arc::default();
        let stop = Arc::new(AtomicBool::new(false));
        let (j, s, p) = (jobs.clone(), stop.clone(), path.to_path_buf());
        let thread = std::thread::Builder::new()
            .name("log-watcher".into())
            .spawn(move || watch(&p, &j, &s, trace.as_deref()))
            .expect("spawn log watcher");
        LogWatcher {
            jobs,
            stop,
            thread: Some(thread),
        }
    }

    /// How many jobs have started (their start line is in the log).
    pub fn started(&self) -> usize {
        self.jobs
            .lock()
            .unwrap()
            .values()
            .filter(|j| j.start.is_some())
            .count()
    }

    /// Waits until every job in `ids` has its report in the log.
    pub fn wait_all(&self, ids: &[u32], timeout: Duration) -> Result<Vec<JobTimes>> {
        let t = Instant::now();
        loop {
            {
                let jobs = self.jobs.lock().unwrap();
                if ids
                    .iter()
                    .all(|id| jobs.get(id).is_some_and(|j| j.end.is_some()))
                {
                    return Ok(ids.iter().map(|id| jobs[id].clone()).collect());
                }
            }
            if t.elapsed() > timeout {
                bail!("jobs {ids:?} have no report in the director's log after {timeout:?}");
            }
            std::thread::sleep(Duration::from_millis(2));
        }
    }
}

impl Drop for LogWatcher {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn watch(
    path: &Path,
    jobs: &Mutex<HashMap<u32, JobTimes>>,
    stop: &AtomicBool,
    trace: Option<&Path>,
) {
    let t0 = Instant::now();
    let mut trace = trace.and_then(|p| std::fs::File::create(p).ok());
    let mut file = None;
    let mut pos = 0u64;
    let mut pending: Vec<u8> = Vec::new();
    let mut current: Option<u32> = None;
    let mut buf = vec![0u8; 1 << 16];
    while !stop.load(Ordering::Relaxed) {
        if file.is_none() {
            file = std::fs::File::open(path).ok();
        }
        let mut got = false;
        if let Some(f) = file.as_mut()
            && f.seek(SeekFrom::Start(pos)).is_ok()
        {
            while let Ok(n) = f.read(&mut buf) {
                if n == 0 {
                    break;
                }
                pos += n as u64;
                pending.extend_from_slice(&buf[..n]);
                got = true;
            }
        }
        if got {
            let now = Instant::now();
            let mut jobs = jobs.lock().unwrap();
            while let Some(nl) = pending.iter().position(|&b| b == b'\n') {
                let line: Vec<u8> = pending.drain(..=nl).collect();
                let line = String::from_utf8_lossy(&line[..line.len() - 1]).into_owned();
                if let Some(t) = trace.as_mut() {
                    use std::io::Write as _;
                    let ms = now.duration_since(t0).as_secs_f64() * 1e3;
                    let _ = writeln!(t, "{ms:10.1} {line}");
                }
                parse_line(&line, now, &mut current, &mut jobs);
            }
        }
        std::thread::sleep(LOG_POLL);
    }
}

/// `02-Dec 10:00 acceptance-dir JobId 5: text`: the job id and the text.
fn prefixed(line: &str) -> Option<(u32, &str)> {
    let i = line.find(" JobId ")?;
    if i > 80 {
        return None;
    }
    let rest = &line[i + 7..];
    let digits: String = rest.chars().take_while(|c| c.is_ascii_digit()).collect();
    let text = rest[digits.len()..].strip_prefix(": ")?;
    Some((digits.parse().ok()?, text))
}

fn parse_line(
    line: &str,
    now: Instant,
    current: &mut Option<u32>,
    jobs: &mut HashMap<u32, JobTimes>,
) {
    let text = match prefixed(line) {
        Some((id, text)) => {
            *current = Some(id);
            let j = jobs.entry(id).or_default();
            if j.start.is_none()
                && (text.starts_with("Start Backup JobId") || text.starts_with("Start Restore Job"))
            {
                j.start = Some(now);
            }
            text
        }
        None => line,
    };
    let Some(id) = *current else { return };
    let j = jobs.entry(id).or_default();
    j.text.push_str(text);
    j.text.push('\n');
    if let Some(i) = text.find("Termination:")
        && j.end.is_none()
    {
        j.end = Some(now);
        j.termination = Some(text[i + 12..].trim().to_string());
    }
}

/// utime, stime, cutime, cstime of a process, in seconds.
#[derive(Debug, Clone, Copy, Default)]
pub struct ProcCpu {
    pub own: f64,
    pub children: f64,
}

fn clock_ticks() -> f64 {
    // SAFETY: sysconf has no preconditions.
    let t = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    if t > 0 { t as f64 } else { 100.0 }
}

/// Fields after the parenthesised command of /proc/PID/stat.
fn stat_fields(pid: i32) -> Option<Vec<u64>> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let (_, rest) = stat.rsplit_once(')')?;
    // state is not a number: keep positions by mapping it to 0.
    Some(
        rest.split_whitespace()
            .map(|f| f.parse::<i64>().map(|v| v.max(0) as u64).unwrap_or(0))
            .collect(),
    )
}

/// CPU times of `pid` (field 14-17 of /proc/PID/stat: utime, stime,
/// cutime, cstime; cutime/cstime are the children it has waited for).
pub fn proc_cpu(pid: i32) -> Option<ProcCpu> {
    let f = stat_fields(pid)?;
    let hz = clock_ticks();
    // rest[0] is field 3 (state): utime is field 14 -> rest[11].
    Some(ProcCpu {
        own: (f.get(11)? + f.get(12)?) as f64 / hz,
        children: (f.get(13)? + f.get(14)?) as f64 / hz,
    })
}

/// Live children of `pid` with their parent (field 4) checked.
pub fn children_of(pid: i32) -> Vec<i32> {
    let mut out = Vec::new();
    for e in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        let Some(p) = e.file_name().to_str().and_then(|s| s.parse::<i32>().ok()) else {
            continue;
        };
        if crate::procs::stat_ppid(p) == Some(pid) && crate::daemons::alive(p) {
            out.push(p);
        }
    }
    out
}

/// The executable of a process ("" if gone).
pub fn exe_of(pid: i32) -> String {
    std::fs::read_link(format!("/proc/{pid}/exe"))
        .map(|p| p.display().to_string())
        .unwrap_or_default()
}

/// The CPU of the processes that make up the lab, at one moment.
#[derive(Debug, Clone, Copy, Default)]
pub struct LabCpu {
    /// The file daemon under test, its own threads.
    pub fd: f64,
    /// Its waited-for children: runners, gRPC bridges.
    pub fd_children: f64,
    /// Director, storage daemon and the catalog's PostgreSQL (postmaster,
    /// its live backends and the backends it has reaped).
    pub others: f64,
}

pub struct Pids {
    pub dir: i32,
    pub sd: i32,
    pub postmaster_pid_file: PathBuf,
}

impl Pids {
    fn postmaster(&self) -> Option<i32> {
        std::fs::read_to_string(&self.postmaster_pid_file)
            .ok()?
            .lines()
            .next()?
            .trim()
            .parse()
            .ok()
    }
}

pub fn lab_cpu(fd: i32, pids: &Pids) -> LabCpu {
    let f = proc_cpu(fd).unwrap_or_default();
    let mut others = 0.0;
    for p in [pids.dir, pids.sd] {
        let c = proc_cpu(p).unwrap_or_default();
        others += c.own + c.children;
    }
    if let Some(pm) = pids.postmaster() {
        let c = proc_cpu(pm).unwrap_or_default();
        others += c.own + c.children;
        for b in children_of(pm) {
            others += proc_cpu(b).map(|c| c.own + c.children).unwrap_or(0.0);
        }
    }
    LabCpu {
        fd: f.own,
        fd_children: f.children,
        others,
    }
}

/// Watches the fd's children while jobs run (every 100 ms): the CPU each
/// had when last seen, and whether each was gone (reaped) afterwards.
pub struct ChildWatch {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<HashMap<i32, (String, f64)>>>,
}

/// What a ChildWatch saw.
#[derive(Debug, Clone, Default)]
pub struct ChildReport {
    /// Distinct child processes seen.
    pub count: usize,
    /// Their CPU (utime+stime) when last seen: a lower bound.
    pub cpu: f64,
    /// The executables seen.
    pub exes: Vec<String>,
}

impl ChildWatch {
    pub fn start(fd: i32) -> ChildWatch {
        let stop = Arc::new(AtomicBool::new(false));
        let s = stop.clone();
        let thread = std::thread::spawn(move || {
            let mut seen: HashMap<i32, (String, f64)> = HashMap::new();
            loop {
                let last = s.load(Ordering::Relaxed);
                for c in children_of(fd) {
                    if let Some(cpu) = proc_cpu(c) {
                        let e = seen.entry(c).or_insert_with(|| (exe_of(c), 0.0));
                        e.1 = e.1.max(cpu.own + cpu.children);
                    }
                }
                if last {
                    return seen;
                }
                std::thread::sleep(Duration::from_millis(100));
            }
        });
        ChildWatch {
            stop,
            thread: Some(thread),
        }
    }

    pub fn finish(mut self) -> ChildReport {
        self.stop.store(true, Ordering::Relaxed);
        let seen = self
            .thread
            .take()
            .and_then(|t| t.join().ok())
            .unwrap_or_default();
        let mut exes: Vec<String> = seen.values().map(|(e, _)| e.clone()).collect();
        exes.sort();
        exes.dedup();
        ChildReport {
            count: seen.len(),
            cpu: seen.values().map(|(_, c)| c).sum(),
            exes,
        }
    }
}

/// Children of `pid`, zombies (exited, not reaped yet) included.
fn children_or_zombies(pid: i32) -> Vec<i32> {
    let mut out = Vec::new();
    for e in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        let Some(p) = e.file_name().to_str().and_then(|s| s.parse::<i32>().ok()) else {
            continue;
        };
        if crate::procs::stat_ppid(p) == Some(pid) {
            out.push(p);
        }
    }
    out
}

/// Waits until `fd` has no child process left, not even a zombie:
/// runners and bridges exit at the end of their job, and only once the fd
/// has reaped them is their CPU in its cutime/cstime.
pub fn wait_no_children(fd: i32, timeout: Duration) -> Result<()> {
    let t = Instant::now();
    loop {
        let left = children_or_zombies(fd);
        if left.is_empty() {
            return Ok(());
        }
        if t.elapsed() > timeout {
            bail!("children of the fd still alive after {timeout:?}: {left:?}");
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Processes that compete for the CPU and are not ours: compilers and
/// another acceptance run. (Names, for the report.)
pub fn competitors(own_daemons: &[i32]) -> Vec<String> {
    let me = std::process::id() as i32;
    let mut out = Vec::new();
    for e in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        let Some(p) = e.file_name().to_str().and_then(|s| s.parse::<i32>().ok()) else {
            continue;
        };
        if p == me || own_daemons.contains(&p) {
            continue;
        }
        let comm = std::fs::read_to_string(format!("/proc/{p}/comm")).unwrap_or_default();
        let comm = comm.trim();
        if matches!(
            comm,
            "rustc"
                | "cc1"
                | "cc1plus"
                | "ld"
                | "bareos-acceptan"
                | "bareos-fd"
                | "bareos-sd"
                | "bareos-dir"
        ) && crate::daemons::alive(p)
        {
            out.push(comm.to_string());
        }
    }
    out.sort();
    out.dedup();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_start_and_report() {
        let mut jobs = HashMap::new();
        let mut cur = None;
        let t = Instant::now();
        for l in [
            "02-Dec 10:00 acceptance-dir JobId 7: Start Backup JobId 7, Job=x.2024",
            "02-Dec 10:00 acceptance-dir JobId 7: Bareos acceptance-dir 26.0.0:",
            "  JobId:                  7",
            "  FD Files Written:       20,000",
            "  Termination:            Backup OK",
            "",
            "02-Dec 10:01 acceptance-dir JobId 8: Start Restore Job RestoreFiles.2024",
        ] {
            parse_line(l, t, &mut cur, &mut jobs);
        }
        let j = &jobs[&7];
        assert!(j.start.is_some() && j.end.is_some());
        assert_eq!(j.termination.as_deref(), Some("Backup OK"));
        assert_eq!(j.report_number("FD Files Written:"), Some(20_000));
        assert!(jobs[&8].start.is_some() && jobs[&8].end.is_none());
        assert_eq!(prefixed("  JobId:   7"), None);
    }
}
