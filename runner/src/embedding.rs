//! Brings up the CPython the runner embeds: the one it was built against,
//! whatever the environment of the daemon that started it.
//!
//! CPython finds its standard library from PYTHONHOME or, failing that, by
//! guessing from the program's location and PATH. A daemon started by a
//! service manager has `PATH=/usr/sbin:/usr/bin:/sbin:/bin` and nothing
//! else, so the guess lands on the system's `python3` and loads another
//! build's standard library (`No module named '_struct'`). The home is
//! therefore fixed at build time (`build.rs`) and set explicitly, which also
//! makes a stray PYTHONHOME in the daemon's environment harmless.

use std::ffi::{CString, c_char, c_int};
use std::path::Path;

use pyo3::ffi;

/// `sys.base_prefix` of the Python the runner was built against.
pub const HOME: &str = env!("SIDECAR_PYTHON_HOME");
/// Its standard library directory (checked before start).
pub const STDLIB: &str = env!("SIDECAR_PYTHON_STDLIB");
/// Its interpreter, which becomes `sys.executable` (plugins that start
/// `sys.executable` get the same Python, not `sidecar-runner`).
pub const EXECUTABLE: &str = env!("SIDECAR_PYTHON_EXECUTABLE");

/// How the interpreter is brought up.
pub enum Mode<'a> {
    /// Hosting a plugin: no signal handlers (the shim owns the runner's
    /// signals), the GIL released on return for pyo3.
    Plugin,
    /// `sidecar-runner python ARGS`: CPython's own command line.
    CommandLine(&'a [CString]),
}

/// Where the runner's Python is, for the job log.
pub fn describe() -> String {
    format!("{EXECUTABLE} (home {HOME})")
}

/// Fails with a message naming the missing Python before CPython would
/// abort with a fatal error about encodings.
pub fn check() -> Result<(), String> {
    check_stdlib(Path::new(STDLIB))
}

fn check_stdlib(stdlib: &Path) -> Result<(), String> {
    let landmark = stdlib.join("os.py");
    if landmark.is_file() {
        Ok(())
    } else {
        Err(format!(
            "the Python this runner was built with is gone: {} does not exist \
             (runner built against {EXECUTABLE}, home {HOME}); reinstall that Python \
             or rebuild bareos-sidecar against an installed one",
            landmark.display()
        ))
    }
}

/// Initialises CPython with its home set (see the module doc).
pub fn initialize(mode: Mode<'_>) -> Result<(), String> {
    check()?;
    let home = CString::new(HOME).map_err(|e| e.to_string())?;
    let executable = CString::new(EXECUTABLE).map_err(|e| e.to_string())?;
    // SAFETY: `config` is initialised by PyConfig_InitPythonConfig before
    // any other use and cleared on every path; the strings are valid
    // NUL-terminated C strings that outlive the calls that copy them; this
    // runs once per process, before anything else touches Python.
    unsafe {
        let mut config = std::mem::MaybeUninit::<ffi::PyConfig>::zeroed();
        ffi::PyConfig_InitPythonConfig(config.as_mut_ptr());
        let config = config.assume_init_mut();
        let mut status = ffi::PyConfig_SetBytesString(config, &mut config.home, home.as_ptr());
        if ffi::PyStatus_Exception(status) == 0 {
            status =
                ffi::PyConfig_SetBytesString(config, &mut config.executable, executable.as_ptr());
        }
        if ffi::PyStatus_Exception(status) == 0 {
            match mode {
                Mode::Plugin => {
                    config.install_signal_handlers = 0;
                    config.parse_argv = 0;
                }
                Mode::CommandLine(args) => {
                    let mut argv: Vec<*const c_char> = args.iter().map(|a| a.as_ptr()).collect();
                    status = ffi::PyConfig_SetBytesArgv(
                        config,
                        argv.len() as ffi::Py_ssize_t,
                        argv.as_mut_ptr(),
                    );
                }
            }
        }
        if ffi::PyStatus_Exception(status) == 0 {
            status = ffi::Py_InitializeFromConfig(config);
        }
        ffi::PyConfig_Clear(config);
        if ffi::PyStatus_IsExit(status) != 0 {
            // `--help`, `--version` and the like on the command line.
            ffi::Py_ExitStatusException(status);
        }
        if ffi::PyStatus_Exception(status) != 0 {
            let why = if status.err_msg.is_null() {
                "unknown error".to_string()
            } else {
                std::ffi::CStr::from_ptr(status.err_msg)
                    .to_string_lossy()
                    .into_owned()
            };
            return Err(format!("cannot initialise Python {}: {why}", describe()));
        }
        if matches!(mode, Mode::Plugin) {
            // pyo3 expects an initialised interpreter with the GIL free.
            ffi::PyEval_SaveThread();
        }
    }
    Ok(())
}

/// Runs `sidecar-runner python ARGS` (argv[0] first) after [`initialize`]
/// with [`Mode::CommandLine`]; returns CPython's exit status.
pub fn run_main() -> c_int {
    // SAFETY: called once, after a successful Py_InitializeFromConfig.
    unsafe { ffi::Py_RunMain() }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_python_built_against_is_there() {
        check().unwrap();
    }

    #[test]
    fn a_missing_python_is_named() {
        let gone = Path::new("/nonexistent/python/lib/python3.11");
        let err = check_stdlib(gone).unwrap_err();
        assert!(
            err.contains("/nonexistent/python/lib/python3.11/os.py"),
            "{err}"
        );
        assert!(err.contains(EXECUTABLE), "{err}");
    }
}
