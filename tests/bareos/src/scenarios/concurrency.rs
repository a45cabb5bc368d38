//! Two jobs at the same time through the shim (Maximum Concurrent Jobs on
//! director, client, storage and job): two runners at once, both restore
//! identical.

use std::time::{Duration, Instant};

use anyhow::{Result, bail};

use super::{Scenario, example_plugin, restore_and_compare, sample_with_list, wait_ok};
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

fn jobs(lab: &Lab) -> Result<Vec<JobDef>> {
    Ok(NAMES
        .iter()
        .map(|n| {
            JobDef::new(n).plugin(&example_plugin(
                lab,
                "sidecar_local_fileset",
                &format!("filename={}:io=plugin", lab.list_file(n).display()),
            ))
        })
        .collect())
}

fn run(lab: &Lab) -> Result<()> {
    let mut data = Vec::new();
    for (i, n) in NAMES.iter().enumerate() {
        let (d, _) = sample_with_list(lab, n, 80 + i as u64)?;
        // Enough data through Python that the two jobs overlap.
        for k in 0..12 {
            tree::write_file(
                &d.join(format!("bulk/part-{k}.bin")),
                &tree::noise(1000 + k + 10 * i as u64, 8 << 20),
                0o644,
            )?;
        }
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
    let most = std::thread::scope(|s| {
        let watcher = s.spawn(|| {
            let mut most = 0;
            let t = Instant::now();
            while !stop.load(std::sync::atomic::Ordering::Relaxed)
                && t.elapsed() < Duration::from_secs(150)
            {
                most = most.max(lab.runners().len());
                std::thread::sleep(Duration::from_millis(20));
            }
            most
        });
        for id in &ids {
            let _ = lab.console().wait_job(*id, Duration::from_secs(120));
        }
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        watcher.join().unwrap_or(0)
    });
    for (id, n) in ids.iter().zip(NAMES) {
        wait_ok(lab, *id, n)?;
    }
    if most < 2 {
        bail!(
            "never saw two sidecar-runner processes at once (at most {most}): the jobs did not overlap"
        );
    }
    for ((n, d), e) in NAMES.iter().zip(&data).zip(&expected) {
        restore_and_compare(lab, n, n, None, d, e, tree::CONTENTS_AND_MODES)?;
    }
    Ok(())
}
