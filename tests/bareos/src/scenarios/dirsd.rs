//! Director and storage daemon plugins through our python3-dir.so and
//! python3-sd.so (the same shared object as python3-fd.so, installed three
//! times): both daemons list them, Bareos's shipped class plugins run
//! unmodified, a director plugin importing `requests` runs job after job
//! (bareos/bareos#2218), no "No associated thread state found"
//! (bareos/bareos#2492) with and without `Plugin Names`, and a plugin that
//! segfaults fails only its job.
//!
//! Job options: `Dir Plugin Options = "python3:instance=0:module_path=...:module_name=..."`
//! and `SD Plugin Options = "python3:..."` in the Job resource.

use std::path::Path;
use std::time::Duration;

use anyhow::{Context, Result, bail};

use super::{Scenario, expect_in_log, log_excerpt, run_ok, sample_with_list};
use crate::config::{DirPlugins, JobDef, quote};
use crate::lab::Lab;

pub fn scenarios() -> Vec<Scenario> {
    vec![
        Scenario {
            name: "status-director-storage-plugins",
            jobs: |_| Ok(vec![]),
            run: status_plugins,
        },
        Scenario {
            name: "dir-class-plugin",
            jobs,
            run: dir_class_plugin,
        },
        Scenario {
            name: "sd-class-plugin",
            jobs,
            run: sd_class_plugin,
        },
        Scenario {
            name: "dir-requests-5-jobs",
            jobs,
            run: dir_requests_5_jobs,
        },
        Scenario {
            name: "dir-no-thread-state-error",
            jobs,
            run: dir_no_thread_state_error,
        },
        Scenario {
            name: "dir-plugin-raise",
            jobs,
            run: dir_plugin_raise,
        },
        Scenario {
            name: "dir-plugin-segfault",
            jobs,
            run: dir_plugin_segfault,
        },
        Scenario {
            name: "sd-plugin-raise",
            jobs,
            run: sd_plugin_raise,
        },
        Scenario {
            name: "sd-plugin-segfault",
            jobs,
            run: sd_plugin_segfault,
        },
    ]
}

/// The data every job of this group backs up (a plain `File =`).
const DATA: &str = "dirsd";

/// `python3:instance=0:module_path=DIR:module_name=MODULE[:OPTIONS]`
fn v4_options(dir: &Path, module: &str, options: &str) -> String {
    let mut s = format!(
        "python3:instance=0:module_path={}:module_name={module}",
        dir.display()
    );
    if !options.is_empty() {
        s.push(':');
        s.push_str(options);
    }
    s
}

fn jobs(lab: &Lab) -> Result<Vec<JobDef>> {
    let data = lab.scenario_data(DATA);
    let tests = lab.test_plugins();
    let stock = lab.inst.plugin_dir.clone();
    let job = |name: &str, directive: &str, options: String| {
        JobDef::new(name)
            .file(&data)
            .job(&format!("{directive} = {}", quote(&options)))
    };
    let dir = "Dir Plugin Options";
    let sd = "SD Plugin Options";
    Ok(vec![
        job(
            "dir-class-plugin",
            dir,
            v4_options(&stock, "bareos-dir-class-plugin", ""),
        ),
        job(
            "sd-class-plugin",
            sd,
            v4_options(&stock, "bareos-sd-class-plugin", ""),
        ),
        job("dir-requests", dir, v4_options(&tests, "dir_requests", "")),
        job(
            "dir-probe",
            dir,
            v4_options(&tests, "dirsd_probe", "register=1,2"),
        ),
        job(
            "dir-next",
            dir,
            v4_options(&tests, "dirsd_probe", "register=1"),
        ),
        job(
            "sd-probe",
            sd,
            v4_options(&tests, "dirsd_probe", "module=bareossd:register=1,2"),
        ),
        // An exception at JobStart (the only event registered): M_FATAL
        // and bRC_Error, what the stock python3-dir/-sd do too (reference).
        job(
            "dir-raise",
            dir,
            v4_options(&tests, "dirsd_probe", "register=1:raise=event"),
        ),
        job(
            "sd-raise",
            sd,
            v4_options(
                &tests,
                "dirsd_probe",
                "module=bareossd:register=1:raise=event",
            ),
        ),
        // bDirEventJobStart = 1, bsdEventJobStart = 1.
        job(
            "dir-segfault",
            dir,
            v4_options(&tests, "v4host_probe", "tag=dir-segfault:crash=1"),
        ),
        job(
            "sd-segfault",
            sd,
            v4_options(&tests, "v4host_probe", "daemon=sd:tag=sd-segfault:crash=1"),
        ),
    ])
}

/// What a director job's failure means when its runner was SIGKILLed
/// between two events: the director dispatches the plugin options and
/// bDirEventJobStart of a job started with `run` in the console's thread,
/// which ends with the bconsole session; the shim starts the runner there
/// with PR_SET_PDEATHSIG (which follows the parent *thread*), so the
/// runner dies when the session ends and the later events (JobEnd) find
/// it gone. Checked by hand: with the session kept open (`run ...` then
/// `wait` in the same bconsole) JobEnd reaches the plugin.
fn explain(e: anyhow::Error) -> anyhow::Error {
    let text = format!("{e:#}");
    if text.contains("python3-dir (sidecar)") && text.contains("killed by signal SIGKILL (9)") {
        e.context(
            "shim bug: the director's runner was SIGKILLed when the bconsole session that ran the job ended \
             (PR_SET_PDEATHSIG follows the console thread that started it; see explain() in tests/bareos/src/scenarios/dirsd.rs)",
        )
    } else {
        e
    }
}

/// The sample data of this group (made once, shared by its jobs).
fn ensure_data(lab: &Lab) -> Result<()> {
    if !lab.scenario_data(DATA).is_dir() {
        sample_with_list(lab, DATA, 61)?;
    }
    Ok(())
}

/// A job log line of our shim in `daemon` (python3-dir / python3-sd)
/// naming the runner.
fn expect_runner_line(log: &str, daemon: &str) -> Result<()> {
    if log
        .lines()
        .any(|l| l.contains(daemon) && l.contains("sidecar-runner pid"))
    {
        return Ok(());
    }
    bail!(
        "no `{daemon} ... sidecar-runner pid` line in the job log:\n{}",
        log_excerpt(log)
    )
}

fn status_plugins(lab: &Lab) -> Result<()> {
    let dir = lab.console().cmd(&["status director"])?;
    let sd = lab
        .console()
        .cmd(&[&format!("status storage={}", crate::config::STORAGE)])?;
    for (what, text, plugin) in [
        ("status director", &dir, "python3-dir.so"),
        ("status storage", &sd, "python3-sd.so"),
    ] {
        let block = super::status::plugin_block(text, plugin);
        if !block.iter().any(|l| l.contains(plugin)) {
            bail!("{what} lists no {plugin}:\n{text}");
        }
        if lab.runner.is_file() && !block.iter().any(|l| l.contains("sidecar")) {
            bail!(
                "{what}: {plugin} is not ours (no `sidecar` in its entry):\n{}",
                block.join("\n")
            );
        }
    }
    Ok(())
}

/// Runs `job` with the daemon's debug level at 100 (`setdebug`) and
/// returns its log and what the daemon printed meanwhile.
fn run_with_debug(lab: &Lab, job: &str, daemon: &str) -> Result<(String, String)> {
    let (target, out) = match daemon {
        "dir" => ("dir".to_string(), "bareos-dir.out"),
        _ => (
            format!("storage={}", crate::config::STORAGE),
            "bareos-sd.out",
        ),
    };
    let out = lab.log_dir.join(out);
    let before = std::fs::metadata(&out).map(|m| m.len()).unwrap_or(0);
    lab.console()
        .cmd(&[&format!("setdebug level=100 {target}")])?;
    let result = run_ok(lab, job, "");
    let _ = lab
        .console()
        .cmd(&[&format!("setdebug level={} {target}", lab.debug)]);
    let (_, log) = result?;
    let text = std::fs::read(&out).unwrap_or_default();
    let debug = String::from_utf8_lossy(&text[(before as usize).min(text.len())..]).into_owned();
    Ok((log, debug))
}

fn expect_in_debug(debug: &str, needles: &[&str], what: &str) -> Result<()> {
    for n in needles {
        if !debug.contains(n) {
            let plugin_lines: Vec<&str> = debug
                .lines()
                .filter(|l| l.contains("python") || l.contains("sidecar") || l.contains("plugin"))
                .collect();
            let shown = &plugin_lines[plugin_lines.len().saturating_sub(20)..];
            bail!(
                "{what}: the daemon's debug output (level 100) has no {n:?}; its plugin lines:\n{}",
                shown.join("\n")
            );
        }
    }
    Ok(())
}

/// bareos-dir-class-plugin (BareosDirPluginBaseclass) logs at debug level
/// 100 only: its constructor's JobName line and every event it registered.
fn dir_class_plugin(lab: &Lab) -> Result<()> {
    ensure_data(lab)?;
    let (log, debug) = run_with_debug(lab, "dir-class-plugin", "dir").map_err(explain)?;
    if lab.runner.is_file() {
        expect_runner_line(&log, "python3-dir")?;
    }
    expect_in_debug(
        &debug,
        &[
            "BareosDirPluginBaseclass",
            "bDirEventJobInit event triggered",
            "bDirEventJobStart event triggered",
            "bDirEventJobRun event triggered",
            "bDirEventJobEnd event triggered",
        ],
        "bareos-dir-class-plugin",
    )
}

/// bareos-sd-class-plugin (BareosSdPluginBaseclass): its JobStart and
/// JobEnd debug lines in the storage daemon.
fn sd_class_plugin(lab: &Lab) -> Result<()> {
    ensure_data(lab)?;
    let (log, debug) = run_with_debug(lab, "sd-class-plugin", "sd")?;
    if lab.runner.is_file() {
        expect_runner_line(&log, "python3-sd")?;
    }
    expect_in_debug(
        &debug,
        &[
            "BareosSdPluginBaseclass",
            "bsdEventJobStart event triggered",
            "bsdEventJobEnd event triggered",
        ],
        "bareos-sd-class-plugin",
    )
}

/// The Python the runner embeds (`sidecar-runner python`).
fn runner_python(lab: &Lab, code: &str) -> Result<std::process::Output> {
    std::process::Command::new(&lab.runner)
        .args(["python", "-c", code])
        .env_clear()
        .env("PATH", crate::daemons::SERVICE_PATH)
        .output()
        .with_context(|| format!("{} python -c", lab.runner.display()))
}

/// `requests` importable by the runner's Python, installed with its pip
/// if it is not.
fn ensure_requests(lab: &Lab) -> Result<String> {
    let probe = runner_python(lab, "import requests; print(requests.__version__)")?;
    if probe.status.success() {
        return Ok(String::from_utf8_lossy(&probe.stdout).trim().to_string());
    }
    let exe = runner_python(lab, "import sys; print(sys.executable)")?;
    let python = String::from_utf8_lossy(&exe.stdout).trim().to_string();
    eprintln!("  installing requests for the runner's Python {python}");
    let pip = std::process::Command::new(&python)
        .args(["-m", "pip", "install", "--quiet", "requests"])
        .status()
        .with_context(|| format!("{python} -m pip install requests"))?;
    if !pip.success() {
        bail!("{python} -m pip install requests failed ({pip})");
    }
    let probe = runner_python(lab, "import requests; print(requests.__version__)")?;
    if !probe.status.success() {
        bail!(
            "requests still not importable by the runner after pip install:\n{}",
            String::from_utf8_lossy(&probe.stderr)
        );
    }
    Ok(String::from_utf8_lossy(&probe.stdout).trim().to_string())
}

/// Five jobs in a row, each with the plugin's messages (in process, the
/// third one stalled: bareos/bareos#2218).
fn dir_requests_5_jobs(lab: &Lab) -> Result<()> {
    dir_requests_jobs(lab).map_err(explain)
}

fn dir_requests_jobs(lab: &Lab) -> Result<()> {
    ensure_data(lab)?;
    let version = if lab.runner.is_file() {
        ensure_requests(lab)?
    } else {
        String::new()
    };
    for n in 1..=5 {
        let id = lab.console().run_job("dir-requests", "")?;
        let rec = lab
            .console()
            .wait_job(id, Duration::from_secs(60))
            .with_context(|| format!("job {n} of 5 (jobid {id}) stalled"))?;
        let log = lab.console().joblog(id).unwrap_or_default();
        if !rec.ok() {
            bail!(
                "job {n} of 5 (jobid {id}) ended with {}:\n{}",
                rec.status,
                log_excerpt(&log)
            );
        }
        for at in ["JobStart", "JobEnd"] {
            let needle = format!("dir_requests: requests {version}");
            if !log
                .lines()
                .any(|l| l.contains(&needle) && l.contains(&format!("at {at} (jobid {id})")))
            {
                bail!(
                    "job {n} of 5 (jobid {id}): no `{needle}... at {at} (jobid {id})` message:\n{}",
                    log_excerpt(&log)
                );
            }
        }
    }
    Ok(())
}

fn expect_no_thread_state_error(log: &str, what: &str) -> Result<()> {
    if log.contains("No associated thread state found") {
        bail!(
            "{what}: `No associated thread state found` in the job log:\n{}",
            log_excerpt(log)
        );
    }
    Ok(())
}

fn probe_job(lab: &Lab, what: &str) -> Result<()> {
    let (rec, log) = run_ok(lab, "dir-probe", "").map_err(|e| e.context(what.to_string()))?;
    expect_no_thread_state_error(&log, what)?;
    expect_in_log(&log, "probe event 1", what)?;
    expect_in_log(&log, "probe event 2", what)?;
    super::expect_clean_status(&rec, &log)
}

/// bareos/bareos#2492: `Fatal error: python3-dir: No associated thread
/// state found`, with and without `Plugin Names` in the Director resource.
fn dir_no_thread_state_error(lab: &Lab) -> Result<()> {
    thread_state_variants(lab).map_err(explain)
}

fn thread_state_variants(lab: &Lab) -> Result<()> {
    ensure_data(lab)?;
    probe_job(lab, "with Plugin Names = \"python3\"")?;
    lab.restart_director(DirPlugins::DirectoryOnly)?;
    let result = probe_job(lab, "with Plugin Directory only (no Plugin Names)").and_then(|()| {
        let status = lab.console().cmd(&["status director"])?;
        if !status.contains("python3-dir.so") {
            bail!("without Plugin Names the director did not load python3-dir.so:\n{status}");
        }
        Ok(())
    });
    // Back to the configuration the other scenarios expect.
    lab.restart_director(DirPlugins::Named)?;
    result
}

/// Runs `job`, whose director plugin may fail the job already in the
/// `run` command (the director dispatches the plugin options and
/// bDirEventJobStart there: a fatal error then means `Job failed.`, the
/// job is never queued and its catalog record stays C, with the stock
/// python3-dir.so too). Returns the JobId and whether it was queued.
fn run_or_refused(lab: &Lab, job: &str) -> Result<(u32, bool)> {
    let text = lab.console().cmd(&[&format!("run job=\"{job}\" yes")])?;
    if let Some(id) = crate::console::queued_jobid(&text) {
        return Ok((id, true));
    }
    if !text.contains("Job failed") {
        bail!("job {job} neither queued nor failed:\n{text}");
    }
    let v = lab.console().api(&format!("list jobs job={job}"))?;
    let id = v
        .get("jobs")
        .and_then(|j| j.as_array())
        .into_iter()
        .flatten()
        .filter_map(|j| {
            j.get("jobid")
                .and_then(|i| i.as_str())
                .and_then(|i| i.parse::<u32>().ok())
        })
        .max()
        .with_context(|| format!("`Job failed.` but no job {job} in the catalog: {v}"))?;
    Ok((id, false))
}

/// A plugin fails at JobStart (`needle`: what the job log must name):
/// only its job fails, the daemon is the same live process, no runner is
/// left, and the next job with a plugin of that daemon (`next`) succeeds.
///
/// Bareos itself decides what a failed job looks like: the director fails
/// it in the `run` command (not queued, catalog status C); the storage
/// daemon marks its part failed but the director never learns it and
/// leaves the job running (also with the stock python3-sd.so and an
/// exception: sd-plugin-raise in a reference run). Such a job is
/// cancelled here and reported as Bareos's, not as a failure.
fn plugin_fault(lab: &Lab, daemon: &str, job: &str, needle: &str, next: &str) -> Result<()> {
    ensure_data(lab)?;
    let pid = lab.pid_of(daemon).context("daemon not running")?;
    let t = std::time::Instant::now();
    let (id, queued) = run_or_refused(lab, job)?;
    let mut log = String::new();
    while t.elapsed() < Duration::from_secs(60) {
        log = lab.console().joblog(id).unwrap_or_default();
        if log.to_lowercase().contains(&needle.to_lowercase()) {
            break;
        }
        std::thread::sleep(Duration::from_millis(300));
    }
    expect_in_log(&log, needle, &format!("{job} (jobid {id})"))?;
    let rec = lab.console().job(id)?;
    let mut left_by_bareos = false;
    let how = if !queued {
        format!(
            "`Job failed.` in the run command, catalog status {}",
            rec.status
        )
    } else {
        // Queued: it must end with an error, or (storage daemon) Bareos
        // leaves it running.
        match lab.console().wait_job(id, Duration::from_secs(12)) {
            Ok(rec) if rec.status == "E" || rec.status == "f" => {
                format!("JobStatus {}", rec.status)
            }
            Ok(rec) => bail!(
                "{job} (jobid {id}) ended with {} after its plugin failed:\n{}",
                rec.status,
                log_excerpt(&log)
            ),
            Err(_) if daemon == "bareos-sd" => {
                lab.console().cancel(id)?;
                left_by_bareos = true;
                let note = format!(
                    "jobid {id} ({job}): after the fatal error of its storage daemon plugin at bsdEventJobStart the director leaves the job running and the SD waits for the director's next command, so the SD never frees the job's plugin instance (nor its runner); cancel does not end it; bareos-sd restarted after the scenario: Bareos behaviour, not ours (the stock python3-sd.so with an exception does the same: sd-plugin-raise in a reference run)"
                );
                lab.notes.lock().unwrap().push(note);
                "left running by the director after the SD's fatal error (Bareos), cancelled".into()
            }
            Err(e) => return Err(e.context(format!("{job} after its plugin failed"))),
        }
    };
    eprintln!("  {job}: {how} after {:.1} s", t.elapsed().as_secs_f64());
    lab.check_daemons()
        .map_err(|e| e.context(format!("a daemon died during {job}")))?;
    if lab.pid_of(daemon) != Some(pid) || !crate::daemons::alive(pid) {
        bail!("{daemon} (pid {pid}) did not survive its plugin's failure");
    }
    if lab.runner.is_file() && !left_by_bareos {
        lab.wait_no_runners(Duration::from_secs(10))?;
    }
    if left_by_bareos {
        // Only the hung job's runner (the SD's child) may be left.
        std::thread::sleep(Duration::from_secs(1));
        let others: Vec<i32> = lab
            .runners()
            .into_iter()
            .filter(|p| p.ppid != pid)
            .map(|p| p.pid)
            .collect();
        if !others.is_empty() {
            bail!("sidecar-runner processes left that are not the hung SD job's: {others:?}");
        }
    }
    let (_, log) =
        run_ok(lab, next, "").map_err(|e| e.context(format!("the next job after {job}")))?;
    expect_in_log(&log, "probe event 1", &format!("{next} after {job}"))?;
    if lab.pid_of(daemon) != Some(pid) {
        bail!("{daemon} (pid {pid}) was restarted");
    }
    if left_by_bareos {
        // Free the hung job (and its runner) for the next scenarios.
        lab.restart_daemon("bareos-sd")?;
        let _ = lab.console().wait_job(id, Duration::from_secs(5));
        lab.wait_no_runners(Duration::from_secs(10))?;
    }
    Ok(())
}

const RAISED: &str = "ValueError: probe: event failed";

fn dir_plugin_raise(lab: &Lab) -> Result<()> {
    plugin_fault(lab, "bareos-dir", "dir-raise", RAISED, "dir-next")
}

fn dir_plugin_segfault(lab: &Lab) -> Result<()> {
    plugin_fault(lab, "bareos-dir", "dir-segfault", "SIGSEGV", "dir-next")
}

fn sd_plugin_raise(lab: &Lab) -> Result<()> {
    plugin_fault(lab, "bareos-sd", "sd-raise", RAISED, "sd-probe")
}

fn sd_plugin_segfault(lab: &Lab) -> Result<()> {
    plugin_fault(lab, "bareos-sd", "sd-segfault", "SIGSEGV", "sd-probe")
}
