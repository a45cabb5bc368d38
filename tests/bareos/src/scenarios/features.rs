//! Plugin features through the shim in a real daemon: direct I/O (the
//! daemon reads the plugin's descriptor) and I/O in Python, restore
//! objects, an option plugin, `estimate listing`, two `Plugin =` lines in
//! one FileSet and a `python:` (not python3:) plugin string.

use anyhow::{Context, Result, bail};

use super::{
    Scenario, example_plugin, expect_in_log, restore, restore_and_compare, run_ok,
    sample_with_list, test_plugin,
};
use crate::config::{JobDef, quote};
use crate::lab::Lab;
use crate::tree;

pub fn scenarios() -> Vec<Scenario> {
    vec![
        Scenario {
            name: "io-in-core",
            jobs: io_core_jobs,
            run: io_core,
        },
        Scenario {
            name: "io-in-python",
            jobs: io_plugin_jobs,
            run: io_plugin,
        },
        Scenario {
            name: "restore-object",
            jobs: restore_object_jobs,
            run: restore_object,
        },
        Scenario {
            name: "option-plugin",
            jobs: option_jobs,
            run: option_plugin,
        },
        Scenario {
            name: "estimate-listing",
            jobs: estimate_jobs,
            run: estimate,
        },
        Scenario {
            name: "two-plugin-lines",
            jobs: two_lines_jobs,
            run: two_lines,
        },
        Scenario {
            name: "python-prefix",
            jobs: python_prefix_jobs,
            run: python_prefix,
        },
    ]
}

fn local_fileset(lab: &Lab, name: &str, extra: &str) -> String {
    let mut opts = format!("filename={}", lab.list_file(name).display());
    if !extra.is_empty() {
        opts.push(':');
        opts.push_str(extra);
    }
    example_plugin(lab, "sidecar_local_fileset", &opts)
}

fn backup_restore_compare(lab: &Lab, name: &str, seed: u64) -> Result<String> {
    let (data, _) = sample_with_list(lab, name, seed)?;
    let expected = tree::snapshot(&data)?;
    let (rec, log) = run_ok(lab, name, "")?;
    if rec.bytes < 3 << 20 {
        bail!("backup of {name} has only {} bytes", rec.bytes);
    }
    restore_and_compare(
        lab,
        name,
        name,
        None,
        &data,
        &expected,
        tree::CONTENTS_AND_MODES,
    )?;
    Ok(log)
}

fn io_core_jobs(lab: &Lab) -> Result<Vec<JobDef>> {
    Ok(vec![JobDef::new("io-in-core").plugin(&local_fileset(
        lab,
        "io-in-core",
        "io=core",
    ))])
}

/// `io=core`: the plugin opens the file and sets iostat_do_in_core, the
/// daemon reads and writes the descriptor itself.
fn io_core(lab: &Lab) -> Result<()> {
    backup_restore_compare(lab, "io-in-core", 31).map(|_| ())
}

fn io_plugin_jobs(lab: &Lab) -> Result<Vec<JobDef>> {
    Ok(vec![JobDef::new("io-in-python").plugin(&local_fileset(
        lab,
        "io-in-python",
        "io=plugin",
    ))])
}

/// `io=plugin`: every byte goes through plugin_io IO_READ/IO_WRITE in Python.
fn io_plugin(lab: &Lab) -> Result<()> {
    backup_restore_compare(lab, "io-in-python", 32).map(|_| ())
}

fn restore_object_jobs(lab: &Lab) -> Result<Vec<JobDef>> {
    let n = "restore-object";
    Ok(vec![JobDef::new(n).plugin(&format!(
        "python3:module_path={}:module_name=bareos_style_local_files:filename={}",
        lab.python_dir.join("examples/bareos_style").display(),
        lab.list_file(n).display()
    ))])
}

/// bareos_style_local_files sends an FT_RESTORE_FIRST object with every
/// backup; the restore hands it back to restore_object_data, which logs it.
fn restore_object(lab: &Lab) -> Result<()> {
    let n = "restore-object";
    let (data, _) = sample_with_list(lab, n, 41)?;
    let expected = tree::snapshot(&data)?;
    let (full, _) = run_ok(lab, n, "level=Full")?;
    let log = restore_and_compare(lab, n, n, None, &data, &expected, tree::CONTENTS_AND_MODES)?;
    expect_in_log(&log, "restore object in job", "restore")?;
    expect_in_log(&log, "bareos_style_local_files.json", "restore")?;
    expect_in_log(
        &log,
        &format!("\"jobid\": {}", full.id),
        "restore (the object's jobid)",
    )?;
    Ok(())
}

fn option_jobs(lab: &Lab) -> Result<Vec<JobDef>> {
    let n = "option-plugin";
    let plugin = test_plugin(lab, "option_plugin", "");
    Ok(vec![
        JobDef::new(n)
            .no_default_options()
            .include_line(&format!(
                "Options {{ Signature = XXH128; Plugin = {} }}",
                quote(&plugin)
            ))
            .file(&lab.scenario_data(n)),
    ])
}

/// FileSet `Options { Plugin = ... }` with a `File =` line: the plugin is
/// consulted for every file (skip / core / its own plugin_io); checked on
/// the job log and the catalog's file list. Not restored: a restore of an
/// option plugin's files fails in Bareos itself ("Unbalanced call to
/// createFile", with the stock python3-fd.so as well).
fn option_plugin(lab: &Lab) -> Result<()> {
    let n = "option-plugin";
    let (data, _) = sample_with_list(lab, n, 51)?;
    tree::write_file(&data.join("left-out.skip"), b"must not be saved\n", 0o644)?;
    tree::write_file(
        &data.join("sub/by-core.core"),
        b"saved by the core\n",
        0o644,
    )?;
    let (rec, log) = run_ok(lab, n, "")?;
    expect_in_log(&log, "left-out.skip type=", "backup")?;
    expect_in_log(&log, "by-core.core type=", "backup")?;
    expect_in_log(&log, "-> plugin", "backup")?;
    expect_in_log(&log, "bytes through plugin_io for", "backup")?;
    let files = lab
        .console()
        .cmd(&[&format!("list files jobid={}", rec.id)])?;
    for want in ["by-core.core", "hello.txt", "big.bin"] {
        if !files.contains(want) {
            bail!("list files jobid={} does not list {want}:\n{files}", rec.id);
        }
    }
    if files.contains("left-out.skip") {
        bail!(
            "list files jobid={} lists left-out.skip (the plugin answered bRC_Skip)",
            rec.id
        );
    }
    Ok(())
}

fn estimate_jobs(lab: &Lab) -> Result<Vec<JobDef>> {
    Ok(vec![
        JobDef::new("estimate-listing").plugin(&local_fileset(lab, "estimate-listing", "")),
    ])
}

/// `estimate listing` runs the plugin in estimate mode: its files are listed.
fn estimate(lab: &Lab) -> Result<()> {
    let n = "estimate-listing";
    let (data, _) = sample_with_list(lab, n, 61)?;
    let out = lab
        .console()
        .cmd(&[&format!("estimate listing job={n} level=Full")])?;
    let want = [
        "hello.txt",
        "sub/deeper/random.bin",
        "big.bin",
        "link-to-hello",
    ];
    let missing: Vec<&str> = want
        .iter()
        .copied()
        .filter(|w| !out.contains(&data.join(w).display().to_string()))
        .collect();
    if !missing.is_empty() {
        bail!(
            "estimate listing does not list {missing:?}:\n{}",
            out.lines().rev().take(20).collect::<Vec<_>>().join("\n")
        );
    }
    if !out.to_lowercase().contains("files=") {
        bail!("estimate listing printed no totals:\n{out}");
    }
    Ok(())
}

fn two_lines_jobs(lab: &Lab) -> Result<Vec<JobDef>> {
    Ok(vec![
        JobDef::new("two-plugin-lines")
            .plugin(&test_plugin(
                lab,
                "probe",
                "file=/probe/first.txt:text=alpha",
            ))
            .plugin(&test_plugin(
                lab,
                "probe",
                "file=/probe/second.txt:text=beta",
            )),
    ])
}

/// Two `Plugin =` lines in one FileSet: both are backed up and restored.
fn two_lines(lab: &Lab) -> Result<()> {
    let n = "two-plugin-lines";
    let (rec, log) = run_ok(lab, n, "")?;
    expect_in_log(&log, "probe: parse", "backup")?;
    if rec.files < 2 {
        bail!(
            "backup saved {} files, expected 2:\n{}",
            rec.files,
            super::log_excerpt(&log)
        );
    }
    let (where_, _) = restore(lab, n, n, None)?;
    for (f, text) in [("probe/first.txt", "alpha"), ("probe/second.txt", "beta")] {
        let got =
            std::fs::read_to_string(where_.join(f)).with_context(|| format!("restored {f}"))?;
        if got != text {
            bail!("restored {f} contains {got:?}, expected {text:?}");
        }
    }
    Ok(())
}

fn python_prefix_jobs(lab: &Lab) -> Result<Vec<JobDef>> {
    let s = local_fileset(lab, "python-prefix", "");
    let s = s.replacen("python3:", "python:", 1);
    Ok(vec![JobDef::new("python-prefix").plugin(&s)])
}

/// A `python:` plugin string (as in FileSets written for python-fd) reaches our plugin.
fn python_prefix(lab: &Lab) -> Result<()> {
    backup_restore_compare(lab, "python-prefix", 71).map(|_| ())
}
