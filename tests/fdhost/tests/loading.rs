//! Plugin discovery and the compatibility checks (fd-abi §1, §2).

mod c_plugins;

use c_plugins::{Env, GOOD};

fn bad(env: &Env) {
    env.add(env!("FDHOST_TEST_BAD_MAGIC"), "badmagic-fd.so")
        .add(env!("FDHOST_TEST_BAD_VERSION"), "badversion-fd.so")
        .add(env!("FDHOST_TEST_BAD_LICENSE"), "badlicense-fd.so")
        .add(env!("FDHOST_TEST_BAD_SIZE"), "badsize-fd.so")
        .add(env!("FDHOST_TEST_NO_UNLOAD"), "nounload-fd.so")
        .add(env!("FDHOST_TEST_LOAD_FAILS"), "loadfails-fd.so")
        .add(env!("FDHOST_TEST_LOWER_LICENSE"), "lowerlic-fd.so");
}

#[test]
fn incompatible_plugins_are_refused_naming_the_check() {
    let env = Env::new();
    bad(&env);
    env.add(GOOD, "good-fd.so");
    let b = env.fdhost(
        "backup",
        &["--plugin", "good:", "--archive", &env.archive()],
    );
    let out = &b.stdout;
    for want in [
        "fdhost: Error: Plugin magic wrong. Plugin=badmagic-fd.so wanted=*FDPluginData* got=*DirPluginData*\n",
        "fdhost: Error: Plugin version incorrect. Plugin=badversion-fd.so wanted=10 got=9\n",
        "fdhost: Error: Plugin license incompatible. Plugin=badlicense-fd.so license=GPLv2\n",
        "fdhost: Error: Plugin size incorrect. Plugin=badsize-fd.so wanted=64 got=56\n",
    ] {
        assert!(out.contains(want), "missing {want:?}");
    }
    assert!(out.lines().any(
        |l| l.starts_with("fdhost: Error: Lookup of unloadPlugin in plugin ")
            && l.contains("nounload-fd.so failed: ERR=")
    ));
    // A failing loadPlugin is refused silently; a lower-case license passes.
    assert!(!out.contains("loadfails"));
    assert!(!out.contains("lowerlic"));
    // Every refused plugin that loaded got unloadPlugin; the accepted ones
    // get it at exit.
    for d in [
        "badmagic",
        "badversion",
        "badlicense",
        "badsize",
        "loadfails",
        "lowerlic",
    ] {
        assert!(
            b.trace.contains(&format!("unloadPlugin {d}\n")),
            "no unloadPlugin for {d}"
        );
    }
    // ... and the good plugin in the same directory still runs the job.
    assert!(b.ok);
    assert_eq!(b.termination(), "Backup OK");
    assert_eq!(b.report("FD Files Written"), "6");
}

#[test]
fn plugin_names_select_the_files_to_load() {
    let env = Env::new();
    bad(&env);
    env.add(GOOD, "good-fd.so");
    let b = env.fdhost(
        "estimate",
        &["--plugin-names", "good,lowerlic", "--plugin", "good:"],
    );
    assert!(b.ok);
    assert!(!b.stdout.contains("fdhost: Error:"), "{}", b.stdout);
    assert!(b.trace.contains("unloadPlugin lowerlic"));
    assert!(!b.trace.contains("unloadPlugin badmagic"));
}

#[test]
fn symlinked_plugins_are_skipped() {
    let env = Env::new();
    let real = env.path("elsewhere-fd.so");
    std::fs::copy(GOOD, &real).unwrap();
    std::os::unix::fs::symlink(&real, env.plugins().join("good-fd.so")).unwrap();
    let b = env.fdhost(
        "backup",
        &["--plugin", "good:", "--archive", &env.archive()],
    );
    assert_eq!(b.code, Some(1));
    assert!(b.trace.is_empty(), "a symlinked plugin was loaded");
    assert!(
        b.stdout
            .contains("fdhost: Warning: Failed to find any plugins in ")
    );
    assert!(b.stdout.contains(
        "fdhost JobId 1: Fatal error: PluginSave: Command plugin \"good:\" requested, but is not loaded.\n"
    ));
    // Also with Plugin Names.
    let b = env.fdhost(
        "backup",
        &[
            "--plugin-names",
            "good",
            "--plugin",
            "good:",
            "--archive",
            &env.archive(),
        ],
    );
    assert_eq!(b.code, Some(1));
    assert!(b.trace.is_empty());

    // Beside a real plugin file, the symlink is still not loaded twice.
    std::fs::remove_file(env.plugins().join("good-fd.so")).unwrap();
    env.add(GOOD, "good-fd.so");
    std::os::unix::fs::symlink(&real, env.plugins().join("alias-fd.so")).unwrap();
    let b = env.fdhost("estimate", &["--plugin", "good:"]);
    assert!(b.ok);
    assert_eq!(b.trace.matches("loadPlugin api").count(), 1);
}

#[test]
fn a_name_one_char_short_still_routes() {
    // As `python:` reaches python3-fd.so: `good:` reaches good3-fd.so.
    let env = Env::new();
    env.add(GOOD, "good3-fd.so");
    let b = env.fdhost(
        "backup",
        &["--plugin", "good:", "--archive", &env.archive()],
    );
    assert!(b.ok);
    assert_eq!(b.termination(), "Backup OK");
    // ...but not two characters short.
    let b = env.fdhost("backup", &["--plugin", "goo:", "--archive", &env.archive()]);
    assert_eq!(b.code, Some(1));
    assert!(b.stdout.contains("Command plugin \"goo:\" not found."));
}

#[test]
fn unreadable_plugin_directory_terminates() {
    let env = Env::new();
    let missing = env.path("nope");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_fdhost"))
        .args([
            "estimate",
            "--plugin-dir",
            missing.to_str().unwrap(),
            "--plugin",
            "x:",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stdout).contains("Failed to open Plugin directory"));
}
