//! bconsole `cancel` while the plugin hangs: with cancel_sleep.py (which
//! registers a bEventCancelCommand handler), with a plugin without a
//! handler, and 20 times with a handler that calls GetValue and
//! JobMessage (its message must be in the job log). Each time the job
//! must end as canceled within 10 s of the cancel, the fd must live on
//! without a leftover job or runner, and the next job must succeed.

use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

use super::{Scenario, expect_clean_after, log_excerpt, run_ok, test_plugin};
use crate::config::JobDef;
use crate::lab::Lab;

pub fn scenarios() -> Vec<Scenario> {
    vec![
        Scenario {
            name: "cancel-sleep-with-handler",
            jobs,
            run: with_cancel_sleep,
        },
        Scenario {
            name: "cancel-without-handler",
            jobs,
            run: without_handler,
        },
        Scenario {
            name: "cancel-handler-core-calls-x20",
            jobs,
            run: handler_x20,
        },
    ]
}

fn jobs(lab: &Lab) -> Result<Vec<JobDef>> {
    Ok(vec![
        JobDef::new("cancel-sleep").plugin(&test_plugin(lab, "cancel_sleep", "")),
        JobDef::new("cancel-no-handler").plugin(&test_plugin(
            lab,
            "cancel_handler",
            "register=0:at=plugin_io",
        )),
        JobDef::new("cancel-handler").plugin(&test_plugin(
            lab,
            "cancel_handler",
            "at=start_backup_file",
        )),
        JobDef::new("cancel-handler-io").plugin(&test_plugin(
            lab,
            "cancel_handler",
            "at=plugin_io",
        )),
        JobDef::new("cancel-ok").plugin(&test_plugin(
            lab,
            "fault",
            "fault=print:at=start_backup_file",
        )),
    ])
}

const FREED_WITHIN: Duration = Duration::from_secs(10);

struct Cancelled {
    id: u32,
    log: String,
    /// From the cancel command to the catalog's final status.
    took: Duration,
    /// From the cancel command until no runner was left.
    runner_gone: Duration,
}

/// Runs `job`, waits until its runner is up and the plugin is inside its
/// sleep, cancels it, and checks everything that must hold afterwards.
fn run_and_cancel(lab: &Lab, job: &str) -> Result<Cancelled> {
    let fd_pid = lab.fd_pid();
    let id = lab.console().run_job(job, "")?;
    let t = Instant::now();
    while !lab.runners().iter().any(|p| p.ppid == fd_pid) {
        if t.elapsed() > Duration::from_secs(60) {
            let log = lab.console().joblog(id).unwrap_or_default();
            bail!(
                "no runner for jobid {id} after 60 s:\n{}",
                log_excerpt(&log)
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    std::thread::sleep(Duration::from_millis(1500));
    let cancelled = Instant::now();
    lab.console().cancel(id)?;
    let rec = lab
        .console()
        .wait_job(id, Duration::from_secs(90))
        .with_context(|| format!("jobid {id} after cancel"));
    let took = cancelled.elapsed();
    let runner_gone = lab
        .wait_no_runners(Duration::from_secs(30))
        .map(|_| cancelled.elapsed());
    let log = lab.console().joblog(id).unwrap_or_default();
    let rec = rec.map_err(|e| e.context(log_excerpt(&log)))?;
    if rec.status != "A" {
        bail!(
            "jobid {id} ended with JobStatus {} after the cancel, expected A:\n{}",
            rec.status,
            log_excerpt(&log)
        );
    }
    if !log.to_lowercase().contains("cancel") {
        bail!(
            "jobid {id}: the job log does not mention the cancel:\n{}",
            log_excerpt(&log)
        );
    }
    let runner_gone = runner_gone?;
    if took > FREED_WITHIN || runner_gone > FREED_WITHIN {
        bail!(
            "jobid {id}: the job ended {:.1} s and the runner was gone {:.1} s after the cancel (limit {FREED_WITHIN:?}):\n{}",
            took.as_secs_f64(),
            runner_gone.as_secs_f64(),
            log_excerpt(&log)
        );
    }
    expect_clean_after(lab, fd_pid, Duration::from_secs(5))?;
    Ok(Cancelled {
        id,
        log,
        took,
        runner_gone,
    })
}

fn next_job_ok(lab: &Lab) -> Result<()> {
    run_ok(lab, "cancel-ok", "")
        .map_err(|e| e.context("the next job after the cancel"))
        .map(|_| ())
}

fn with_cancel_sleep(lab: &Lab) -> Result<()> {
    let c = run_and_cancel(lab, "cancel-sleep")?;
    if !c.log.contains("cancel_sleep: bEventCancelCommand") {
        bail!(
            "jobid {}: the cancel handler's message is not in the job log:\n{}",
            c.id,
            log_excerpt(&c.log)
        );
    }
    eprintln!(
        "  cancel-sleep: ended {:.1} s, runner gone {:.1} s after the cancel",
        c.took.as_secs_f64(),
        c.runner_gone.as_secs_f64()
    );
    next_job_ok(lab)
}

fn without_handler(lab: &Lab) -> Result<()> {
    let c = run_and_cancel(lab, "cancel-no-handler")?;
    eprintln!(
        "  cancel-no-handler: ended {:.1} s, runner gone {:.1} s after the cancel",
        c.took.as_secs_f64(),
        c.runner_gone.as_secs_f64()
    );
    next_job_ok(lab)
}

fn handler_x20(lab: &Lab) -> Result<()> {
    let mut worst = Duration::ZERO;
    for i in 1..=20 {
        let c =
            run_and_cancel(lab, "cancel-handler").with_context(|| format!("iteration {i}/20"))?;
        let want = format!("cancel handler: jobid={}", c.id);
        if !c.log.contains(&want) {
            bail!(
                "iteration {i}/20, jobid {}: {want:?} is not in the job log:\n{}",
                c.id,
                log_excerpt(&c.log)
            );
        }
        worst = worst.max(c.took);
    }
    eprintln!(
        "  cancel-handler x20: slowest end {:.1} s after the cancel",
        worst.as_secs_f64()
    );
    next_job_ok(lab)
}
