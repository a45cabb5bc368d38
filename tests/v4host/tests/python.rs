//! End-to-end: dirhost / sdhost load the real shim as `python3-dir.so` /
//! `python3-sd.so` (plugin directory as deploy/install.sh lays it out),
//! which runs the Python plugins in sidecar-runner.

mod support;

use support::*;

const DIR_VARS: [&str; 27] = [
    "bDirVarJob",
    "bDirVarLevel",
    "bDirVarType",
    "bDirVarJobId",
    "bDirVarClient",
    "bDirVarNumVols",
    "bDirVarPool",
    "bDirVarStorage",
    "bDirVarWriteStorage",
    "bDirVarReadStorage",
    "bDirVarCatalog",
    "bDirVarMediaType",
    "bDirVarJobName",
    "bDirVarJobStatus",
    "bDirVarPriority",
    "bDirVarVolumeName",
    "bDirVarCatalogRes",
    "bDirVarJobErrors",
    "bDirVarJobFiles",
    "bDirVarSDJobFiles",
    "bDirVarSDErrors",
    "bDirVarFDJobStatus",
    "bDirVarSDJobStatus",
    "bDirVarPluginDir",
    "bDirVarLastRate",
    "bDirVarJobBytes",
    "bDirVarReadBytes",
];

const SD_VARS: [&str; 16] = [
    "bsdVarJob",
    "bsdVarLevel",
    "bsdVarType",
    "bsdVarJobId",
    "bsdVarClient",
    "bsdVarPool",
    "bsdVarPoolType",
    "bsdVarStorage",
    "bsdVarMediaType",
    "bsdVarJobName",
    "bsdVarJobStatus",
    "bsdVarVolumeName",
    "bsdVarJobErrors",
    "bsdVarJobFiles",
    "bsdVarJobBytes",
    "bsdVarPluginDir",
];

/// The events `tag` saw, in order.
fn probe_events(run: &Run, tag: &str) -> Vec<u32> {
    let prefix = format!("v4probe[{tag}] event ");
    run.lines_with(&prefix)
        .iter()
        .filter_map(|l| l.strip_prefix(&prefix)?.parse().ok())
        .collect()
}

/// `name=<repr>` of `tag`'s value lines right after event `ev` (first
/// occurrence).
fn values_at(run: &Run, tag: &str, ev: u32) -> Vec<String> {
    let mut out = Vec::new();
    let mut inside = false;
    for l in run.lines_with(&format!("v4probe[{tag}] ")) {
        let l = l
            .strip_prefix(&format!("v4probe[{tag}] "))
            .unwrap()
            .to_string();
        if let Some(e) = l.strip_prefix("event ") {
            if inside {
                break;
            }
            inside = e == ev.to_string();
        } else if inside && let Some(v) = l.strip_prefix("value ") {
            out.push(v.to_string());
        }
    }
    out
}

#[test]
fn director_every_event_and_variable_reaches_the_plugin() {
    let tmp = tempfile::tempdir().unwrap();
    let plugins = python_plugin_dir(tmp.path());
    let opts = python_options(0, &test_plugins(), "v4host_probe", "tag=a:set=4");
    let run = dirhost(&[
        "run",
        "--plugin-dir",
        plugins.to_str().unwrap(),
        "--options",
        &opts,
        "--jobid",
        "7",
        "--job",
        "J",
        "--job-name",
        "J.1",
        "--files",
        "5",
        "--bytes",
        "5000",
        "--new-volume",
        "--extra-event",
        "5",
        "--extra-event",
        "7",
        "--extra-event",
        "8",
        "--extra-event",
        "9",
        "--extra-event",
        "10",
        "-d",
        "10",
    ]);
    run.expect_ok()
        .expect("v4probe[a] load bareosdir count=1")
        .expect("v4probe[a] registered 0")
        .expect("v4probe[a] parse tag=a:set=4:")
        .expect("v4probe[a] debug message")
        // SetValue: VolumeName, Priority, JobLevel reach the core, JobReport
        // is a no-op, an unknown variable fails in the module.
        .expect("v4probe[a] set (0, 0, 0, 0, 2)")
        .expect("[core] SetValue by python3-dir.so instance: VolumeName=\"PyVol\"")
        .expect("Priority:     5")
        .expect("Level:        I");
    // NewPluginOptions (11) is the load; every generated and extra event.
    assert_eq!(
        probe_events(&run, "a"),
        [1, 3, 4, 6, 5, 7, 8, 9, 10, 2],
        "{}",
        run.all()
    );
    let at_start = values_at(&run, "a", 1);
    let names: Vec<&str> = at_start
        .iter()
        .map(|v| v.split('=').next().unwrap())
        .collect();
    assert_eq!(names, DIR_VARS, "{}", run.all());
    let at_end = values_at(&run, "a", 2);
    let plugin_dir = format!("bDirVarPluginDir='{}'", plugins.display());
    for want in [
        "bDirVarJob='J'",
        "bDirVarLevel=73",
        "bDirVarType=66",
        "bDirVarJobId=7",
        "bDirVarClient='bareos-fd'",
        "bDirVarNumVols=2",
        "bDirVarPool='Full'",
        "bDirVarStorage='File'",
        "bDirVarWriteStorage='File'",
        "bDirVarReadStorage=None",
        "bDirVarCatalog='MyCatalog'",
        "bDirVarMediaType='File'",
        "bDirVarJobName='J.1'",
        "bDirVarJobStatus=84",
        "bDirVarPriority=5",
        "bDirVarVolumeName='Vol-0001'",
        "bDirVarCatalogRes=None",
        "bDirVarJobErrors=0",
        "bDirVarJobFiles=5",
        "bDirVarSDJobFiles=5",
        "bDirVarSDErrors=0",
        "bDirVarFDJobStatus=84",
        "bDirVarSDJobStatus=84",
        &plugin_dir,
        "bDirVarLastRate=5",
        "bDirVarJobBytes=5000",
        "bDirVarReadBytes=5000",
    ] {
        assert!(
            at_end.iter().any(|v| v == want),
            "{want} missing in {at_end:?}"
        );
    }
    // The volume the plugin set before NewVolume was cleared there.
    assert!(values_at(&run, "a", 6).contains(&"bDirVarVolumeName=''".to_string()));
}

#[test]
fn storage_daemon_every_event_and_variable_reaches_the_plugin() {
    let tmp = tempfile::tempdir().unwrap();
    let plugins = python_plugin_dir(tmp.path());
    let opts = python_options(0, &test_plugins(), "v4host_probe", "daemon=sd:tag=s:set=1");
    let mut args = vec![
        "run",
        "--plugin-dir",
        plugins.to_str().unwrap(),
        "--options",
        &opts,
        "--files",
        "1",
        "--new-volume",
        "V1",
        "--storage",
        "FileStorage",
    ];
    for ev in ["3", "4", "13", "14", "15", "16", "17", "23", "24"] {
        args.extend(["--extra-event", ev]);
    }
    let run = sdhost(&args);
    run.expect_ok()
        .expect("v4probe[s] load bareossd count=1")
        .expect("v4probe[s] set (0, 0, 0, 0, 2)")
        .expect("Labeled new Volume \"V1\"");
    assert_eq!(
        probe_events(&run, "s"),
        [
            1, 6, 12, 5, 7, 7, 7, 10, 7, 8, 9, 18, 20, 3, 4, 13, 14, 15, 16, 17, 23, 24, 11, 21, 2
        ],
        "{}",
        run.all()
    );
    let at_start = values_at(&run, "s", 1);
    let names: Vec<&str> = at_start
        .iter()
        .map(|v| v.split('=').next().unwrap())
        .collect();
    assert_eq!(names, SD_VARS);
    assert!(
        at_start.contains(&"bsdVarPool=None".to_string()),
        "{at_start:?}"
    );
    let at_end = values_at(&run, "s", 2);
    let plugin_dir = format!("bsdVarPluginDir='{}'", plugins.display());
    for want in [
        "bsdVarJob='BackupClient1'",
        "bsdVarLevel=73",
        "bsdVarType=66",
        "bsdVarJobId=1",
        "bsdVarClient='bareos-fd'",
        "bsdVarPool='Full'",
        "bsdVarPoolType='Backup'",
        "bsdVarStorage='FileStorage'",
        "bsdVarMediaType='File'",
        "bsdVarJobStatus=84",
        "bsdVarVolumeName='V1'",
        "bsdVarJobErrors=0",
        "bsdVarJobFiles=1",
        "bsdVarJobBytes=65536",
        &plugin_dir,
    ] {
        assert!(
            at_end.iter().any(|v| v == want),
            "{want} missing in {at_end:?}"
        );
    }
    // A restore: ReadRecordTranslation (19).
    let run = sdhost(&[
        "run",
        "--plugin-dir",
        plugins.to_str().unwrap(),
        "--options",
        &opts,
        "--files",
        "1",
        "--type",
        "R",
    ]);
    run.expect_ok();
    assert!(probe_events(&run, "s").contains(&19), "{}", run.all());
}

#[test]
fn bareos_shipped_class_plugins_run_unmodified_in_two_instances() {
    let tmp = tempfile::tempdir().unwrap();
    let plugins = python_plugin_dir(tmp.path());
    let dir = std::path::Path::new(BAREOS_PLUGINS);
    let run = dirhost(&[
        "run",
        "--plugin-dir",
        plugins.to_str().unwrap(),
        "--options",
        &python_options(0, dir, "bareos-dir-class-plugin", "foo=bar"),
        "--options",
        &python_options(1, dir, "bareos-dir-class-plugin", "foo=baz"),
        "-d",
        "100",
    ]);
    run.expect_ok()
        .expect("Instances:    python3-dir.so:0, python3-dir.so:1");
    for needle in [
        "Constructor called in module BareosDirPluginBaseclass",
        "BareosDirPluginBaseclass",
        "plugin def parser called with foo=bar",
        "plugin def parser called with foo=baz",
        "bDirEventJobStart event triggered",
        "bDirEventJobInit event triggered",
        "bDirEventJobRun event triggered",
        "bDirEventJobEnd event triggered",
    ] {
        run.expect(needle);
    }
    assert_eq!(
        run.stderr
            .matches("bDirEventJobEnd event triggered")
            .count(),
        2,
        "{}",
        run.all()
    );

    let run = sdhost(&[
        "run",
        "--plugin-dir",
        plugins.to_str().unwrap(),
        "--options",
        &python_options(0, dir, "bareos-sd-class-plugin", "a=1"),
        "--options",
        &python_options(1, dir, "bareos-sd-class-plugin", "a=2"),
        "-d",
        "100",
    ]);
    run.expect_ok()
        .expect("Instances:    python3-sd.so:0, python3-sd.so:1");
    for needle in [
        "Constructor called in module BareosSdPluginBaseclass",
        "plugin def parser called with a=1",
        "plugin def parser called with a=2",
        "bsdEventJobStart event triggered",
        "bsdEventJobEnd event triggered",
    ] {
        run.expect(needle);
    }
    assert_eq!(
        run.stderr.matches("bsdEventJobEnd event triggered").count(),
        2,
        "{}",
        run.all()
    );
}

#[test]
fn a_segfaulting_plugin_fails_only_its_job() {
    let tmp = tempfile::tempdir().unwrap();
    let plugins = python_plugin_dir(tmp.path());
    let crash = python_options(0, &test_plugins(), "v4host_probe", "tag=c:crash=3");
    let good = python_options(0, &test_plugins(), "v4host_probe", "tag=g");
    for (bin, sd) in [(dirhost as fn(&[&str]) -> Run, false), (sdhost, true)] {
        let (crash, good) = if sd {
            (format!("{crash}:daemon=sd"), format!("{good}:daemon=sd"))
        } else {
            (crash.clone(), good.clone())
        };
        let crash = if sd {
            crash.replace("crash=3", "crash=6")
        } else {
            crash
        };
        let run = bin(&[
            "jobs",
            "--plugin-dir",
            plugins.to_str().unwrap(),
            "--job-options",
            &crash,
            "--job-options",
            &good,
        ]);
        // The host survives and runs the next job; the exit status says a
        // job failed.
        run.expect_failure();
        let name = if sd { "sdhost" } else { "dirhost" };
        let job1: Vec<&str> = run
            .stdout
            .lines()
            .filter(|l| l.contains(" JobId 1: "))
            .collect();
        let job2: Vec<&str> = run
            .stdout
            .lines()
            .filter(|l| l.contains(" JobId 2: "))
            .collect();
        assert!(
            job1.iter()
                .any(|l| l.starts_with(&format!("{name} JobId 1: Fatal error: "))),
            "{}",
            run.all()
        );
        assert!(
            job1.iter().any(|l| l.contains("*** Backup Error ***")),
            "{}",
            run.all()
        );
        assert!(
            job1.iter()
                .any(|l| l.to_lowercase().contains("sig") || l.contains("crash")),
            "the fatal message names the crash:\n{}",
            run.all()
        );
        assert!(
            job2.iter().any(|l| l.contains("Termination:  Backup OK")),
            "{}",
            run.all()
        );
        assert!(
            job2.iter().any(|l| l.contains("v4probe[g] event 2")),
            "{}",
            run.all()
        );
    }
}

#[test]
fn a_missing_module_is_named() {
    let tmp = tempfile::tempdir().unwrap();
    let plugins = python_plugin_dir(tmp.path());
    let opts = python_options(0, &test_plugins(), "no_such_module_v4", "");
    let run = dirhost(&[
        "run",
        "--plugin-dir",
        plugins.to_str().unwrap(),
        "--options",
        &opts,
    ]);
    run.expect_failure().expect("no_such_module_v4");
    assert!(
        run.lines_with("Fatal error")
            .iter()
            .any(|l| l.contains("no_such_module_v4")),
        "{}",
        run.all()
    );
    let run = sdhost(&[
        "run",
        "--plugin-dir",
        plugins.to_str().unwrap(),
        "--options",
        &opts,
    ]);
    run.expect_failure().expect("no_such_module_v4");
}

#[test]
fn repeat_runs_jobs_in_one_process() {
    let tmp = tempfile::tempdir().unwrap();
    let plugins = python_plugin_dir(tmp.path());
    let opts = python_options(0, &test_plugins(), "v4host_probe", "tag=r");
    let run = dirhost(&[
        "run",
        "--plugin-dir",
        plugins.to_str().unwrap(),
        "--options",
        &opts,
        "--repeat",
        "3",
        "--jobid",
        "10",
    ]);
    run.expect_ok();
    for id in 10..13 {
        run.expect(&format!("dirhost JobId {id}:   Termination:  Backup OK"));
    }
}
