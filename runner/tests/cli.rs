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
