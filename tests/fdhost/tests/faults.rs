//! Crash isolation: whatever the plugin does, the daemon (fdhost) survives,
//! the job fails with a message naming the cause within its deadline, the
//! runner is reaped, nothing leaks, and the next job in the same daemon
//! works. Each test runs `fdhost jobs` with the faulty job followed by a
//! good one.

mod sidecar_env;

use std::path::Path;
use std::time::{Duration, Instant};

use sidecar_env::*;

/// Deadlines of the test plugin directory (seconds).
const DEADLINE: u64 = 3;

struct Outcome {
    name: String,
    run: Run,
    elapsed: Duration,
}

fn fault_string(kind: &str, at: &str, extra: &str) -> String {
    let mut s = plugin_string(&test_plugins(), "fault", &format!("fault={kind}:at={at}"));
    if !extra.is_empty() {
        s.push(':');
        s.push_str(extra);
    }
    s
}

fn with_deadlines(tmp: &Path) -> std::path::PathBuf {
    let plugins = plugin_dir(tmp);
    std::fs::write(
        plugins.join("sidecar.toml"),
        format!("[deadlines]\nevent = {DEADLINE}\nfile = {DEADLINE}\nio = {DEADLINE}\nshutdown = {DEADLINE}\n"),
    )
    .unwrap();
    plugins
}

/// Runs the faulty backup job, then a good one, in one fdhost.
fn backup_fault(kind: &str, at: &str, extra: &str) -> Outcome {
    let tmp = tempfile::tempdir().unwrap();
    let plugins = with_deadlines(tmp.path());
    let good = fault_string("none", "nowhere", "");
    let start = Instant::now();
    let run = fdhost(&[
        "jobs",
        "--plugin-dir",
        plugins.to_str().unwrap(),
        "--archive-dir",
        tmp.path().to_str().unwrap(),
        "--job",
        &fault_string(kind, at, extra),
        "--job",
        &good,
    ]);
    Outcome {
        name: format!("{kind} in {at}"),
        run,
        elapsed: start.elapsed(),
    }
}

/// The resource line `fdhost: resources <when>: fds=.. threads=.. ...`.
fn resources(out: &str, when: &str) -> Vec<(String, u64)> {
    let prefix = format!("fdhost: resources {when}: ");
    let line = out
        .lines()
        .find_map(|l| l.strip_prefix(prefix.as_str()))
        .unwrap_or_else(|| panic!("no resources {when} line:\n{out}"));
    line.split_whitespace()
        .map(|kv| {
            let (k, v) = kv.split_once('=').unwrap();
            (k.to_string(), v.parse().unwrap())
        })
        .collect()
}

/// How long the faulty job took, from its Termination line.
fn first_job_seconds(out: &str) -> f64 {
    out.lines()
        .find_map(|l| l.strip_prefix("fdhost: JobId 1: Termination: "))
        .and_then(|l| l.split("(elapsed ").nth(1))
        .and_then(|l| l.split(' ').next())
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no elapsed time for job 1:\n{out}"))
}

#[track_caller]
fn assert_isolated(o: &Outcome, cause: &[&str]) {
    let out = o.run.all();
    // The figure docs/reliability.md quotes (run with --nocapture).
    eprintln!(
        "fault {:?}: job failed after {:.3} s",
        o.name,
        first_job_seconds(&out)
    );
    // fdhost ran both jobs and exited normally (1 = a job failed).
    assert_eq!(o.run.status.code(), Some(1), "{out}");
    assert!(out.contains("JobId 1: Termination: Backup Error"), "{out}");
    assert!(out.contains("JobId 2: Termination: Backup OK"), "{out}");
    for c in cause {
        assert!(out.contains(c), "the message should name {c:?}:\n{out}");
    }
    let before = resources(&out, "before");
    let after = resources(&out, "after");
    let get = |v: &[(String, u64)], k: &str| v.iter().find(|(n, _)| n == k).unwrap().1;
    assert_eq!(
        get(&after, "children"),
        0,
        "a runner was left behind:\n{out}"
    );
    assert_eq!(
        get(&before, "fds"),
        get(&after, "fds"),
        "descriptors leaked:\n{out}"
    );
    assert_eq!(
        get(&before, "threads"),
        get(&after, "threads"),
        "threads leaked:\n{out}"
    );
    // Both jobs together, well within the deadline plus the kill grace.
    assert!(
        o.elapsed < Duration::from_secs(DEADLINE + 8),
        "took {:?}:\n{out}",
        o.elapsed
    );
}

#[test]
fn segfault() {
    let o = backup_fault("segfault", "start_backup_file", "");
    assert_isolated(&o, &["SIGSEGV", "start_backup_file", "Segmentation fault"]);
}

#[test]
fn abort() {
    let o = backup_fault("abort", "plugin_io", "");
    assert_isolated(&o, &["SIGABRT", "plugin_io"]);
}

#[test]
fn exit_with_code_3() {
    let o = backup_fault("exit3", "end_backup_file", "");
    assert_isolated(&o, &["exited with code 3", "end_backup_file"]);
}

#[test]
fn sys_exit_is_an_exception_not_an_exit() {
    let o = backup_fault("sysexit", "start_backup_file", "");
    assert_isolated(&o, &["SystemExit: plugin called sys.exit"]);
}

#[test]
fn an_exception_in_every_backup_entry_point() {
    for at in [
        "load_bareos_plugin",
        "parse_plugin_definition",
        "start_backup_file",
        "end_backup_file",
        "plugin_io",
        "handle_plugin_event",
    ] {
        let o = backup_fault("raise", at, "");
        assert_isolated(
            &o,
            &[
                "Fatal error: bareosfd: Traceback",
                &format!("ValueError: fault plugin raised in {at}"),
            ],
        );
    }
}

#[test]
fn an_exception_in_every_restore_entry_point() {
    for at in [
        "start_restore_file",
        "create_file",
        "plugin_io",
        "set_file_attributes",
        "end_restore_file",
    ] {
        let tmp = tempfile::tempdir().unwrap();
        let plugins = with_deadlines(tmp.path());
        let archive = tmp.path().join("archive");
        // The plugin misbehaves only once the restore started, so the
        // backup that makes the archive works.
        let plugin = fault_string("raise", at, "phase=restore");
        let dir = plugins.to_str().unwrap();
        fdhost(&[
            "backup",
            "--plugin-dir",
            dir,
            "--plugin",
            &plugin,
            "--archive",
            archive.to_str().unwrap(),
        ])
        .expect_ok();
        let run = fdhost(&[
            "restore",
            "--plugin-dir",
            dir,
            "--archive",
            archive.to_str().unwrap(),
            "--where",
            tmp.path().join("r").to_str().unwrap(),
        ]);
        let out = run.all();
        assert_eq!(run.status.code(), Some(1), "{at}: {out}");
        assert!(out.contains("Restore Error"), "{at}: {out}");
        assert!(
            out.contains(&format!("ValueError: fault plugin raised in {at}")),
            "{at}: {out}"
        );
    }
}

/// A plugin that does not return is stopped with the line it was stuck on:
/// the Python stack of its thread, with the plugin's file, line and
/// function, comes with the deadline's message.
#[test]
fn infinite_loop_hits_the_deadline() {
    let o = backup_fault("loop", "start_backup_file", "");
    assert_isolated(
        &o,
        &[
            "deadline",
            "start_backup_file",
            "fault.py\", line ",
            " in misbehave",
            " in start_backup_file",
        ],
    );
}

#[test]
fn deadlock_hits_the_deadline() {
    let o = backup_fault("deadlock", "plugin_io", "");
    assert_isolated(
        &o,
        &[
            "deadline",
            "plugin_io",
            "fault.py\", line ",
            " in misbehave",
        ],
    );
}

#[test]
fn runner_killed_mid_io() {
    // The 2nd plugin_io call is the first IO_READ; the message names the
    // call and the file it was reading.
    let o = backup_fault("sigkill", "plugin_io", "after=2");
    assert_isolated(&o, &["SIGKILL", "plugin_io failed (at file /fault/file-0)"]);
}

#[test]
fn runner_closing_its_socket() {
    let o = backup_fault("closesock", "start_backup_file", "");
    assert_isolated(&o, &["start_backup_file", "session"]);
}

#[test]
fn garbage_on_the_session() {
    let o = backup_fault("garbage", "end_backup_file", "");
    assert_isolated(&o, &["end_backup_file", "protocol violation", "frame"]);
}

#[test]
fn runner_closing_its_control_stream() {
    let o = backup_fault("closesock_control", "start_backup_file", "");
    assert_isolated(&o, &["start_backup_file", "session"]);
}

#[test]
fn garbage_on_the_control_stream() {
    let o = backup_fault("garbage_control", "end_backup_file", "");
    assert_isolated(&o, &["end_backup_file", "session broke"]);
}

#[test]
fn a_non_int_return_is_an_error_naming_the_function_and_type() {
    let o = backup_fault("return_none", "start_backup_file", "");
    assert_isolated(&o, &["start_backup_file() returned NoneType, not an int"]);
    let o = backup_fault("return_str", "end_backup_file", "");
    // end_backup_file's bRC_Error ends the job with an error; the message
    // names the function and the type, and the next job is unaffected.
    let out = o.run.all();
    assert!(
        out.contains("end_backup_file() returned str, not an int"),
        "{out}"
    );
    assert!(out.contains("JobId 2: Termination: Backup OK"), "{out}");
}

#[test]
fn fifty_jobs_leave_nothing_behind() {
    let tmp = tempfile::tempdir().unwrap();
    let plugins = plugin_dir(tmp.path());
    let run = fdhost(&[
        "jobs",
        "--plugin-dir",
        plugins.to_str().unwrap(),
        "--archive-dir",
        tmp.path().to_str().unwrap(),
        "--repeat",
        "50",
        "--job",
        &fault_string("none", "nowhere", ""),
        "-d",
        "10",
    ]);
    run.expect_ok();
    let out = run.all();
    assert_eq!(out.matches("Termination: Backup OK").count(), 50, "{out}");
    let pids = runner_pids(&out);
    assert_eq!(pids.len(), 50, "one runner per job");
    let daemon = pids[0].1;
    assert!(pids.iter().all(|&(r, d)| d == daemon && r != daemon));
    for (runner, _) in &pids {
        assert!(
            !Path::new(&format!("/proc/{runner}")).exists(),
            "runner {runner} still there"
        );
    }
    let (before, after) = (resources(&out, "before"), resources(&out, "after"));
    assert_eq!(before[0], after[0], "fds: {before:?} -> {after:?}");
    assert_eq!(before[1], after[1], "threads: {before:?} -> {after:?}");
    assert_eq!(after[3].1, 0, "children");
}

#[test]
fn a_stopped_runner_is_noticed_long_before_the_deadline() {
    // A runner that is alive but answers nothing (here SIGSTOP) fails the
    // call through the session's liveness pings, not the 10-minute deadline.
    let tmp = tempfile::tempdir().unwrap();
    let plugins = plugin_dir(tmp.path());
    std::fs::write(plugins.join("sidecar.toml"), "[deadlines]\nfile = 600\n").unwrap();
    let start = Instant::now();
    let run = fdhost(&[
        "jobs",
        "--plugin-dir",
        plugins.to_str().unwrap(),
        "--archive-dir",
        tmp.path().to_str().unwrap(),
        "--job",
        &fault_string("stop", "start_backup_file", ""),
        "--job",
        &fault_string("none", "nowhere", ""),
    ]);
    let out = run.all();
    assert!(out.contains("JobId 1: Termination: Backup Error"), "{out}");
    assert!(out.contains("JobId 2: Termination: Backup OK"), "{out}");
    assert!(out.contains("start_backup_file failed"), "{out}");
    assert!(
        start.elapsed() < Duration::from_secs(40),
        "took {:?}",
        start.elapsed()
    );
    eprintln!(
        "fault \"stop in start_backup_file\": job failed after {:.3} s",
        first_job_seconds(&out)
    );
}
