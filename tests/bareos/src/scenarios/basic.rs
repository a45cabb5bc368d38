//! The lab works at all: a plain `File =` backup and restore without any
//! plugin, and one Python plugin backup and restore through our shim.

use anyhow::Result;

use super::{Scenario, example_plugin, restore_and_compare, run_ok, sample_with_list};
use crate::config::JobDef;
use crate::lab::Lab;
use crate::tree;

pub fn scenarios() -> Vec<Scenario> {
    vec![
        Scenario {
            name: "plain-file",
            jobs: plain_jobs,
            run: plain,
        },
        Scenario {
            name: "python-full",
            jobs: python_jobs,
            run: python,
        },
    ]
}

fn plain_jobs(lab: &Lab) -> Result<Vec<JobDef>> {
    Ok(vec![
        JobDef::new("plain-file").file(&lab.scenario_data("plain-file")),
    ])
}

fn plain(lab: &Lab) -> Result<()> {
    let (data, _) = sample_with_list(lab, "plain-file", 1)?;
    let expected = tree::snapshot(&data)?;
    let (rec, log) = run_ok(lab, "plain-file", "")?;
    super::expect_clean_status(&rec, &log)?;
    restore_and_compare(
        lab,
        "plain-file",
        "plain-file",
        None,
        &data,
        &expected,
        tree::CONTENTS_AND_MODES,
    )?;
    Ok(())
}

fn python_jobs(lab: &Lab) -> Result<Vec<JobDef>> {
    let list = lab.list_file("python-full");
    Ok(vec![JobDef::new("python-full").plugin(&example_plugin(
        lab,
        "sidecar_local_fileset",
        &format!("filename={}", list.display()),
    ))])
}

fn python(lab: &Lab) -> Result<()> {
    let (data, _) = sample_with_list(lab, "python-full", 2)?;
    let expected = tree::snapshot(&data)?;
    let (rec, log) = run_ok(lab, "python-full", "")?;
    super::expect_in_log(&log, "sidecar-runner pid", "backup through the shim")?;
    restore_and_compare(
        lab,
        "python-full",
        "python-full",
        None,
        &data,
        &expected,
        tree::CONTENTS_AND_MODES,
    )?;
    super::expect_clean_after(lab, lab.fd_pid(), std::time::Duration::from_secs(10))?;
    // Last: the restore above is checked even when the backup has warnings.
    super::expect_clean_status(&rec, &log)?;
    Ok(())
}
