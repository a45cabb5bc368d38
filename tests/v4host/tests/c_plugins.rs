//! dirhost and sdhost against the C test plugin (plugins/v4plugin.c): the
//! loader and its compatibility checks, the core functions' answers with
//! their C types, the job sequences and the broadcast rules. No runner.

mod support;

use std::os::unix::fs::symlink;

use support::*;

fn dir_run(plugins: &std::path::Path, extra: &[&str]) -> Run {
    let mut args = vec!["run", "--plugin-dir", plugins.to_str().unwrap()];
    args.extend_from_slice(extra);
    dirhost(&args)
}

fn sd_run(plugins: &std::path::Path, extra: &[&str]) -> Run {
    let mut args = vec!["run", "--plugin-dir", plugins.to_str().unwrap()];
    args.extend_from_slice(extra);
    sdhost(&args)
}

/// The events the C plugin saw, in order, as (event, instance).
fn events(run: &Run) -> Vec<(u32, u32)> {
    run.lines_with("cplugin event ")
        .iter()
        .filter_map(|l| {
            let rest = l.strip_prefix("cplugin event ")?;
            let (ev, rest) = rest.split_once(" instance=")?;
            let inst = rest.split(' ').next()?;
            Some((ev.parse().ok()?, inst.parse().ok()?))
        })
        .collect()
}

#[test]
fn compatibility_checks_refuse_with_the_daemons_messages() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = c_plugin_dir(
        tmp.path(),
        &[
            env!("V4HOST_DIR_BAD_MAGIC"),
            env!("V4HOST_DIR_BAD_VERSION"),
            env!("V4HOST_DIR_BAD_LICENSE"),
            env!("V4HOST_DIR_BAD_SIZE"),
            env!("V4HOST_DIR_GOOD"),
        ],
    );
    symlink(env!("V4HOST_DIR_GOOD"), dir.join("link-dir.so")).unwrap();
    let run = dirhost(&["list", "--plugin-dir", dir.to_str().unwrap()]);
    run.expect_ok()
        .expect("dirhost: Error: Plugin magic wrong. Plugin=badmagic-dir.so wanted=*DirPluginData* got=*FDPluginData*")
        .expect("dirhost: Error: Plugin version incorrect. Plugin=badversion-dir.so wanted=4 got=3")
        .expect("dirhost: Error: Plugin license incompatible. Plugin=badlicense-dir.so license=GPLv2")
        .expect("dirhost: Error: Plugin size incorrect. Plugin=badsize-dir.so wanted=64 got=56");
    // Only the good one is listed; the symlink is skipped; every refused
    // plugin got unloadPlugin, and the good one at exit.
    let listed: Vec<&str> = run
        .stdout
        .lines()
        .filter(|l| l.ends_with("-dir.so"))
        .collect();
    assert_eq!(listed, ["cgood-dir.so"], "{}", run.all());
    assert_eq!(
        run.stdout.matches("cplugin unloadPlugin").count(),
        5,
        "{}",
        run.all()
    );
    // The director's table: PluginApiDefinition.size is 64 as the core table.
    run.expect("cplugin loadPlugin api.size=64 api.version=4 core.size=64 core.version=4");

    let sd = c_plugin_dir(
        tmp.path(),
        &[env!("V4HOST_SD_BAD_MAGIC"), env!("V4HOST_SD_GOOD")],
    );
    let run = sdhost(&["list", "--plugin-dir", sd.to_str().unwrap()]);
    run.expect_ok()
        .expect("sdhost: Error: Plugin magic wrong. Plugin=badmagic-sd.so wanted=*SDPluginData* got=*FDPluginData*")
        .expect("cplugin loadPlugin api.size=48 api.version=4 core.size=120 core.version=4");
    // --plugin-names selects.
    let run = sdhost(&[
        "list",
        "--plugin-dir",
        sd.to_str().unwrap(),
        "--plugin-names",
        "cgood",
    ]);
    assert!(!run.all().contains("badmagic"), "{}", run.all());
}

#[test]
fn director_variables_have_the_cores_types_and_values() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = c_plugin_dir(tmp.path(), &[env!("V4HOST_DIR_GOOD")]);
    let run = dir_run(
        &dir,
        &[
            "--options",
            "cgood:dump",
            "--jobid",
            "42",
            "--job",
            "J",
            "--job-name",
            "J.unique",
            "--client",
            "cl",
            "--pool",
            "P",
            "--storage",
            "S",
            "--catalog",
            "Cat",
            "--media-type",
            "MT",
            "--priority",
            "11",
            "--level",
            "I",
            "--num-vols",
            "4",
            "--files",
            "5",
            "--bytes",
            "7000",
        ],
    );
    run.expect_ok();
    // At JobEnd (the last dump).
    let vars = run.lines_with("cplugin var ");
    let last: Vec<&String> = vars.iter().rev().take(27).rev().collect();
    let want = [
        "var 1 rc=0 str=J",
        "var 2 rc=0 int=73",
        "var 3 rc=0 int=66",
        "var 4 rc=0 int=42",
        "var 5 rc=0 str=cl",
        "var 6 rc=0 int=4",
        "var 7 rc=0 str=P",
        "var 8 rc=0 str=S",
        "var 9 rc=0 str=S",
        "var 10 rc=2 str=(null)",
        "var 11 rc=0 str=Cat",
        "var 12 rc=0 str=MT",
        "var 13 rc=0 str=J.unique",
        "var 14 rc=0 int=84",
        "var 15 rc=0 int=11",
        "var 16 rc=0 str=",
        "var 17 rc=2",
        "var 18 rc=0 int=0",
        "var 19 rc=0 int=5",
        "var 20 rc=0 int=5",
        "var 21 rc=0 int=0",
        "var 22 rc=0 int=84",
        "var 23 rc=0 int=84",
        "var 24 rc=0 str=",
        "var 25 rc=0 int=7",
        "var 26 rc=0 u64=7000",
        "var 27 rc=0 u64=7000",
    ];
    for (got, want) in last.iter().zip(want) {
        if want.starts_with("var 24 ") {
            assert_eq!(**got, format!("cplugin var 24 rc=0 str={}", dir.display()));
        } else {
            assert_eq!(**got, format!("cplugin {want}"));
        }
    }
    // The status as the job goes: C at JobStart/JobInit, R at JobRun.
    let status: Vec<&str> = vars
        .iter()
        .filter(|l| l.starts_with("cplugin var 14 "))
        .map(|l| l.rsplit('=').next().unwrap())
        .collect();
    assert_eq!(status, ["67", "67", "82", "84"], "{}", run.all());

    // A restore has a read storage and no write storage.
    let run = dir_run(&dir, &["--options", "cgood:dump", "--type", "R"]);
    run.expect_ok()
        .expect("cplugin var 9 rc=2 str=(null)")
        .expect("cplugin var 10 rc=0 str=File");
}

#[test]
fn director_sequence_instances_and_options_dispatch() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = c_plugin_dir(tmp.path(), &[env!("V4HOST_DIR_GOOD")]);
    let run = dir_run(
        &dir,
        &[
            "--options",
            "CGOOD:instance=1:x",
            "--options",
            "cgood:y",
            "--options",
            "nocolon",
            "--options",
            "cgood:INSTANCE=128",
            "--options",
            "other:instance=0",
            "--new-volume",
            "--extra-event",
            "5",
            "-d",
            "10",
        ],
    );
    run.expect_ok()
        .expect("Error: Illegal DIR plugin options encountered, nocolon skipping")
        .expect("Error: Illegal DIR plugin options encountered, cgood:INSTANCE=128 instance 128 skipping")
        .expect("cplugin newPlugin instance=0 count=1")
        .expect("cplugin newPlugin instance=1 count=2")
        .expect("cplugin event 11 instance=1 options=CGOOD:instance=1:x")
        .expect("cplugin event 11 instance=0 options=cgood:y")
        .expect("Created new Volume \"Vol-0001\" in catalog.")
        // DebugMessage without a plugin prefix, at -d 10.
        .expect("dirhost: v4plugin.c:");
    assert!(
        run.stderr.contains("-1 cplugin debug instance=0"),
        "{}",
        run.all()
    );
    assert_eq!(
        events(&run),
        [
            (11, 1),
            (11, 0),
            (1, 0),
            (1, 1),
            (3, 0),
            (3, 1),
            (4, 0),
            (4, 1),
            (6, 0),
            (6, 1),
            (5, 0),
            (5, 1),
            (2, 0),
            (2, 1)
        ]
    );
    let freed = run.lines_with("cplugin freePlugin");
    assert_eq!(
        freed,
        [
            "cplugin freePlugin instance=0",
            "cplugin freePlugin instance=1"
        ]
    );
}

#[test]
fn director_broadcast_stops_and_fatal_messages_fail_the_job() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = c_plugin_dir(tmp.path(), &[env!("V4HOST_DIR_GOOD")]);
    // Instance 0 returns bRC_Stop: instance 1 gets nothing after the
    // options; the director ignores the result, the job is OK.
    let run = dir_run(
        &dir,
        &["--options", "cgood:ret=1", "--options", "cgood:instance=1"],
    );
    run.expect_ok();
    assert!(
        events(&run).iter().all(|&(e, i)| i == 0 || e == 11),
        "{}",
        run.all()
    );
    // bRC_Skip and bRC_Error stop too; bRC_More does not.
    for (ret, stops) in [(7, true), (2, true), (3, false)] {
        let run = dir_run(
            &dir,
            &[
                "--options",
                &format!("cgood:ret={ret}"),
                "--options",
                "cgood:instance=1",
            ],
        );
        let reached = events(&run).iter().any(|&(e, i)| i == 1 && e == 2);
        assert_eq!(reached, !stops, "ret={ret}: {}", run.all());
    }
    // A fatal message at JobStart: setup fails, no JobInit/JobRun/JobEnd.
    let run = dir_run(&dir, &["--options", "cgood:fatal=1"]);
    run.expect_failure()
        .expect("dirhost JobId 1: Fatal error: cplugin fatal at event 1")
        .expect("Termination:  *** Backup Error ***");
    assert_eq!(events(&run), [(11, 0), (1, 0)]);
    run.expect("cplugin freePlugin instance=0");
    // At JobRun: JobEnd still comes.
    let run = dir_run(&dir, &["--options", "cgood:fatal=4"]);
    run.expect_failure();
    assert_eq!(events(&run), [(11, 0), (1, 0), (3, 0), (4, 0), (2, 0)]);
    // Registering event 16 is out of the director's bounds.
    let run = dir_run(&dir, &["--options", "cgood:oob"]);
    run.expect_failure()
        .expect("Fatal error: Cannot set event unknown event 16 (out of bounds)")
        .expect("cplugin register 16 -> 2");
    // A cancel after JobInit: JobRun and JobEnd still come, status A.
    let run = dir_run(&dir, &["--options", "cgood:x", "--cancel-after", "JobInit"]);
    run.expect_failure().expect("Status:       A");
    assert_eq!(events(&run), [(11, 0), (1, 0), (3, 0), (4, 0), (2, 0)]);
}

#[test]
fn director_setvalue_is_recorded() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = c_plugin_dir(tmp.path(), &[env!("V4HOST_DIR_GOOD")]);
    let run = dir_run(&dir, &["--options", "cgood:dump:setvol=MyVol"]);
    run.expect_ok()
        .expect("[core] SetValue by cgood-dir.so instance: VolumeName=\"MyVol\"")
        .expect("cplugin setvalue 0 0 0 0")
        .expect("VolumeName:   \"MyVol\"")
        .expect("Priority:     7")
        .expect("Level:        D")
        // Read back at the next event.
        .expect("cplugin var 16 rc=0 str=MyVol")
        .expect("cplugin var 15 rc=0 int=7")
        .expect("cplugin var 2 rc=0 int=68");
}

#[test]
fn storage_daemon_sequence_of_a_backup() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = c_plugin_dir(tmp.path(), &[env!("V4HOST_SD_GOOD")]);
    let run = sd_run(&dir, &["--options", "cgood:x", "--files", "2"]);
    run.expect_ok()
        .expect("cplugin event 1 instance=0 value=JobStart")
        .expect("Moving to end of data on volume \"Full-0001\"");
    let seq: Vec<u32> = events(&run).iter().map(|e| e.0).collect();
    assert_eq!(
        seq,
        [22, 1, 6, 12, 5, 7, 8, 9, 18, 20, 20, 11, 21, 2],
        "{}",
        run.all()
    );

    // A new volume gets labeled.
    let run = sd_run(
        &dir,
        &[
            "--options",
            "cgood:x",
            "--files",
            "1",
            "--new-volume",
            "New-1",
        ],
    );
    run.expect_ok()
        .expect("Labeled new Volume \"New-1\" on device \"File\".");
    let seq: Vec<u32> = events(&run).iter().map(|e| e.0).collect();
    assert_eq!(
        seq,
        [22, 1, 6, 12, 5, 7, 7, 7, 10, 7, 8, 9, 18, 20, 11, 21, 2]
    );

    // Refusing the label fails the job: no DeviceRelease after a failure.
    let run = sd_run(&dir, &["--options", "cgood:ret=2", "--files", "1"]);
    run.expect_failure()
        .expect("Fatal error: Device reservation failed");
    let seq: Vec<u32> = events(&run).iter().map(|e| e.0).collect();
    assert_eq!(seq, [22, 1, 6, 2]);

    // A restore reads records in reverse instance order.
    let run = sd_run(
        &dir,
        &[
            "--options",
            "cgood:a",
            "--options",
            "cgood:instance=1",
            "--type",
            "R",
            "--files",
            "1",
        ],
    );
    run.expect_ok();
    let ev = events(&run);
    let reads: Vec<u32> = ev.iter().filter(|e| e.0 == 19).map(|e| e.1).collect();
    assert_eq!(reads, [1, 0], "{}", run.all());
}

#[test]
fn storage_daemon_variables_need_a_device() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = c_plugin_dir(tmp.path(), &[env!("V4HOST_SD_GOOD")]);
    let run = sd_run(
        &dir,
        &[
            "--options",
            "cgood:dump",
            "--files",
            "2",
            "--storage",
            "FileStorage",
        ],
    );
    run.expect_ok();
    let vars = run.lines_with("cplugin var ");
    // JobStart: no device record yet.
    for v in ["6", "7", "8", "9", "12"] {
        assert!(
            vars[..16].contains(&format!("cplugin var {v} rc=2 str=(untouched)")),
            "var {v} at JobStart: {vars:?}"
        );
    }
    let end: Vec<&String> = vars.iter().rev().take(16).rev().collect();
    let want = [
        "var 1 rc=0 str=BackupClient1",
        "var 2 rc=0 int=70",
        "var 3 rc=0 int=66",
        "var 4 rc=0 int=1",
        "var 5 rc=0 str=bareos-fd",
        "var 6 rc=0 str=Full",
        "var 7 rc=0 str=Backup",
        "var 8 rc=0 str=FileStorage",
        "var 9 rc=0 str=File",
    ];
    for (got, want) in end.iter().zip(want) {
        assert_eq!(**got, format!("cplugin {want}"));
    }
    assert_eq!(*end[11], "cplugin var 12 rc=0 str=Full-0001");
    assert_eq!(*end[10], "cplugin var 11 rc=0 int=84");
    assert_eq!(*end[13], "cplugin var 14 rc=0 int=2");
    assert_eq!(*end[14], "cplugin var 15 rc=0 u64=131072");
    // The device helpers are stubs that abort the job.
    let run = sd_run(&dir, &["--options", "cgood:helper"]);
    run.expect_failure().expect(
        "Fatal error: sdhost has no devices: core function EditDeviceCodes is not available; job aborted",
    );
}

#[test]
fn help_documents_the_options_and_output() {
    for run in [dirhost(&["run", "--help"]), sdhost(&["run", "--help"])] {
        run.expect_ok();
        for opt in [
            "--plugin-dir",
            "--plugin-names",
            "--options",
            "--repeat",
            "--job ",
            "--job-name",
            "--jobid",
            "--level",
            "--type",
            "--client",
            "--pool",
            "--storage",
            "--catalog",
            "--media-type",
            "--volume",
            "--job-status",
            "--priority",
            "--files",
            "--bytes",
            "--num-vols",
            "--new-volume",
            "--extra-event",
            "--cancel-after",
            "--debug",
            "OUTPUT",
            "EXIT STATUS",
            "JOB SEQUENCE",
        ] {
            run.expect(opt);
        }
    }
    dirhost(&["jobs", "--help"])
        .expect_ok()
        .expect("--job-options");
}
