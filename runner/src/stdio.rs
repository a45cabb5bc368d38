//! Python's `sys.stdout`/`sys.stderr` while a daemon is attached (decision
//! D11): in process they are the daemon's streams, usually /dev/null, so
//! `print()` output is lost. Here every complete line becomes a message:
//! stderr lines go to the job log as info messages, stdout lines to the debug
//! log at level 100.

use pyo3::prelude::*;

use crate::bareosfd::constants::M_INFO;
use crate::core;

/// Debug level for stdout lines.
const STDOUT_DEBUG_LEVEL: i32 = 100;
/// A line longer than this is sent in pieces, so a plugin printing without
/// newlines cannot grow the buffer without bound.
const MAX_LINE: usize = 64 * 1024;

#[derive(Clone, Copy)]
enum Sink {
    Stdout,
    Stderr,
}

/// A minimal text stream: `write`, `flush` and the attributes code commonly
/// probes (`encoding`, `isatty`, ...).
#[pyclass(module = "sidecar")]
struct LineWriter {
    sink: Sink,
    pending: String,
}

impl LineWriter {
    fn emit(&self, line: &str) {
        let _ = match self.sink {
            Sink::Stdout => core::debug_message(STDOUT_DEBUG_LEVEL, format!("{line}\n")),
            Sink::Stderr => core::job_message(M_INFO, format!("{line}\n")),
        };
    }
}

#[pymethods]
impl LineWriter {
    fn write(&mut self, text: &str) -> usize {
        self.pending.push_str(text);
        while let Some(nl) = self.pending.find('\n') {
            let line: String = self.pending.drain(..=nl).collect();
            self.emit(line.trim_end_matches('\n'));
        }
        if self.pending.len() > MAX_LINE {
            let line = std::mem::take(&mut self.pending);
            self.emit(&line);
        }
        text.chars().count()
    }

    fn flush(&mut self) {
        if !self.pending.is_empty() {
            let line = std::mem::take(&mut self.pending);
            self.emit(&line);
        }
    }

    fn isatty(&self) -> bool {
        false
    }

    fn writable(&self) -> bool {
        true
    }

    fn readable(&self) -> bool {
        false
    }

    #[getter]
    fn encoding(&self) -> &'static str {
        "utf-8"
    }

    #[getter]
    fn errors(&self) -> &'static str {
        "strict"
    }
}

/// Replaces `sys.stdout` and `sys.stderr`; `sys.__stderr__` stays the
/// process's stderr, where faulthandler writes a crashing plugin's stack
/// (the shim keeps the runner's last output for its crash report).
pub fn capture(py: Python<'_>) -> PyResult<()> {
    let sys = py.import("sys")?;
    for (name, sink) in [("stdout", Sink::Stdout), ("stderr", Sink::Stderr)] {
        let writer = Py::new(
            py,
            LineWriter {
                sink,
                pending: String::new(),
            },
        )?;
        sys.setattr(name, writer)?;
    }
    let faulthandler = py.import("faulthandler")?;
    let stderr = sys.getattr("__stderr__")?;
    faulthandler.call_method1("enable", (&stderr,))?;
    // The shim's request for every thread's stack when the plugin does not
    // return (a deadline, a cancel): written from the signal handler, so it
    // works while the plugin is stuck in C code or holds the GIL.
    let kwargs = pyo3::types::PyDict::new(py);
    kwargs.set_item("file", &stderr)?;
    kwargs.set_item("all_threads", true)?;
    faulthandler.call_method(
        "register",
        (sidecar_proto::STACK_DUMP_SIGNAL,),
        Some(&kwargs),
    )?;
    Ok(())
}

/// `sys`, imported once: an import per call went through importlib and
/// cost more than the rest of the runner's work for the call.
static SYS: pyo3::sync::GILOnceCell<Py<PyModule>> = pyo3::sync::GILOnceCell::new();

/// Sends what is still buffered (at the end of every call, so nothing waits
/// for a newline that never comes). Our own streams with nothing pending
/// are skipped; a stream the plugin put in their place is flushed.
pub fn flush(py: Python<'_>) {
    let Ok(sys) = SYS.get_or_try_init(py, || py.import("sys").map(Bound::unbind)) else {
        return;
    };
    let sys = sys.bind(py);
    for name in ["stdout", "stderr"] {
        let Ok(stream) = sys.getattr(name) else {
            continue;
        };
        if let Ok(ours) = stream.downcast::<LineWriter>()
            && ours.try_borrow().is_ok_and(|w| w.pending.is_empty())
        {
            continue;
        }
        let _ = stream.call_method0("flush");
    }
}
