//! Job driving end to end with the C "good" plugin: backup → archive →
//! restore, estimate, levels, and the error paths of the file loop.

mod c_plugins;

use c_plugins::{Env, GOOD, pattern, read};

/// A 1 MB+ source file for the in-core path (not a multiple of 64 KiB).
fn source(env: &Env) -> String {
    let data: Vec<u8> = (0..1_234_567u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    let p = env.path("src.dat");
    std::fs::write(&p, data).unwrap();
    p.display().to_string()
}

#[test]
fn backup_then_restore_gives_identical_bytes() {
    let env = Env::new();
    env.add(GOOD, "good-fd.so");
    let src = source(&env);
    let cmd = format!("good:incore={src}");
    let archive = env.archive();

    let b = env.fdhost(
        "backup",
        &["--plugin", &cmd, "--archive", &archive, "--acl", "--xattr"],
    );
    assert!(b.ok, "backup failed");
    assert_eq!(b.termination(), "Backup OK");
    assert_eq!(b.report("FD Files Written"), "7"); // 6 files + 1 restore object
    assert_eq!(
        b.report("FD Bytes Written"),
        (12 + 300_001 + 1_234_567).to_string()
    );
    b.assert_trace_order(&[
        "loadPlugin api=8/10 core=176/10",
        "newPlugin jobid=1 level=F type=B fdname=fdhost jobname=set checkchanges=1",
        "event 1 JobId=1 Job=fdhost-backup.",
        "event 12 F",
        &format!("event 17 {cmd}"),
        "event 16",
        "event 3",
        &format!("event 9 {cmd}"),
        &format!("startBackupFile idx=0 pkt_size=240 pkt_end=240 portable=1 no_read=0 cmd={cmd}"),
        "endBackupFile idx=0",
        "io open /good/dir/small.txt flags=0 mode=0 filedes=-1 size=80",
        "io read count=65536 got=12",
        "io read count=65536 got=0",
        "io close filedes=0",
        "io open /good/dir/incore.dat",
        "io close filedes=",
        "endBackupFile idx=6",
        "event 4",
        "event 2",
        "freePlugin",
        "unloadPlugin good",
    ]);
    // In-core reads never reach the plugin, and the core passed the
    // plugin's descriptor (not the marker 0) back in IO_CLOSE.
    let incore = b
        .trace
        .split("io open /good/dir/incore.dat")
        .nth(1)
        .unwrap();
    let next = incore.lines().nth(1).unwrap();
    assert!(
        next.starts_with("io close filedes=") && next != "io close filedes=0",
        "{next}"
    );

    let where_ = env.path("restored");
    let r = env.fdhost(
        "restore",
        &["--archive", &archive, "--where", where_.to_str().unwrap()],
    );
    assert!(r.ok, "restore failed");
    assert_eq!(r.termination(), "Restore OK");
    assert_eq!(r.report("FD Files Restored"), "6");
    let d = where_.join("good/dir");
    assert_eq!(read(&d.join("small.txt")), b"hello world\n");
    assert_eq!(read(&d.join("big.bin")), pattern(300_001));
    assert_eq!(read(&d.join("incore.dat")), read(src.as_ref()));
    assert_eq!(read(&d.join("empty")), b"");
    assert_eq!(
        std::fs::read_link(d.join("link")).unwrap().to_str(),
        Some("small.txt")
    );

    let w = where_.display();
    r.assert_trace_order(&[
        "newPlugin jobid=1 level=  type=R",
        "event 1 JobId=1 Job=fdhost-restore.",
        &format!("event 15 object name=good-config data=cfg-data plugin={cmd} type=25 len=8 index=7 size=64"),
        "event 15 (null)",
        "event 5",
        &format!("event 10 {cmd}"),
        &format!("startRestoreFile {cmd}"),
        &format!("createFile {w}/good/dir/ type=5 where={w} size=256 orig=/good/dir/ olname= replace=a status=2 filedes=-1"),
        &format!("setFileAttributes {w}/good/dir/"),
        &format!("setAcl {w}/good/dir/ acl-of-/good/dir"),
        &format!("setXattr {w}/good/dir/ user.good=xv"),
        "endRestoreFile",
        &format!("createFile {w}/good/dir/small.txt type=3"),
        &format!("io open {w}/good/dir/small.txt flags=577 mode=600 filedes=-1 size=80"),
        &format!("setFileAttributes {w}/good/dir/small.txt"),
        "io close filedes=0",
        &format!("setAcl {w}/good/dir/small.txt acl-of-/good/dir/small.txt"),
        "endRestoreFile",
        &format!("io open {w}/good/dir/incore.dat"),
        "io close filedes=",
        &format!("createFile {w}/good/dir/link type=4 where={w} size=256 orig=/good/dir/link olname=small.txt"),
        "event 6",
        "event 2",
        "freePlugin",
    ]);
}

#[test]
fn cf_core_lets_the_core_create_files() {
    let env = Env::new();
    env.add(GOOD, "good-fd.so");
    let archive = env.archive();
    let b = env.fdhost(
        "backup",
        &["--plugin", "good:restore_core=1", "--archive", &archive],
    );
    assert!(b.ok);
    let where_ = env.path("r");
    let r = env.fdhost(
        "restore",
        &["--archive", &archive, "--where", where_.to_str().unwrap()],
    );
    assert!(r.ok);
    assert_eq!(r.termination(), "Restore OK");
    let d = where_.join("good/dir");
    assert!(d.is_dir());
    assert_eq!(read(&d.join("small.txt")), b"hello world\n");
    assert_eq!(read(&d.join("big.bin")), pattern(300_001));
    assert_eq!(
        std::fs::read_link(d.join("link")).unwrap().to_str(),
        Some("small.txt")
    );
    // Regular files are opened through the plugin, with mode 0.
    assert!(r.trace.contains(&format!(
        "io open {}/good/dir/small.txt flags=577 mode=0 ",
        where_.display()
    )));
}

#[test]
fn restore_without_the_plugin_warns_and_the_core_restores() {
    let env = Env::new();
    env.add(GOOD, "good-fd.so");
    let archive = env.archive();
    assert!(
        env.fdhost("backup", &["--plugin", "good:", "--archive", &archive])
            .ok
    );
    std::fs::remove_file(env.plugins().join("good-fd.so")).unwrap();
    let where_ = env.path("r");
    let r = env.fdhost(
        "restore",
        &["--archive", &archive, "--where", where_.to_str().unwrap()],
    );
    assert!(
        r.stdout
            .contains("fdhost: Warning: Failed to find any plugins in")
    );
    assert!(
        r.stdout
            .contains("fdhost JobId 1: Warning: Plugin=good: not found.\n")
    );
    assert!(r.ok);
    assert_eq!(read(&where_.join("good/dir/big.bin")), pattern(300_001));
}

#[test]
fn incremental_sends_since_then_level() {
    let env = Env::new();
    env.add(GOOD, "good-fd.so");
    let b = env.fdhost(
        "backup",
        &[
            "--plugin",
            "good:",
            "--archive",
            &env.archive(),
            "--level",
            "I",
            "--since",
            "1234",
        ],
    );
    assert!(b.ok);
    assert!(b.stdout.contains("Level:                  Incremental"));
    b.assert_trace_order(&[
        "newPlugin jobid=1 level=I",
        "event 1 ",
        "event 13 1234",
        "event 12 I",
        "event 17 good:",
    ]);
}

#[test]
fn estimate_lists_files_and_totals() {
    let env = Env::new();
    env.add(GOOD, "good-fd.so");
    let e = env.fdhost("estimate", &["--plugin", "good:", "--jobid", "7"]);
    assert!(e.ok);
    assert_eq!(e.termination(), "Estimate OK");
    let lines: Vec<&str> = e.stdout.lines().collect();
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("drwxr-xr-x ") && l.ends_with("  /good/dir/"))
    );
    assert!(lines.iter().any(|l| l.starts_with("-rw------- ")
        && l.contains(" 300001 ")
        && l.ends_with("  /good/dir/big.bin")));
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("lrwxrwxrwx ") && l.ends_with("  /good/dir/link -> small.txt"))
    );
    assert!(
        lines.contains(&"2000 OK estimate files=5 bytes=300013"),
        "{lines:?}"
    );
    e.assert_trace_order(&[
        "newPlugin jobid=7",
        "event 1 JobId=7",
        "event 12 F",
        "event 17 good:",
        "event 16",
        "event 11 good:",
        "startBackupFile idx=0",
        "event 2",
        "freePlugin",
    ]);
    // No I/O and no StartBackupJob/EndBackupJob in an estimate.
    assert!(!e.trace.contains("io open"));
    assert!(!e.trace.lines().any(|l| l == "event 3" || l == "event 4"));
}

#[test]
fn unknown_plugin_is_a_fatal_job_error() {
    let env = Env::new();
    env.add(GOOD, "good-fd.so");
    let b = env.fdhost(
        "backup",
        &["--plugin", "nosuch:x=1", "--archive", &env.archive()],
    );
    assert_eq!(b.code, Some(1));
    assert!(
        b.stdout
            .contains("fdhost JobId 1: Fatal error: Command plugin \"nosuch:x=1\" not found.\n")
    );
    assert_eq!(b.termination(), "Backup Error");
    // The job still ends properly.
    b.assert_trace_order(&["event 3", "event 4", "freePlugin"]);
}

#[test]
fn file_loop_errors_fail_the_job() {
    let env = Env::new();
    env.add(GOOD, "good-fd.so");
    let a = env.archive();
    let b = env.fdhost("backup", &["--plugin", "good:badtype=1", "--archive", &a]);
    assert_eq!(b.code, Some(1));
    assert!(b.stdout.contains(
        "Fatal error: Command plugin \"good:badtype=1\": no type in startBackupFile packet."
    ));
    let b = env.fdhost("backup", &["--plugin", "good:startfail=1", "--archive", &a]);
    assert_eq!(b.code, Some(1));
    assert!(
        b.stdout
            .contains("Fatal error: Command plugin \"good:startfail=1\": startBackupFile failed.")
    );
}

#[test]
fn plugin_job_messages_set_the_job_status() {
    let env = Env::new();
    env.add(GOOD, "good-fd.so");
    let a = env.archive();
    let b = env.fdhost(
        "backup",
        &["--plugin", "good:warn=careful", "--archive", &a],
    );
    assert!(b.ok);
    assert!(
        b.stdout
            .contains("fdhost JobId 1: Warning: good: careful\n")
    );
    assert_eq!(b.termination(), "Backup OK -- with warnings");

    // (An explicit JobId: the catalog beside the archive would give 2.)
    let b = env.fdhost(
        "backup",
        &[
            "--plugin",
            "good:fatal=boom",
            "--archive",
            &a,
            "--jobid",
            "1",
        ],
    );
    assert_eq!(b.code, Some(1));
    // A newline is added when the text lacks one.
    assert!(
        b.stdout
            .contains("fdhost JobId 1: Fatal error: good: boom\n")
    );
    assert_eq!(b.termination(), "Backup Error");
    // After a fatal error only the End*Job events are delivered.
    assert!(b.trace.lines().any(|l| l == "event 4"));
    assert!(!b.trace.lines().any(|l| l == "event 2"));
    assert!(b.trace.contains("freePlugin"));
}

#[test]
fn debug_messages_go_to_stderr_by_level() {
    let env = Env::new();
    env.add(GOOD, "good-fd.so");
    let b = env.fdhost("estimate", &["--plugin", "good:", "-d", "100"]);
    assert!(b.stderr.contains("fdhost: good.c:"), "{}", b.stderr);
    assert!(
        b.stderr
            .contains("-1 good-fd.so: good: newPlugin jobid=1\n")
    );
    let b = env.fdhost("estimate", &["--plugin", "good:", "-d", "99"]);
    assert!(!b.stderr.contains("good-fd.so: good: newPlugin"));
}

#[test]
fn callbacks_refuse_null_and_bogus_contexts() {
    let env = Env::new();
    env.add(GOOD, "good-fd.so");
    let b = env.fdhost(
        "backup",
        &["--plugin", "good:abuse=1", "--archive", &env.archive()],
    );
    assert!(b.ok, "fdhost must survive");
    for ctx in ["ctx0", "ctx1"] {
        let lines: Vec<&str> = b
            .trace
            .lines()
            .filter(|l| l.starts_with(&format!("abuse {ctx} ")))
            .collect();
        assert_eq!(lines.len(), 3, "{}", b.trace);
        for l in &lines {
            for field in l.split(' ').skip(2) {
                let (name, rc) = field.split_once('=').unwrap();
                // Messages are always bRC_OK; everything else is bRC_Error,
                // except FDName, which needs no job.
                let want = if matches!(name, "msg" | "dbg" | "getfd") {
                    "0"
                } else {
                    "2"
                };
                assert_eq!(rc, want, "{ctx} {name} in {l}");
            }
        }
    }
    // A daemon message for the NULL/bogus ctx.
    assert!(b.stdout.contains("fdhost: abuse: daemon message 0\n"));
    assert!(b.stdout.contains("fdhost: abuse: daemon message 1\n"));
    assert!(
        b.trace
            .contains("abuse nullargs count=2 get=2 set=2 excl=2 check=2 accept=2 seen=2")
    );
    // With a valid ctx: one job in the daemon; AddExclude then AcceptFile.
    assert!(
        b.trace.contains("abuse valid count=0 excl=0 accept=7"),
        "{}",
        b.trace
    );
    assert!(b.trace.contains("abuse count=1"));
}
