//! Full, Incremental and Differential backups, with our example
//! `sidecar_local_fileset` and with Bareos's own shipped
//! `bareos-fd-local-fileset` (from the installation's plugin directory),
//! changing the data between the jobs and restoring the latest state of
//! the whole chain; and accurate mode, where a deleted file must not come
//! back.

use std::path::Path;

use anyhow::{Result, bail};

use super::{Scenario, example_plugin, restore_and_compare, run_ok, sample_with_list};
use crate::config::JobDef;
use crate::lab::Lab;
use crate::tree::{self, Compare, Snapshot};

pub fn scenarios() -> Vec<Scenario> {
    vec![
        Scenario {
            name: "levels-sidecar-local-fileset",
            jobs: sidecar_jobs,
            run: sidecar_chain,
        },
        Scenario {
            name: "levels-bareos-local-fileset",
            jobs: bareos_jobs,
            run: bareos_chain,
        },
        Scenario {
            name: "accurate-deleted-file",
            jobs: accurate_jobs,
            run: accurate,
        },
    ]
}

fn list_opt(lab: &Lab, name: &str) -> String {
    format!("filename={}", lab.list_file(name).display())
}

fn sidecar_jobs(lab: &Lab) -> Result<Vec<JobDef>> {
    let n = "levels-sidecar-local-fileset";
    Ok(vec![JobDef::new(n).plugin(&example_plugin(
        lab,
        "sidecar_local_fileset",
        &list_opt(lab, n),
    ))])
}

fn bareos_plugin_string(lab: &Lab, name: &str) -> String {
    format!(
        "python3:module_path={}:module_name=bareos-fd-local-fileset:{}",
        lab.inst.plugin_dir.display(),
        list_opt(lab, name)
    )
}

fn bareos_jobs(lab: &Lab) -> Result<Vec<JobDef>> {
    let n = "levels-bareos-local-fileset";
    Ok(vec![JobDef::new(n).plugin(&bareos_plugin_string(lab, n))])
}

fn accurate_jobs(lab: &Lab) -> Result<Vec<JobDef>> {
    let n = "accurate-deleted-file";
    Ok(vec![
        JobDef::new(n)
            .plugin(&example_plugin(
                lab,
                "sidecar_local_fileset",
                &list_opt(lab, n),
            ))
            .job("Accurate = yes"),
    ])
}

/// Waits until the clock's second has changed, so that a change made now
/// has an mtime after the previous job's start (Bareos compares seconds).
fn next_second() {
    std::thread::sleep(std::time::Duration::from_millis(1100));
}

fn modify(path: &Path, data: &[u8]) -> Result<()> {
    let mode = std::fs::metadata(path)
        .map(|m| std::os::unix::fs::PermissionsExt::mode(&m.permissions()) & 0o7777);
    tree::write_file(path, data, mode.unwrap_or(0o644))
}

/// Full; modify+add+delete; Incremental; modify+add; Differential;
/// modify; Incremental. Restores the latest state. Without accurate mode
/// the deleted file comes back (nothing records the deletion).
///
/// `files_only`: the list file names every regular file instead of the
/// directory, and only regular files are compared. Bareos's own
/// BareosFdPluginLocalFilesBaseclass fails a restore whose first entry is
/// a directory or symlink (end_restore_file: KeyError 'undef', with the
/// stock python3-fd as well), so its chain is tested on files.
fn chain(lab: &Lab, name: &str, how: Compare, files_only: bool) -> Result<()> {
    let (data, list) = sample_with_list(lab, name, 11)?;
    let relist = || -> Result<()> {
        if files_only {
            let files: Vec<String> = tree::snapshot(&data)?
                .into_iter()
                .filter(|(_, e)| matches!(e.kind, tree::Kind::File(_)))
                .map(|(p, _)| format!("{}\n", data.join(p).display()))
                .collect();
            std::fs::write(&list, files.concat())?;
        }
        Ok(())
    };
    relist()?;
    let mut levels = Vec::new();
    let (full, _) = run_ok(lab, name, "level=Full")?;
    levels.push(full);
    let deleted_rel = Path::new("sub/numbers.txt");
    let deleted_entry = tree::snapshot(&data)?.get(deleted_rel).cloned();

    next_second();
    modify(&data.join("hello.txt"), b"hello again, incremental\n")?;
    tree::write_file(
        &data.join("sub/new-in-incr.txt"),
        b"added before the incremental\n",
        0o600,
    )?;
    std::fs::remove_file(data.join(deleted_rel))?;
    relist()?;
    let (inc, _) = run_ok(lab, name, "level=Incremental")?;
    if inc.files == 0 {
        bail!("the Incremental (jobid {}) backed up nothing", inc.id);
    }
    levels.push(inc);

    next_second();
    modify(&data.join("run.sh"), b"#!/bin/sh\necho differential\n")?;
    tree::write_file(
        &data.join("diff-added/x.bin"),
        &tree::noise(99, 70_000),
        0o644,
    )?;
    relist()?;
    let (diff, _) = run_ok(lab, name, "level=Differential")?;
    levels.push(diff);

    next_second();
    modify(
        &data.join("sub/deeper/random.bin"),
        &tree::noise(5, 123_457),
    )?;
    let (inc2, _) = run_ok(lab, name, "level=Incremental")?;
    levels.push(inc2);

    let mut expected: Snapshot = tree::snapshot(&data)?;
    if let Some(e) = deleted_entry {
        expected.insert(deleted_rel.to_path_buf(), e);
    }
    if files_only {
        expected.retain(|_, e| matches!(e.kind, tree::Kind::File(_)));
        let (where_, _) = super::restore(lab, name, name, None)?;
        let mut got = tree::snapshot(&tree::restored_root(&where_, &data))?;
        got.retain(|_, e| matches!(e.kind, tree::Kind::File(_)));
        tree::compare(&expected, &got, how)?;
    } else {
        restore_and_compare(lab, name, name, None, &data, &expected, how)?;
    }
    let summary: Vec<String> = levels
        .iter()
        .map(|j| format!("{}:{} files", j.level, j.files))
        .collect();
    eprintln!("  {name}: {}", summary.join(", "));
    Ok(())
}

fn sidecar_chain(lab: &Lab) -> Result<()> {
    chain(
        lab,
        "levels-sidecar-local-fileset",
        tree::CONTENTS_AND_MODES,
        false,
    )
}

fn bareos_chain(lab: &Lab) -> Result<()> {
    chain(
        lab,
        "levels-bareos-local-fileset",
        tree::CONTENTS_AND_MODES,
        true,
    )
}

fn accurate(lab: &Lab) -> Result<()> {
    let name = "accurate-deleted-file";
    let (data, _) = sample_with_list(lab, name, 21)?;
    run_ok(lab, name, "level=Full")?;
    next_second();
    std::fs::remove_file(data.join("sub/numbers.txt"))?;
    std::fs::remove_file(data.join("empty"))?;
    modify(
        &data.join("hello.txt"),
        b"changed for the accurate incremental\n",
    )?;
    run_ok(lab, name, "level=Incremental")?;
    let expected = tree::snapshot(&data)?;
    restore_and_compare(
        lab,
        name,
        name,
        None,
        &data,
        &expected,
        tree::CONTENTS_AND_MODES,
    )?;
    Ok(())
}
