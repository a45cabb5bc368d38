//! What every daemon's dispatcher does with the plugin's Python module
//! (python-api §4, §6; dir-sd-api §4.5, §4.6): put the module directories on
//! `sys.path`, import the module and call `load_bareos_plugin`, call entry
//! points looked up at every call, convert their results, report
//! exceptions, and end the interpreter's threads at freePlugin. The FD's
//! dispatcher (`plugin`) and the director's and storage daemon's
//! (`dirsd_plugin`) differ in the calls they handle and in how they word
//! their messages ([`Voice`]).

use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, Ordering};

use pyo3::exceptions::PyModuleNotFoundError;
use pyo3::prelude::*;
use pyo3::types::PyList;

use crate::bareosfd::constants::{BRC_ERROR, M_ERROR, M_FATAL};
use crate::core;

/// Debug level of the plugins' diagnostics.
pub(crate) const DEBUG_LEVEL: i32 = 150;

/// How a dispatcher words what it reports.
pub(crate) struct Voice {
    /// Names the plugin in the runner's own messages (`python3-fd
    /// (sidecar): ...`).
    pub plugin: &'static str,
    /// Before a reported traceback (`bareosfd: `).
    pub traceback: &'static str,
    /// Before the note that `load_bareos_plugin` is missing.
    pub load_note: &'static str,
    /// Before the note that another entry point is missing.
    pub call_note: &'static str,
}

/// python3-fd.
pub(crate) const FD: Voice = Voice {
    plugin: "python3-fd",
    traceback: "bareosfd: ",
    load_note: "python3-fd: ",
    call_note: "python3-fd-mod: ",
};

/// The directory python3-fd (python3-dir, python3-sd) puts first on
/// `sys.path` before `module_path` (its compiled-in module path, the
/// daemon's plugin directory): the shim names it in the handshake.
static DEFAULT_MODULE_DIR: OnceLock<String> = OnceLock::new();

pub fn set_default_module_dir(dir: String) {
    let _ = DEFAULT_MODULE_DIR.set(dir);
}

/// In-process hosting runs several plugin instances in one interpreter, as
/// python3-fd does; it gives each its own interpreter (Py_NewInterpreter),
/// so each job has its own module globals. Without sub-interpreters the
/// nearest equivalent is a private copy of the plugin module per instance,
/// executed from its spec and not entered in `sys.modules`.
static PRIVATE_MODULES: AtomicBool = AtomicBool::new(false);

pub fn set_private_modules(on: bool) {
    PRIVATE_MODULES.store(on, Ordering::SeqCst);
}

/// `importlib.import_module(name)`, or a private copy (see `PRIVATE_MODULES`).
fn import<'py>(py: Python<'py>, name: &str) -> PyResult<Bound<'py, PyAny>> {
    if !PRIVATE_MODULES.load(Ordering::SeqCst) {
        return py
            .import("importlib")
            .and_then(|m| m.call_method1("import_module", (name,)));
    }
    let util = py.import("importlib.util")?;
    let spec = util.call_method1("find_spec", (name,))?;
    if spec.is_none() {
        return Err(PyModuleNotFoundError::new_err(format!(
            "No module named '{name}'"
        )));
    }
    let module = util.call_method1("module_from_spec", (&spec,))?;
    spec.getattr("loader")?
        .call_method1("exec_module", (&module,))?;
    Ok(module)
}

/// The plugin's module and what has been done to load it.
#[derive(Default)]
pub(crate) struct Loader {
    module: Option<Py<PyModule>>,
    default_dir_added: bool,
    module_path_added: bool,
}

impl Loader {
    /// The loaded module (set once `load_bareos_plugin` returned).
    pub(crate) fn module(&self) -> Option<&Py<PyModule>> {
        self.module.as_ref()
    }

    pub(crate) fn loaded(&self) -> bool {
        self.module.is_some()
    }

    /// Puts the default module directory, then `module_path`, first on
    /// `sys.path` (each once), imports `module_name` and calls
    /// `load_bareos_plugin(opts)`; `Ok(rc)` once the module counts as
    /// loaded, `Err(rc)` otherwise (nothing is loaded, a later options
    /// event tries again).
    pub(crate) fn load(
        &mut self,
        py: Python<'_>,
        voice: &Voice,
        module_path: Option<&str>,
        module_name: Option<&str>,
        opts: &str,
    ) -> Result<i32, i32> {
        let sys_path = py
            .import("sys")
            .and_then(|s| s.getattr("path"))
            .map_err(|e| report(py, voice, &e))?;
        let sys_path = sys_path.downcast::<PyList>().map_err(|_| BRC_ERROR)?;
        if !self.default_dir_added {
            if let Some(dir) = DEFAULT_MODULE_DIR.get() {
                sys_path.insert(0, dir).map_err(|e| report(py, voice, &e))?;
            }
            self.default_dir_added = true;
        }
        if !self.module_path_added
            && let Some(dir) = module_path
        {
            sys_path.insert(0, dir).map_err(|e| report(py, voice, &e))?;
            self.module_path_added = true;
        }
        let Some(name) = module_name else {
            return Err(BRC_ERROR); // silently, as the in-process plugins
        };
        // A debugger asked for attaches before the plugin's code runs.
        crate::debugger::start(py).map_err(|e| report(py, voice, &e))?;
        let module = match import(py, name) {
            Ok(m) => m,
            Err(e) => {
                if e.is_instance_of::<PyModuleNotFoundError>(py) {
                    let searched: Vec<String> = sys_path
                        .iter()
                        .map(|p| p.str().map(|s| s.to_string()).unwrap_or_default())
                        .collect();
                    let _ = core::job_message(
                        M_FATAL,
                        format!(
                            "{} (sidecar): cannot import module_name={name}: {}; searched sys.path: {}\n",
                            voice.plugin,
                            e.value(py),
                            searched.join(", ")
                        ),
                    );
                    return Err(BRC_ERROR);
                }
                return Err(report(py, voice, &e));
            }
        };
        let module = module.downcast_into::<PyModule>().map_err(|_| BRC_ERROR)?;
        let Some(load) = entry_point(&module, "load_bareos_plugin") else {
            let _ = core::debug_message(
                DEBUG_LEVEL,
                format!(
                    "{}Failed to find function named load_bareos_plugin()\n",
                    voice.load_note
                ),
            );
            return Err(BRC_ERROR);
        };
        let rc = match load.call1((opts,)) {
            Ok(r) => return_code(voice, "load_bareos_plugin", &r),
            Err(e) => return Err(report(py, voice, &e)),
        };
        self.module = Some(module.unbind());
        Ok(rc)
    }

    /// Calls an entry point of the loaded module (looked up at every call,
    /// python-api §1.3) and converts its return value.
    pub(crate) fn call<'py>(
        &self,
        py: Python<'py>,
        voice: &Voice,
        name: &str,
        args: impl pyo3::call::PyCallArgs<'py>,
    ) -> i32 {
        let Some(module) = &self.module else {
            let _ = core::debug_message(
                DEBUG_LEVEL,
                format!(
                    "{}Failed to find function named {name}() (no module loaded)\n",
                    voice.call_note
                ),
            );
            return BRC_ERROR;
        };
        let Some(f) = entry_point(module.bind(py), name) else {
            let _ = core::debug_message(
                DEBUG_LEVEL,
                format!(
                    "{}Failed to find function named {name}()\n",
                    voice.call_note
                ),
            );
            return BRC_ERROR;
        };
        match f.call1(args) {
            Ok(r) => return_code(voice, name, &r),
            Err(e) => report(py, voice, &e),
        }
    }
}

/// With a daemon attached, Python's stdout and stderr become messages
/// (`stdio`).
pub(crate) fn capture_stdio(py: Python<'_>) {
    if core::attached()
        && let Err(e) = crate::stdio::capture(py)
    {
        tracing::warn!("cannot capture Python's stdout/stderr: {e}");
    }
}

/// A callable attribute of the module, looked up at every call.
pub(crate) fn entry_point<'py>(
    module: &Bound<'py, PyModule>,
    name: &str,
) -> Option<Bound<'py, PyAny>> {
    module
        .dict()
        .get_item(name)
        .ok()
        .flatten()
        .filter(|f| f.is_callable())
}

/// An entry point's result as a bRC (python-api §6.1). Decision D1: a
/// non-int is bRC_Error with a message naming the function and the type,
/// and nothing is left pending for the next call.
pub(crate) fn return_code(voice: &Voice, name: &str, value: &Bound<'_, PyAny>) -> i32 {
    let plugin = voice.plugin;
    match value.extract::<i64>() {
        Ok(rc) => match i32::try_from(rc) {
            Ok(rc) => rc,
            Err(_) => {
                let _ = core::job_message(
                    M_ERROR,
                    format!(
                        "{plugin} (sidecar): {name}() returned {rc}, which is not a bRC; treated as bRC_Error\n"
                    ),
                );
                BRC_ERROR
            }
        },
        Err(_) => {
            let type_name = value
                .get_type()
                .name()
                .map(|n| n.to_string())
                .unwrap_or_else(|_| "?".into());
            let _ = core::job_message(
                M_ERROR,
                format!(
                    "{plugin} (sidecar): {name}() returned {type_name}, not an int (bRC); treated as bRC_Error\n"
                ),
            );
            BRC_ERROR
        }
    }
}

/// Reports a Python exception the way the in-process plugins do
/// (python-api §6.2, dir-sd-api §4.6): the formatted traceback after the
/// voice's prefix as a fatal job message and at debug level 150.
pub(crate) fn report(py: Python<'_>, voice: &Voice, err: &PyErr) -> i32 {
    let text = py
        .import("traceback")
        .and_then(|tb| {
            tb.call_method1(
                "format_exception",
                (err.get_type(py), err.value(py), err.traceback(py)),
            )
        })
        .and_then(|lines| {
            let lines: Vec<String> = lines.extract()?;
            Ok(lines.concat())
        })
        .unwrap_or_else(|_| format!("{err}\n"));
    let msg = format!("{}{text}\n", voice.traceback);
    let _ = core::debug_message(DEBUG_LEVEL, msg.clone());
    let _ = core::job_message(M_FATAL, msg);
    BRC_ERROR
}

/// Daemon strings are bytes; Python wants strict UTF-8 `str`.
pub(crate) fn text(voice: &Voice, bytes: &[u8], what: &str) -> Result<String, i32> {
    String::from_utf8(bytes.to_vec()).map_err(|e| {
        let _ = core::job_message(
            M_FATAL,
            format!(
                "{} (sidecar): {what} is not valid UTF-8: {e}\n",
                voice.plugin
            ),
        );
        BRC_ERROR
    })
}

/// What Python's `Py_EndInterpreter` at freePlugin does before the modules
/// go (python-api §2.4): join the still-running non-daemon threads, then
/// run the `atexit` handlers. The runner exits without finalizing Python,
/// so without this neither would happen. A thread that never ends runs into
/// the shim's deadline for the freePlugin call.
pub(crate) fn end_interpreter(py: Python<'_>, voice: &Voice) {
    for (module, function) in [("threading", "_shutdown"), ("atexit", "_run_exitfuncs")] {
        if let Err(e) = py.import(module).and_then(|m| m.call_method0(function)) {
            report(py, voice, &e);
        }
    }
}
