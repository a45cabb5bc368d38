//! `fdhost jobs`: many backup jobs in one daemon process, sequential and
//! concurrent, as bareos-fd runs them. Soak and fault tests read the
//! resource lines: a plugin host that leaks descriptors, threads, memory or
//! child processes per job shows it here.

use std::process::ExitCode;

use crate::cli::{FileSetArgs, JobsArgs};
use crate::loader::LoadedPlugin;
use crate::report::{self, Kind};

/// What the daemon process holds right now.
#[derive(Debug)]
pub struct Resources {
    pub fds: usize,
    pub threads: usize,
    pub rss_kib: u64,
    pub children: usize,
}

impl Resources {
    /// What the process holds once threads that already finished have left
    /// the kernel's count: a joined thread can still be counted for a moment
    /// after `join` returns (the kernel wakes the joiner before it removes
    /// the thread). A thread that is still alive stays in the count.
    pub fn settled() -> Resources {
        let mut last = Resources::now();
        for _ in 0..50 {
            std::thread::sleep(std::time::Duration::from_millis(10));
            let next = Resources::now();
            if next.threads == last.threads && next.fds == last.fds {
                return next;
            }
            last = next;
        }
        last
    }

    fn now() -> Resources {
        let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
        let field = |name: &str| -> u64 {
            status
                .lines()
                .find_map(|l| l.strip_prefix(name))
                .and_then(|v| v.split_whitespace().next()?.parse().ok())
                .unwrap_or(0)
        };
        Resources {
            fds: std::fs::read_dir("/proc/self/fd").map_or(0, |d| d.count()),
            threads: field("Threads:") as usize,
            rss_kib: field("VmRSS:"),
            children: children(),
        }
    }
}

impl std::fmt::Display for Resources {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "fds={} threads={} rss_kib={} children={}",
            self.fds, self.threads, self.rss_kib, self.children
        )
    }
}

/// Processes whose parent is this one (zombies included: an unreaped
/// runner is a leak too).
fn children() -> usize {
    let me = std::process::id().to_string();
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return 0;
    };
    dir.filter_map(|e| e.ok())
        .filter(|e| {
            e.file_name()
                .to_string_lossy()
                .bytes()
                .all(|b| b.is_ascii_digit())
        })
        .filter_map(|e| std::fs::read_to_string(e.path().join("stat")).ok())
        .filter(|stat| {
            // "pid (comm) state ppid ...": comm may hold spaces, so split
            // after its closing parenthesis.
            stat.rsplit_once(") ")
                .and_then(|(_, rest)| rest.split_whitespace().nth(1))
                == Some(me.as_str())
        })
        .count()
}

pub fn run(plugins: &[LoadedPlugin], a: &JobsArgs) -> ExitCode {
    println!("fdhost: resources before: {}", Resources::settled());
    let mut jobid = a.common.jobid.unwrap_or(1);
    let mut failed = 0u32;
    for round in 0..a.repeat {
        if round == 1 {
            // After one round every lazily initialised piece exists: growth
            // from here on is what a leak looks like.
            println!(
                "fdhost: resources after first round: {}",
                Resources::settled()
            );
        }
        for spec in &a.jobs {
            let fileset = FileSetArgs::plugins_only(vec![spec.clone()]);
            let ids: Vec<u32> = (0..a.parallel).map(|k| jobid + k).collect();
            jobid += a.parallel;
            let results: Vec<_> = std::thread::scope(|s| {
                let handles: Vec<_> = ids
                    .iter()
                    .enumerate()
                    .map(|(k, &id)| {
                        let archive = a.archive_dir.join(format!("job-{k}.archive"));
                        let fileset = &fileset;
                        s.spawn(move || {
                            crate::backup(plugins, &a.common, fileset, &archive, id, 65536)
                        })
                    })
                    .collect();
                handles.into_iter().map(|h| h.join()).collect()
            });
            for (id, result) in ids.iter().zip(results) {
                match result {
                    Ok(Ok(Some(totals))) => {
                        if a.reports {
                            report::print(Kind::Backup, &totals);
                        }
                        if report::failed(&totals) {
                            failed += 1;
                        }
                        println!(
                            "fdhost: JobId {id}: Termination: {} (elapsed {:.3} s)",
                            report::termination(Kind::Backup, &totals),
                            totals.elapsed.as_secs_f64()
                        );
                    }
                    Ok(Err(_)) | Ok(Ok(None)) | Err(_) => {
                        failed += 1;
                        println!(
                            "fdhost: JobId {id}: Termination: Backup Error (fdhost could not run the job)"
                        );
                    }
                }
            }
        }
    }
    println!("fdhost: resources after: {}", Resources::settled());
    if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}
