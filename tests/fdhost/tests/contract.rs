//! The core's side of the python3-fd contract as fdhost plays it, end to
//! end through the shim and the runner: Incremental/accurate for `File =`
//! entries, option plugins (bEventHandleBackupFile), FileSet editing from
//! a plugin, and cancel (bEventCancelCommand on another thread, the job
//! ending in bounded time).

mod sidecar_env;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use sidecar_env::*;

fn saved(run: &Run) -> Vec<String> {
    let mut v: Vec<String> = run
        .stderr
        .lines()
        .filter_map(|l| l.split_once(" saving ").map(|(_, r)| r))
        .filter(|r| !r.contains(" type=5 "))
        .filter_map(|r| r.split(" type=").next())
        .map(str::to_string)
        .collect();
    v.sort();
    v
}

fn restore(plugins: &Path, archive: &Path, where_: &Path) -> Run {
    fdhost(&[
        "restore",
        "--plugin-dir",
        plugins.to_str().unwrap(),
        "--archive",
        archive.to_str().unwrap(),
        "--where",
        where_.to_str().unwrap(),
    ])
}

fn restored(where_: &Path, p: &Path) -> PathBuf {
    where_.join(p.strip_prefix("/").unwrap())
}

#[test]
fn file_entries_incremental_and_accurate_with_the_catalog() {
    let tmp = tempfile::tempdir().unwrap();
    let plugins = plugin_dir(tmp.path());
    let src = tmp.path().join("src");
    std::fs::create_dir_all(src.join("d")).unwrap();
    for (n, len) in [("a", 10), ("b", 20), ("d/c", 30)] {
        std::fs::write(src.join(n), noise(len, len as u64)).unwrap();
    }
    // Non-accurate incrementals compare ctime with the since time (whole
    // seconds): the tree must be older than the Full's start.
    std::thread::sleep(Duration::from_millis(1100));
    let s = src.to_str().unwrap();
    let run = |archive: &str, extra: &[&str]| {
        let a = tmp.path().join(archive);
        let mut args = vec![
            "backup",
            "--plugin-dir",
            plugins.to_str().unwrap(),
            "--file",
            s,
            "--archive",
            a.to_str().unwrap(),
            "-d",
            "100",
        ];
        args.extend_from_slice(extra);
        let r = fdhost(&args);
        r.expect_ok();
        r
    };
    let full = run("full", &[]);
    assert_eq!(
        saved(&full),
        [format!("{s}/a"), format!("{s}/b"), format!("{s}/d/c")]
    );
    // An Incremental without changes saves nothing; JobId and since time
    // come from the catalog.
    let none = run("i1", &["--level", "I"]);
    assert!(saved(&none).is_empty(), "{}", none.all());
    assert!(
        none.stdout.contains("JobId:                  2"),
        "{}",
        none.all()
    );
    std::fs::write(src.join("a"), noise(11, 1)).unwrap();
    let incr = run("i2", &["--level", "I"]);
    assert_eq!(saved(&incr), [format!("{s}/a")], "{}", incr.all());
    assert!(
        incr.stdout
            .contains(&format!("Unchanged file skipped: {s}/b"))
    );

    // Accurate: a deleted file is reported; an unchanged one is not saved.
    let afull = tmp.path().join("acat");
    let acat = afull.to_str().unwrap();
    run("af", &["--accurate", "--catalog", acat]);
    std::fs::remove_file(src.join("b")).unwrap();
    std::fs::write(src.join("d/new"), b"new").unwrap();
    let ai = run("ai", &["--accurate", "--catalog", acat, "--level", "I"]);
    assert_eq!(saved(&ai), [format!("{s}/d/new")], "{}", ai.all());
    assert!(
        ai.stdout.contains(&format!("Deleted: {s}/b")),
        "{}",
        ai.all()
    );

    // Restoring the Full and then the Incremental gives today's a.
    let w = tmp.path().join("w");
    restore(&plugins, &tmp.path().join("full"), &w).expect_ok();
    assert_eq!(
        std::fs::read(restored(&w, &src.join("a"))).unwrap(),
        noise(10, 10)
    );
    restore(&plugins, &tmp.path().join("i2"), &w).expect_ok();
    assert_eq!(
        std::fs::read(restored(&w, &src.join("a"))).unwrap(),
        noise(11, 1)
    );
    assert_eq!(
        std::fs::read(restored(&w, &src.join("d/c"))).unwrap(),
        noise(30, 30)
    );
}

#[test]
fn option_plugin_decides_per_file() {
    let tmp = tempfile::tempdir().unwrap();
    let plugins = plugin_dir(tmp.path());
    let src = tmp.path().join("src");
    std::fs::create_dir_all(&src).unwrap();
    std::fs::write(src.join("a.core"), noise(70_000, 1)).unwrap();
    std::fs::write(src.join("b.txt"), noise(100_000, 2)).unwrap();
    std::fs::write(src.join("c.skip"), b"never saved").unwrap();
    let archive = tmp.path().join("archive");
    let plugin = plugin_string(&test_plugins(), "option_plugin", "");
    let b = fdhost(&[
        "backup",
        "--plugin-dir",
        plugins.to_str().unwrap(),
        "--file",
        src.to_str().unwrap(),
        "--option-plugin",
        &plugin,
        "--archive",
        archive.to_str().unwrap(),
        "-d",
        "100",
    ]);
    b.expect_ok();
    let s = src.display();
    for line in [
        format!("option_plugin: {s}/a.core type=3 size=70000 -> core"),
        format!("option_plugin: {s}/b.txt type=3 size=100000 -> plugin"),
        format!("option_plugin: {s}/c.skip type=3 size=11 -> skip"),
        format!("option_plugin: {s} type=5 size="),
        format!("option_plugin: 100000 bytes through plugin_io for {s}/b.txt"),
    ] {
        assert!(b.stdout.contains(&line), "missing {line:?}:\n{}", b.all());
    }
    assert!(
        b.stderr
            .contains(&format!("saving {s}/a.core type=3 by the core"))
    );
    assert!(
        b.stderr
            .contains(&format!("saving {s}/b.txt type=3 by the option plugin"))
    );
    assert!(!b.stderr.contains("c.skip type=3 by"), "{}", b.all());

    let w = tmp.path().join("w");
    let r = restore(&plugins, &archive, &w);
    r.expect_ok();
    assert!(
        r.stdout.contains(&format!(
            "option_plugin: 100000 bytes through plugin_io for {}",
            restored(&w, &src.join("b.txt")).display()
        )),
        "{}",
        r.all()
    );
    assert_eq!(
        std::fs::read(restored(&w, &src.join("a.core"))).unwrap(),
        noise(70_000, 1)
    );
    assert_eq!(
        std::fs::read(restored(&w, &src.join("b.txt"))).unwrap(),
        noise(100_000, 2)
    );
    assert!(!restored(&w, &src.join("c.skip")).exists());
}

#[test]
fn a_plugin_edits_the_fileset_at_plugin_command_time() {
    let tmp = tempfile::tempdir().unwrap();
    let plugins = plugin_dir(tmp.path());
    let src = tmp.path().join("src");
    let extra = tmp.path().join("extra");
    std::fs::create_dir_all(src.join("skip")).unwrap();
    std::fs::create_dir_all(&extra).unwrap();
    std::fs::write(src.join("keep.txt"), b"keep").unwrap();
    std::fs::write(src.join("x.tmp"), b"tmp").unwrap();
    std::fs::write(src.join("y.log"), b"log").unwrap();
    std::fs::write(src.join("skip/inner.txt"), b"inner").unwrap();
    std::fs::write(extra.join("e.txt"), b"extra").unwrap();
    let (s, e) = (src.display(), extra.display());
    let editor = plugin_string(
        &test_plugins(),
        "fileset_editor",
        &format!(
            "exclude={s}/skip:wild=*.tmp:regex=\\.log$:include={e}:probe={s}/x.tmp:probe={s}/keep.txt:probe={s}/skip/inner.txt"
        ),
    );
    let archive = tmp.path().join("archive");
    let b = fdhost(&[
        "backup",
        "--plugin-dir",
        plugins.to_str().unwrap(),
        "--file",
        src.to_str().unwrap(),
        "--plugin",
        &editor,
        "--archive",
        archive.to_str().unwrap(),
        "-d",
        "100",
    ]);
    b.expect_ok();
    for line in [
        format!("AcceptFile {s}/x.tmp = 7"),
        format!("AcceptFile {s}/keep.txt = 0"),
        format!("AcceptFile {s}/skip/inner.txt = 7"),
        "('AddExclude', 0)".to_string(),
        "('AddWild', 0)".to_string(),
        "('AddRegex', 0)".to_string(),
        "('AddInclude', 0)".to_string(),
    ] {
        assert!(b.stdout.contains(&line), "missing {line:?}:\n{}", b.all());
    }
    assert_eq!(
        saved(&b),
        [format!("{e}/e.txt"), format!("{s}/keep.txt")],
        "{}",
        b.all()
    );
    let w = tmp.path().join("w");
    restore(&plugins, &archive, &w).expect_ok();
    assert_eq!(
        std::fs::read(restored(&w, &extra.join("e.txt"))).unwrap(),
        b"extra"
    );
    assert!(!restored(&w, &src.join("x.tmp")).exists());
    assert!(!restored(&w, &src.join("skip")).exists());
}

/// A backup through `cancel_sleep` (with `options`) that fdhost cancels
/// after one second; the run and how long it took.
fn backup_cancelled_after_1s(options: &str) -> (Run, Duration) {
    let tmp = tempfile::tempdir().unwrap();
    let plugins = plugin_dir(tmp.path());
    let archive = tmp.path().join("archive");
    let plugin = plugin_string(&test_plugins(), "cancel_sleep", options);
    let t0 = Instant::now();
    let run = fdhost(&[
        "backup",
        "--plugin-dir",
        plugins.to_str().unwrap(),
        "--plugin",
        &plugin,
        "--archive",
        archive.to_str().unwrap(),
        "--cancel-after",
        "1",
        "-d",
        "10",
    ]);
    (run, t0.elapsed())
}

/// Calls that end within microseconds are served without the session's
/// runtime (the quick path); a cancel must still reach the plugin, and
/// what its handler logs must reach the job before it ends.
#[test]
fn cancel_reaches_the_plugin_between_quick_calls() {
    let (b, took) = backup_cancelled_after_1s("quick=1");
    b.expect_failure();
    assert!(took < Duration::from_secs(10), "the job took {took:?}");
    let written: u64 = b
        .stdout
        .lines()
        .find_map(|l| l.trim().strip_prefix("FD Files Written:"))
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or(0);
    assert!(
        written > 10,
        "a stream of quick calls ran before the cancel:\n{}",
        b.all()
    );
    assert!(
        b.stdout.contains("bEventCancelCommand on thread"),
        "the handler ran and its message reached the job:\n{}",
        b.all()
    );
    assert!(b.stdout.contains("Job canceled"), "{}", b.all());
}

#[test]
fn cancel_reaches_the_plugin_and_ends_the_job_in_bounded_time() {
    let (b, took) = backup_cancelled_after_1s("");
    b.expect_failure();
    assert!(
        took < Duration::from_secs(5),
        "the job took {took:?}:\n{}",
        b.all()
    );
    assert!(
        b.stdout.contains("bEventCancelCommand on thread")
            && b.stdout.contains("job thread in IO_READ: True"),
        "the handler ran while the job thread was in plugin_io:\n{}",
        b.all()
    );
    assert!(b.stdout.contains("Job canceled"), "{}", b.all());
    assert!(
        b.stdout
            .contains("the job was cancelled and the plugin did not return"),
        "{}",
        b.all()
    );
    assert!(
        b.stdout.contains("Termination:            Backup"),
        "{}",
        b.all()
    );
    let pids = runner_pids(&b.all());
    assert_eq!(pids.len(), 1, "{}", b.all());
    assert!(
        !Path::new(&format!("/proc/{}", pids[0].0)).exists(),
        "runner gone"
    );
}

#[test]
fn plugin_options_several_plugin_lines_instance_count_and_debug_levels() {
    let tmp = tempfile::tempdir().unwrap();
    let plugins = plugin_dir(tmp.path());
    let archive = tmp.path().join("archive");
    let one = plugin_string(&test_plugins(), "probe", "file=/probe/one:text=first");
    let two = plugin_string(&test_plugins(), "probe", "file=/probe/two:text=second");
    let b = fdhost(&[
        "backup",
        "--plugin-dir",
        plugins.to_str().unwrap(),
        "--plugin",
        &one,
        "--plugin",
        &two,
        "--plugin-options",
        "python3:color=blue",
        "--archive",
        archive.to_str().unwrap(),
        "-d",
        "200",
    ]);
    b.expect_ok();
    // FileSet lines, then the pluginoptions override, then each backup
    // command again (python-api §3.3, §3.4).
    let parses: Vec<&str> = b
        .stdout
        .lines()
        .filter_map(|l| l.split_once("probe: parse ").map(|(_, r)| r))
        .collect();
    assert_eq!(
        parses,
        [
            "file=/probe/one:text=first:",
            "file=/probe/two:text=second:",
            "color=blue:",
            "file=/probe/one:text=first:",
            "file=/probe/two:text=second:",
        ],
        "{}",
        b.all()
    );
    assert!(b.stdout.contains("probe: instances=1"), "{}", b.all());
    assert!(b.stderr.contains("probe: debug at 100"), "{}", b.all());
    assert!(!b.all().contains("probe: debug at 400"), "{}", b.all());
    assert!(
        b.stdout.contains("FD Files Written:       2"),
        "{}",
        b.all()
    );

    let w = tmp.path().join("w");
    let r = fdhost(&[
        "restore",
        "--plugin-dir",
        plugins.to_str().unwrap(),
        "--archive",
        archive.to_str().unwrap(),
        "--where",
        w.to_str().unwrap(),
        "--plugin-options",
        "python3:color=red",
    ]);
    r.expect_ok();
    assert!(r.stdout.contains("probe: parse color=red:"), "{}", r.all());
    assert_eq!(std::fs::read(w.join("probe/one")).unwrap(), b"first");
    assert_eq!(std::fs::read(w.join("probe/two")).unwrap(), b"second");
}
