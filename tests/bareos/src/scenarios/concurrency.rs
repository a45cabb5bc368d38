//! Two jobs at the same time through the shim (Maximum Concurrent Jobs on
//! director, client, storage and job): two runners at once, both restore
//! identical.
//!
//! The jobs back up through slow_local_fileset (sidecar_local_fileset with
//! a pause before each file), so each one is inside the file daemon for
//! about 10 s. Bareos's director starts the second of two jobs queued
//! together about 4 s after the first (dird/jobq.cc: a worker that has
//! moved a job to the ready queue sleeps 2 s before it runs it, while
//! another worker is free to take it; then the same for the wait queue),
//! so jobs of a second or two never overlap, whatever the Maximum
//! Concurrent Jobs settings (seen with --debug: `setdebug level=2300 dir`).

use std::time::{Duration, Instant};

use anyhow::{Result, bail};

use super::{Scenario, restore_and_compare, sample_with_list, test_plugin, wait_ok};
use crate::config::JobDef;
use crate::lab::Lab;
use crate::tree;

pub fn scenarios() -> Vec<Scenario> {
    vec![Scenario {
        name: "two-concurrent-jobs",
        jobs,
        run,
    }]
}

const NAMES: [&str; 2] = ["concurrent-a", "concurrent-b"];
/// The pause before each file: the sample has 12 files, so a job
/// is in the fd for about 10 s; the second one starts about 4 s after the
/// first (two 2 s polls of the job queue).
const DELAY_S: &str = "0.75";

fn jobs(lab: &Lab) -> Result<Vec<JobDef>> {
    Ok(NAMES
        .iter()
        .map(|n| {
            JobDef::new(n).plugin(&test_plugin(
                lab,
                "slow_local_fileset",
                &format!(
                    "examples={}:delay={DELAY_S}:filename={}:io=plugin",
                    lab.examples().display(),
                    lab.list_file(n).display()
                ),
            ))
        })
        .collect())
}

fn run(lab: &Lab) -> Result<()> {
    let mut data = Vec::new();
    for (i, n) in NAMES.iter().enumerate() {
        let (d, _) = sample_with_list(lab, n, 80 + i as u64)?;
        data.push(d);
    }
    let expected: Vec<_> = data
        .iter()
        .map(|d| tree::snapshot(d))
        .collect::<Result<_>>()?;
    // Both queued in one bconsole session (a session costs ~0.5 s).
    let cmds: Vec<String> = NAMES.iter().map(|n| format!("run job={n} yes")).collect();
    let out = lab
        .console()
        .cmd(&cmds.iter().map(String::as_str).collect::<Vec<_>>())?;
    let ids = crate::console::queued_jobids(&out);
    if ids.len() != 2 {
        bail!("expected two queued jobs:\n{out}");
    }
    // Watch the runners (in /proc, every 20 ms) while the jobs run: both
    // must run at once.
    let stop = std::sync::atomic::AtomicBool::new(false);
    let (most, together) = std::thread::scope(|s| {
        let watcher = s.spawn(|| {
            let mut most = 0;
            let mut together = Duration::ZERO;
            let t = Instant::now();
            let mut last = Instant::now();
            while !stop.load(std::sync::atomic::Ordering::Relaxed)
                && t.elapsed() < Duration::from_secs(150)
            {
                let n = lab.runners().len();
                if n >= 2 {
                    together += last.elapsed();
                }
                last = Instant::now();
                most = most.max(n);
                std::thread::sleep(Duration::from_millis(20));
            }
            (most, together)
        });
        for id in &ids {
            let _ = lab.console().wait_job(*id, Duration::from_secs(120));
        }
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        watcher.join().unwrap_or((0, Duration::ZERO))
    });
    for (id, n) in ids.iter().zip(NAMES) {
        wait_ok(lab, *id, n)?;
    }
    if most < 2 {
        bail!(
            "never saw two sidecar-runner processes at once (at most {most}): the jobs did not overlap"
        );
    }
    eprintln!("  two runners at once for {:.1} s", together.as_secs_f64());
    for ((n, d), e) in NAMES.iter().zip(&data).zip(&expected) {
        restore_and_compare(lab, n, n, None, d, e, tree::CONTENTS_AND_MODES)?;
    }
    Ok(())
}
