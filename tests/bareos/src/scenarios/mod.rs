//! The scenarios: each declares the FileSets/Jobs it needs (written into
//! the director's configuration before the daemons start) and a check run
//! against the live lab. Helpers shared by the groups are here.

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

use crate::config::JobDef;
use crate::console::{JobRecord, relevant_lines};
use crate::lab::Lab;
use crate::tree::{self, Compare, Snapshot};

mod attach;
mod basic;
mod cancel;
mod concurrency;
mod dirsd;
mod faults;
mod features;
mod levels;
mod status;

pub struct Scenario {
    pub name: &'static str,
    pub jobs: fn(&Lab) -> Result<Vec<JobDef>>,
    pub run: fn(&Lab) -> Result<()>,
}

/// Every scenario, in the order they run.
pub fn all() -> Vec<Scenario> {
    let mut v = Vec::new();
    v.extend(basic::scenarios());
    v.extend(status::scenarios());
    v.extend(levels::scenarios());
    v.extend(features::scenarios());
    v.extend(attach::scenarios());
    v.extend(concurrency::scenarios());
    v.extend(dirsd::scenarios());
    v.extend(faults::scenarios());
    v.extend(cancel::scenarios());
    v
}

/// How long an ordinary job may take.
pub const JOB_TIMEOUT: Duration = Duration::from_secs(120);

/// The job log lines worth showing with a failure.
pub fn log_excerpt(log: &str) -> String {
    let picked = relevant_lines(
        log,
        &[
            "error",
            "fatal",
            "warning",
            "sidecar",
            "termination",
            "cancel",
            "deadline",
            "signal",
            "traceback",
        ],
    );
    let text = if picked.is_empty() {
        log.to_string()
    } else {
        picked
    };
    let lines: Vec<&str> = text.lines().collect();
    let shown = &lines[lines.len().saturating_sub(25)..];
    shown
        .iter()
        .map(|l| format!("    | {l}"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Runs a job and waits for it; Err (with the log) unless it ended T/W.
pub fn run_ok(lab: &Lab, job: &str, args: &str) -> Result<(JobRecord, String)> {
    let id = lab.console().run_job(job, args)?;
    wait_ok(lab, id, &format!("{job} {args}"))
}

pub fn wait_ok(lab: &Lab, id: u32, what: &str) -> Result<(JobRecord, String)> {
    let rec = lab.console().wait_job(id, JOB_TIMEOUT);
    let log = lab.console().joblog(id).unwrap_or_default();
    let rec = rec.with_context(|| format!("{what} (jobid {id}):\n{}", log_excerpt(&log)))?;
    if !rec.ok() {
        bail!(
            "{what} (jobid {id}) ended with JobStatus {} (expected T or W):\n{}",
            rec.status,
            log_excerpt(&log)
        );
    }
    Ok((rec, log))
}

/// A job that must end without any warning or error (JobStatus T).
pub fn expect_clean_status(rec: &JobRecord, log: &str) -> Result<()> {
    if rec.status != "T" {
        bail!(
            "jobid {} ended with JobStatus {} (expected T, no errors):\n{}",
            rec.id,
            rec.status,
            log_excerpt(log)
        );
    }
    Ok(())
}

/// Runs a job that must end with one of `statuses`; returns the record,
/// the log and how long it took from the run command.
pub fn run_failing(
    lab: &Lab,
    job: &str,
    statuses: &[&str],
    timeout: Duration,
) -> Result<(JobRecord, String, Duration)> {
    let t = Instant::now();
    let id = lab.console().run_job(job, "")?;
    let rec = lab.console().wait_job(id, timeout);
    let took = t.elapsed();
    let log = lab.console().joblog(id).unwrap_or_default();
    let rec = rec.with_context(|| format!("jobid {id}:\n{}", log_excerpt(&log)))?;
    if !statuses.contains(&rec.status.as_str()) {
        bail!(
            "jobid {id} ended with JobStatus {}, expected one of {statuses:?}:\n{}",
            rec.status,
            log_excerpt(&log)
        );
    }
    Ok((rec, log, took))
}

/// Restores (`jobids`, or the latest state of `fileset`) into a fresh
/// directory named `name`; returns the restore target.
pub fn restore(
    lab: &Lab,
    fileset: &str,
    name: &str,
    jobids: Option<&str>,
) -> Result<(std::path::PathBuf, String)> {
    let where_ = lab.restore_dir(name)?;
    let id = lab.console().restore(fileset, &where_, jobids)?;
    let (_, log) = wait_ok(lab, id, &format!("restore of {fileset}"))?;
    Ok((where_, log))
}

/// Restores and compares the tree below `original` with `expected`.
pub fn restore_and_compare(
    lab: &Lab,
    fileset: &str,
    name: &str,
    jobids: Option<&str>,
    original: &Path,
    expected: &Snapshot,
    how: Compare,
) -> Result<String> {
    let (where_, log) = restore(lab, fileset, name, jobids)?;
    let root = tree::restored_root(&where_, original);
    let got = tree::snapshot(&root).with_context(|| format!("restored tree {}", root.display()))?;
    tree::compare(expected, &got, how)
        .with_context(|| format!("restore of {fileset} into {}", where_.display()))?;
    Ok(log)
}

/// A plugin string for one of our test plugins.
pub fn test_plugin(lab: &Lab, module: &str, options: &str) -> String {
    let mut s = format!(
        "python3:module_path={}:module_name={module}",
        lab.test_plugins().display()
    );
    if !options.is_empty() {
        s.push(':');
        s.push_str(options);
    }
    s
}

/// A plugin string for one of our installed examples.
pub fn example_plugin(lab: &Lab, module: &str, options: &str) -> String {
    let mut s = format!(
        "python3:module_path={}:module_name={module}",
        lab.examples().display()
    );
    if !options.is_empty() {
        s.push(':');
        s.push_str(options);
    }
    s
}

/// Sample data for a scenario and its list file (one line: the data dir).
pub fn sample_with_list(
    lab: &Lab,
    scenario: &str,
    seed: u64,
) -> Result<(std::path::PathBuf, std::path::PathBuf)> {
    let data = lab.scenario_data(scenario);
    if data.exists() {
        std::fs::remove_dir_all(&data)?;
    }
    tree::make_sample(&data, seed)?;
    let list = lab.list_file(scenario);
    std::fs::write(&list, format!("{}\n", data.display()))?;
    Ok((data, list))
}

/// The job log must contain `needle` (case-insensitive).
pub fn expect_in_log(log: &str, needle: &str, what: &str) -> Result<()> {
    if log.to_lowercase().contains(&needle.to_lowercase()) {
        return Ok(());
    }
    bail!(
        "{what}: the job log does not mention {needle:?}:\n{}",
        log_excerpt(log)
    )
}

/// After a faulty job: the fd is still the same live process, its status
/// shows no running job, and no runner is left.
pub fn expect_clean_after(lab: &Lab, fd_pid_before: i32, runner_timeout: Duration) -> Result<()> {
    // A dead daemon (restarted here) would make the next job hang.
    lab.check_daemons()
        .map_err(|e| e.context("a daemon died during the job"))?;
    if lab.fd_pid() != fd_pid_before || !crate::daemons::alive(fd_pid_before) {
        bail!("bareos-fd (pid {fd_pid_before}) did not survive");
    }
    lab.wait_no_runners(runner_timeout)?;
    let t = Instant::now();
    loop {
        let status = lab.console().status_client()?;
        let running = running_jobs_section(&status);
        if running.is_empty() {
            return Ok(());
        }
        if t.elapsed() > Duration::from_secs(10) {
            bail!("status client still shows running jobs:\n{running}");
        }
        std::thread::sleep(Duration::from_millis(500));
    }
}

/// The job lines of the "Running Jobs:" section of `status client`
/// (empty when none).
pub fn running_jobs_section(status: &str) -> String {
    let mut in_section = false;
    let mut out = Vec::new();
    for line in status.lines() {
        if line.starts_with("Running Jobs:") {
            in_section = true;
            continue;
        }
        if in_section {
            if line.starts_with("====") || line.starts_with("Terminated Jobs:") {
                break;
            }
            let l = line.trim();
            if l.is_empty()
                || l.starts_with("No Jobs running")
                || l.starts_with("Director connected")
            {
                continue;
            }
            if l.starts_with("JobId") {
                out.push(l.to_string());
            }
        }
    }
    out.join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn running_jobs_section_parsing() {
        let idle = "acceptance-fd Version: 26\n\nRunning Jobs:\nDirector connected at: 01-Jan-24 10:00\nNo Jobs running.\n====\n\nTerminated Jobs:\n JobId Level\n";
        assert_eq!(running_jobs_section(idle), "");
        let busy = "Running Jobs:\nJobId 7 Job fault.2024-01-01_10.00.00_07 is running.\n    Full Backup Job started: 01-Jan-24\n====\n";
        assert!(running_jobs_section(busy).starts_with("JobId 7"));
    }
}
