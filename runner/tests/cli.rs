//! The runner's command line: as a session host it needs the shim's
//! sockets; as `sidecar-runner python` it is an interpreter with `bareosfd`.

use std::process::{Command, Output, Stdio};

fn runner(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_sidecar-runner"))
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("runner starts")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn started_by_hand_it_explains_what_it_needs() {
    let out = runner(&[]);
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert!(err.contains("descriptor 3 is not a socket"), "{err}");
    assert!(err.contains("python3-fd.so"), "{err}");
}

#[test]
fn python_mode_imports_bareosfd_without_a_daemon() {
    let out = runner(&[
        "python",
        "-c",
        "import bareosfd, sys; print(bareosfd.bRCs[b'bRC_More'], bareosfd.bLevels[b'L_FULL'], sys.argv[1:])",
        "x",
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout).trim(), "3 b'F' ['x']");
}

#[test]
fn python_mode_core_functions_raise_runtime_error() {
    let out = runner(&[
        "python",
        "-c",
        "import bareosfd; bareosfd.GetValue(bareosfd.bVarJobId)",
    ]);
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(err.contains("RuntimeError"), "{err}");
    assert!(err.contains("bareos_core_functions is unset"), "{err}");
}

#[test]
fn python_mode_runs_an_example_plugin_function() {
    let examples = concat!(env!("CARGO_MANIFEST_DIR"), "/../python/examples");
    let out = Command::new(env!("CARGO_BIN_EXE_sidecar-runner"))
        .args([
            "python",
            "-c",
            "import sidecar_local_fileset as p; print(sorted(p.parse_options('io=plugin:filename=a\\\\:b:io=core').items()))",
        ])
        .env("PYTHONPATH", examples)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(
        text(&out.stdout).trim(),
        "[('filename', 'a:b'), ('io', 'plugin')]"
    );
}

#[test]
fn python_mode_imports_bareosdir_and_bareossd_without_a_daemon() {
    let out = runner(&[
        "python",
        "-c",
        "import bareosdir, bareossd; print(bareosdir.bRCs['bRC_More'], bareosdir.bDirEventJobRun, \
         bareossd.bsdEventType['bsdEventChangerLock'], bareossd.bsdVarJobBytes)",
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout).trim(), "3 4 23 15");
}

#[test]
fn python_mode_dir_and_sd_core_functions_raise_runtime_error() {
    let out = runner(&[
        "python",
        "-c",
        r#"
import bareosdir, bareossd
for m in (bareosdir, bareossd):
    for f, args in [("GetValue", (1,)), ("SetValue", (1, 1)), ("DebugMessage", (100, "x")),
                    ("JobMessage", (m.M_INFO, "x")), ("RegisterEvents", ([1],)),
                    ("UnRegisterEvents", ([1],)), ("GetInstanceCount", ())]:
        try:
            getattr(m, f)(*args)
        except RuntimeError as e:
            assert "bareos_core_functions is unset (no daemon attached)" in str(e), str(e)
        else:
            raise AssertionError(f"{m.__name__}.{f} did not raise")
print("ok")
"#,
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout).trim(), "ok");
}

/// Bareos's shipped director and storage daemon helpers and example
/// plugins import as they are (they need `bareosdir`/`bareossd`).
#[test]
fn python_mode_imports_bareos_shipped_dir_and_sd_plugins() {
    const BAREOS_PLUGINS: &str = "/opt/bareos/lib/bareos/plugins";
    if !std::path::Path::new(BAREOS_PLUGINS)
        .join("BareosDirPluginBaseclass.py")
        .is_file()
    {
        eprintln!("skipped: Bareos's Python plugins are not installed in {BAREOS_PLUGINS}");
        return;
    }
    let code = format!(
        r#"
import importlib, sys
sys.path.insert(0, {BAREOS_PLUGINS:?})
for name in ["BareosDirPluginBaseclass", "BareosDirWrapper", "bareos-dir-class-plugin",
             "BareosSdPluginBaseclass", "BareosSdWrapper", "bareos-sd-class-plugin"]:
    m = importlib.import_module(name)
    assert m.__file__.startswith({BAREOS_PLUGINS:?}), m.__file__
    if name.startswith("bareos-"):
        assert all(callable(getattr(m, f)) for f in
                   ("load_bareos_plugin", "parse_plugin_definition", "handle_plugin_event")), name
print("ok")
"#
    );
    let out = runner(&["python", "-c", &code]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout).trim(), "ok");
}
