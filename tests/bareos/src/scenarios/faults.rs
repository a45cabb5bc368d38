//! Faults in the plugin (python/tests/plugins/fault.py) and in the
//! runner: segfault, os._exit(3), an exception, a hang past the file
//! deadline, the runner SIGKILLed mid-backup. Each time: bareos-fd lives
//! on, the job fails with a log naming the cause within its time, no job
//! is left in the fd, no runner is left, and the next job succeeds.

use std::time::{Duration, Instant};

use anyhow::{Result, bail};

use super::{
    Scenario, expect_clean_after, expect_in_log, log_excerpt, run_failing, run_ok, test_plugin,
};
use crate::config::JobDef;
use crate::lab::Lab;

pub fn scenarios() -> Vec<Scenario> {
    vec![
        Scenario {
            name: "fault-segfault",
            jobs,
            run: segfault,
        },
        Scenario {
            name: "fault-exit3",
            jobs,
            run: exit3,
        },
        Scenario {
            name: "fault-raise",
            jobs,
            run: raise,
        },
        Scenario {
            name: "fault-raise-io",
            jobs,
            run: raise_io,
        },
        Scenario {
            name: "fault-deadline",
            jobs,
            run: deadline,
        },
        Scenario {
            name: "fault-runner-sigkill",
            jobs,
            run: runner_sigkill,
        },
    ]
}

/// The fault jobs are shared by the scenarios; `jobs` may be asked for
/// more than once, the lab de-duplicates by name.
fn jobs(lab: &Lab) -> Result<Vec<JobDef>> {
    let f = |name: &str, opts: &str| JobDef::new(name).plugin(&test_plugin(lab, "fault", opts));
    Ok(vec![
        f("fault-ok", "fault=print:at=start_backup_file"),
        f("fault-segfault", "fault=segfault:at=start_backup_file"),
        f("fault-exit3", "fault=exit3:at=plugin_io"),
        f("fault-raise", "fault=raise:at=start_backup_file"),
        f("fault-raise-io", "fault=raise:at=plugin_io"),
        f(
            "fault-hang-file",
            "fault=sleep:at=start_backup_file:seconds=3600",
        ),
        f("fault-busy-io", "fault=sleep:at=plugin_io:seconds=3600"),
    ])
}

const FAILED: &[&str] = &["E", "f"];

/// The common checks after the faulty job: the fd is the same live
/// process, nothing is left over, and the next job through the shim works.
fn afterwards(lab: &Lab, fd_pid: i32) -> Result<()> {
    expect_clean_after(lab, fd_pid, Duration::from_secs(10))?;
    run_ok(lab, "fault-ok", "").map_err(|e| e.context("the next job after the fault"))?;
    Ok(())
}

fn simple_fault(lab: &Lab, job: &str, needles: &[&str], limit: Duration) -> Result<()> {
    let fd_pid = lab.fd_pid();
    let (rec, log, took) = run_failing(lab, job, FAILED, Duration::from_secs(120))?;
    if !needles
        .iter()
        .any(|n| log.to_lowercase().contains(&n.to_lowercase()))
    {
        bail!(
            "jobid {} ({}) log names none of {needles:?}:\n{}",
            rec.id,
            rec.status,
            log_excerpt(&log)
        );
    }
    if took > limit {
        bail!(
            "jobid {} took {took:.1?} to fail, more than {limit:?}",
            rec.id
        );
    }
    if let Some(crash) = lab.sd_crash_after(&log)? {
        eprintln!("  note: {crash}");
    }
    eprintln!(
        "  {job}: JobStatus {} after {:.1} s",
        rec.status,
        took.as_secs_f64()
    );
    afterwards(lab, fd_pid)
}

fn segfault(lab: &Lab) -> Result<()> {
    simple_fault(lab, "fault-segfault", &["SIGSEGV"], Duration::from_secs(30))
}

fn exit3(lab: &Lab) -> Result<()> {
    simple_fault(
        lab,
        "fault-exit3",
        &["exited with code 3", "exit code 3", "code 3"],
        Duration::from_secs(30),
    )
}

fn raise(lab: &Lab) -> Result<()> {
    simple_fault(
        lab,
        "fault-raise",
        &["ValueError: fault plugin raised"],
        Duration::from_secs(30),
    )
}

/// An exception in plugin_io (IO_OPEN of the first file): the same point
/// as fault-exit3 (the attributes of the file are at the storage daemon,
/// the data never comes), but the runner lives on; it also runs with the
/// stock python3-fd.so (`--sidecar-plugins` the installation's plugin dir).
fn raise_io(lab: &Lab) -> Result<()> {
    simple_fault(
        lab,
        "fault-raise-io",
        &["ValueError: fault plugin raised in plugin_io"],
        Duration::from_secs(30),
    )
}

/// `[deadlines] file = 5` in sidecar.toml; start_backup_file sleeps for an hour.
fn deadline(lab: &Lab) -> Result<()> {
    let _toml = lab.sidecar_toml("[deadlines]\nfile = 5\n")?;
    let fd_pid = lab.fd_pid();
    let (rec, log, took) = run_failing(lab, "fault-hang-file", FAILED, Duration::from_secs(90))?;
    expect_in_log(&log, "deadline", "hang past the file deadline")?;
    if took < Duration::from_secs(5) || took > Duration::from_secs(30) {
        bail!(
            "jobid {} failed after {took:.1?}; the file deadline is 5 s",
            rec.id
        );
    }
    eprintln!(
        "  fault-hang-file: JobStatus {} after {:.1} s (deadline 5 s)",
        rec.status,
        took.as_secs_f64()
    );
    drop(_toml);
    afterwards(lab, fd_pid)
}

/// kill -9 of the runner (the fd's child) while plugin_io sleeps.
fn runner_sigkill(lab: &Lab) -> Result<()> {
    let fd_pid = lab.fd_pid();
    let id = lab.console().run_job("fault-busy-io", "")?;
    let t = Instant::now();
    let runner = loop {
        if let Some(p) = lab.runners().into_iter().find(|p| p.ppid == fd_pid) {
            break p;
        }
        if t.elapsed() > Duration::from_secs(60) {
            let log = lab.console().joblog(id).unwrap_or_default();
            bail!(
                "no sidecar-runner child of bareos-fd appeared for jobid {id}:\n{}",
                log_excerpt(&log)
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    // Let it reach plugin_io's sleep.
    std::thread::sleep(Duration::from_secs(2));
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(runner.pid),
        nix::sys::signal::Signal::SIGKILL,
    )?;
    let killed = Instant::now();
    let rec = lab.console().wait_job(id, Duration::from_secs(60))?;
    let took = killed.elapsed();
    let log = lab.console().joblog(id).unwrap_or_default();
    if !FAILED.contains(&rec.status.as_str()) {
        bail!(
            "jobid {id} ended with {} after the runner was killed:\n{}",
            rec.status,
            log_excerpt(&log)
        );
    }
    expect_in_log(&log, "SIGKILL", "runner killed")?;
    if let Some(crash) = lab.sd_crash_after(&log)? {
        eprintln!("  note: {crash}");
    }
    if took > Duration::from_secs(10) {
        bail!("jobid {id} took {took:.1?} after the kill to fail");
    }
    eprintln!(
        "  fault-busy-io: runner pid {} killed, JobStatus {} {:.1} s later",
        runner.pid,
        rec.status,
        took.as_secs_f64()
    );
    afterwards(lab, fd_pid)
}
