//! Cancel as bareos-fd delivers it: bEventCancelCommand on the director's
//! thread (only to plugins that registered it) while the job thread hangs
//! inside the plugin, then the job is marked cancelled.

mod sidecar_env;

use std::time::{Duration, Instant};

use sidecar_env::*;

/// A backup through `cancel_handler` (with `options`) that fdhost cancels
/// after `after` seconds; the run and how long it took.
fn cancelled_backup(env: &Env, options: &str, after: &str) -> (Run, Duration) {
    let plugin = plugin_string(&test_plugins(), "cancel_handler", options);
    let t0 = Instant::now();
    let run = env.backup(
        "archive",
        &[&plugin],
        &["--cancel-after", after, "-d", "10"],
    );
    (run, t0.elapsed())
}

/// The runner is gone once the job has ended.
#[track_caller]
fn assert_runner_gone(run: &Run) {
    let pids = runner_pids(&run.all());
    assert_eq!(pids.len(), 1, "{}", run.all());
    assert!(
        !std::path::Path::new(&format!("/proc/{}", pids[0].0)).exists(),
        "runner {} outlived its job",
        pids[0].0
    );
}

/// bareos-fd sends the cancel only to plugins that registered it; the shim
/// registers it itself, so a plugin that did not still has its job thread
/// released within the grace period instead of at the call's deadline.
#[test]
fn a_cancel_ends_a_hung_job_whose_plugin_did_not_register_it() {
    let env = Env::new();
    let (b, took) = cancelled_backup(&env, "register=0", "1");
    b.expect_failure();
    assert!(
        took < Duration::from_secs(6),
        "the job took {took:?}:\n{}",
        b.all()
    );
    assert!(
        b.stdout
            .contains("the job was cancelled and the plugin did not return"),
        "{}",
        b.all()
    );
    assert!(!b.stdout.contains("cancel handler:"), "{}", b.all());
    // Where the plugin hung, from its stack.
    assert!(
        b.stdout.contains("cancel_handler.py\", line ") && b.stdout.contains(" in hang"),
        "{}",
        b.all()
    );
    assert_runner_gone(&b);
}

/// The handler runs while the daemon's cancel thread waits, and its core
/// functions are answered there: GetValue gets the job id, JobMessage
/// reaches the job log. Every time, not depending on timing.
#[test]
fn a_cancel_handler_gets_core_functions_every_time() {
    let env = Env::new();
    for (round, at) in ["start_backup_file", "plugin_io"]
        .iter()
        .cycle()
        .take(6)
        .enumerate()
    {
        let (b, took) = cancelled_backup(&env, &format!("at={at}"), "0.5");
        b.expect_failure();
        assert!(
            took < Duration::from_secs(6),
            "round {round}: the job took {took:?}:\n{}",
            b.all()
        );
        let line =
            format!("cancel handler: jobid=1, main thread in {at}, handler thread is main: False");
        assert!(
            b.stdout.contains(&line),
            "round {round}: no {line:?}:\n{}",
            b.all()
        );
        assert!(!b.all().contains("plugin_ctx is unset"), "{}", b.all());
        assert_runner_gone(&b);
    }
}
