//! End to end: fdhost loads the shim as `python3-fd.so`, which runs the
//! Python plugin in a separate `sidecar-runner` process.

mod sidecar_env;

use std::path::Path;

use sidecar_env::*;

/// Backs up `src` through the local-fileset example with `io` (core or
/// plugin), restores it, and compares the trees.
fn round_trip(io: &str, big: usize) {
    let env = Env::new();
    let src = env.path("data");
    make_tree(&src, big);
    let list = env.path("list");
    std::fs::write(&list, format!("{}\n", src.display())).unwrap();
    let plugin = plugin_string(
        &examples(),
        "sidecar_local_fileset",
        &format!("filename={}:io={io}", list.display()),
    );
    let backup = env.backup("archive", &[&plugin], &["-d", "10"]);
    backup.expect_ok();
    assert!(backup.stdout.contains("Backup OK"), "{}", backup.all());

    // The plugin ran in another process, and only there.
    let pids = runner_pids(&backup.all());
    assert_eq!(pids.len(), 1, "one runner per job:\n{}", backup.all());
    let (runner, daemon) = pids[0];
    assert_ne!(runner, daemon);
    assert!(
        !Path::new(&format!("/proc/{runner}")).exists(),
        "runner {runner} outlived its job"
    );

    let where_ = env.path("restored");
    let restore = env.restore("archive", &where_, &[]);
    restore.expect_ok();
    assert!(restore.stdout.contains("Restore OK"), "{}", restore.all());
    let restored = where_.join(src.strip_prefix("/").unwrap());
    let n = assert_same_tree(&src, &restored);
    assert!(n >= 14, "only {n} entries compared");
}

#[test]
fn backup_and_restore_with_io_in_core() {
    round_trip("core", 100 << 20);
}

#[test]
fn backup_and_restore_with_io_in_plugin() {
    round_trip("plugin", 3 << 20);
}

#[test]
fn data_produced_in_python_round_trips() {
    let env = Env::new();
    let sizes = [0usize, 1, 65535, 65536, 65537, 1 << 20];
    let sizes_opt = sizes.map(|s| s.to_string()).join(",");
    let plugin = plugin_string(
        &examples(),
        "sidecar_generated",
        &format!("sizes={sizes_opt}"),
    );
    env.backup("archive", &[&plugin], &[]).expect_ok();
    let where_ = env.path("restored");
    env.restore("archive", &where_, &[]).expect_ok();
    for (i, size) in sizes.iter().enumerate() {
        let got = std::fs::read(where_.join(format!("generated/file-{i}"))).unwrap();
        assert_eq!(got.len(), *size, "file-{i}");
        // The example's pattern: byte j of file i is (j*31 + i*7) % 251.
        let bad = got
            .iter()
            .enumerate()
            .position(|(j, &b)| b as usize != (j * 31 + i * 7) % 251);
        assert_eq!(bad, None, "file-{i} differs at this offset");
    }
}

#[test]
fn an_exception_fails_the_job_with_its_traceback() {
    let env = Env::new();
    let plugin = plugin_string(&test_plugins(), "raise_in_start_backup_file", "");
    let run = env.backup("a", &[&plugin], &[]);
    run.expect_failure();
    let out = run.all();
    assert!(
        out.contains("Fatal error: bareosfd: Traceback (most recent call last)"),
        "{out}"
    );
    assert!(out.contains("in explode"), "{out}");
    assert!(
        out.contains("RuntimeError: boom from the test plugin"),
        "{out}"
    );
    assert!(out.contains("Backup Error"), "{out}");
}

#[test]
fn an_unknown_module_is_named_with_the_path_searched() {
    let env = Env::new();
    let plugin = plugin_string(Path::new("/nowhere/at/all"), "no_such_plugin_module", "");
    let run = env.backup("a", &[&plugin], &[]);
    run.expect_failure();
    let out = run.all();
    assert!(out.contains("module_name=no_such_plugin_module"), "{out}");
    assert!(out.contains("/nowhere/at/all"), "{out}");
}

#[test]
fn a_segfaulting_plugin_fails_the_job_and_the_daemon_survives() {
    let env = Env::new();
    let plugin = plugin_string(&test_plugins(), "crash_in_start_backup_file", "");
    let run = env.backup("a", &[&plugin], &[]);
    // fdhost itself reports the failure: it did not die with the plugin.
    run.expect_failure();
    assert_eq!(run.status.code(), Some(1), "{}", run.all());
    let out = run.all();
    assert!(out.contains("SIGSEGV"), "{out}");
    assert!(out.contains("start_backup_file"), "{out}");
    assert!(out.contains("Backup Error"), "{out}");
}

#[test]
fn a_malformed_plugin_string_is_a_clear_job_error() {
    let env = Env::new();
    let run = env.backup("a", &["python3:module_name=x:novalue"], &[]);
    run.expect_failure();
    assert!(
        run.all().contains("Illegal argument novalue without value"),
        "{}",
        run.all()
    );
}

#[test]
fn python_stdout_goes_to_the_debug_log_and_stderr_to_the_job_log() {
    let env = Env::new();
    let plugin = plugin_string(&test_plugins(), "fault", "fault=print:at=start_backup_file");
    let run = env.backup("a", &[&plugin], &["-d", "100"]);
    run.expect_ok();
    // Job messages are on stdout, debug messages on stderr.
    assert!(
        run.stdout
            .contains("fdhost JobId 1: hello from the plugin's stderr in start_backup_file"),
        "{}",
        run.all()
    );
    assert!(
        run.stderr
            .contains("hello from the plugin's stdout in start_backup_file"),
        "{}",
        run.all()
    );
}
