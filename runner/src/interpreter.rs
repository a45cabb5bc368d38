//! `sidecar-runner python [ARGS...]`: the runner as a plain Python
//! interpreter with `bareosfd`, `bareosdir` and `bareossd` importable and no
//! daemon attached, so plugin
//! authors can unit-test their plugins (pytest, unittest) against the same
//! module the daemon will give them. Core functions raise RuntimeError, as
//! they do in process outside a daemon.

use std::ffi::CString;
use std::os::unix::ffi::OsStringExt;

use crate::daemon;
use crate::embedding::{self, Mode};

/// Runs CPython's own command line with `args` (argv[0] first) and returns
/// its exit status.
pub fn main(args: Vec<std::ffi::OsString>) -> std::process::ExitCode {
    daemon::register_modules();
    // Arguments with an interior NUL cannot come from a command line; drop
    // the rest of such an argument as C would.
    let owned: Vec<CString> = args
        .into_iter()
        .map(|a| {
            let mut bytes = a.into_vec();
            bytes.truncate(bytes.iter().position(|&b| b == 0).unwrap_or(bytes.len()));
            CString::new(bytes).expect("NULs removed above")
        })
        .collect();
    if let Err(e) = embedding::initialize(Mode::CommandLine(&owned)) {
        eprintln!("sidecar-runner: {e}");
        return std::process::ExitCode::from(1);
    }
    let status = embedding::run_main();
    std::process::ExitCode::from(status.clamp(0, 255) as u8)
}
