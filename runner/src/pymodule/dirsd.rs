//! The seven functions of `bareosdir` and `bareossd` (dir-sd-api §5.1) and
//! how either module is put together (§5.2). The two modules differ only in
//! their tables, which variables `GetValue` knows and how, and which events
//! Python may register; a [`Surface`] describes one of them, and
//! [`module_functions!`] gives each module its own `#[pyfunction]`s that
//! delegate here.
//!
//! Argument errors follow the in-process modules: `GetValue`,
//! `DebugMessage`, `JobMessage` and `GetInstanceCount` raise the
//! `TypeError` of `PyArg_ParseTuple` (named `BareosGetValue()` etc.), while
//! `SetValue`, `RegisterEvents` and `UnRegisterEvents` return a value with
//! the exception set, which CPython turns into `SystemError` chained to it.
//! Every function raises `RuntimeError` outside a daemon call (the message
//! functions only without a daemon), where the runner cannot reach the core.

use std::ops::RangeInclusive;

use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::{PyString, PyTuple};
use sidecar_proto::{SetValue, callback, callback_reply, set_value};

use super::{
    BRCS, JOB_MESSAGE_TYPES, Keys, add, add_numbers, arity, call, call_rc, check_attached,
    check_core, int_arg, str_or_none_arg, system_error,
};
use crate::bareosfd::constants::{BRC_ERROR, BRC_OK};
use crate::core;
use crate::daemon::{self, Daemon};

/// Debug level of the modules' own notes.
const DEBUG_LEVEL: i32 = 100;

/// How `GetValue` presents a variable.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Shape {
    /// A C `int`.
    Int,
    /// Read as an unsigned 64-bit number.
    U64,
    /// A C string; NULL reads `None`.
    Str,
}

/// The numbers of the write variables (`bwDirVariable`, `bsdwVariable`).
pub(crate) struct WriteVariables {
    pub job_report: i32,
    pub volume_name: i32,
    pub priority: i32,
    pub job_level: i32,
}

/// One module.
pub(crate) struct Surface {
    pub daemon: Daemon,
    pub doc: &'static str,
    /// Which variables `GetValue` asks the core about, and how it shows them.
    pub shape: fn(i32) -> Option<Shape>,
    pub write: WriteVariables,
    /// The events Python may register.
    pub events: RangeInclusive<i32>,
    /// The read and write variable dicts' names and `sidecar_proto::variables`' tables.
    pub variables: (&'static str, &'static [(&'static str, i32)]),
    pub write_variables: (&'static str, &'static [(&'static str, i32)]),
    /// The event dict's name and `sidecar_proto::events`' table.
    pub event_table: (&'static str, &'static [(&'static str, u32)]),
}

/// Fills a freshly created module: functions first, then the dicts, whose
/// entries also become attributes.
pub(crate) fn init(
    m: &Bound<'_, PyModule>,
    surface: &Surface,
    add_functions: fn(&Bound<'_, PyModule>) -> PyResult<()>,
) -> PyResult<()> {
    daemon::check_import(surface.daemon)?;
    add_functions(m)?;
    for table in [JOB_MESSAGE_TYPES, BRCS] {
        add(m, Keys::Str, table)?;
    }
    for (name, entries) in [surface.variables, surface.write_variables] {
        add_numbers(m, Keys::Str, name, entries)?;
    }
    let (name, events) = surface.event_table;
    add_numbers(m, Keys::Str, name, events)?;
    m.setattr("__doc__", surface.doc)?;
    Ok(())
}

/// The module's own debug notes: no prefix, a newline appended.
fn note(text: String) {
    let _ = core::debug_message(DEBUG_LEVEL, format!("{text}\n"));
}

/// The Python value of a core answer; `None` when the core gave none (or
/// one of another type).
pub(crate) fn present(
    py: Python<'_>,
    shape: Shape,
    value: Option<callback_reply::Value>,
) -> PyResult<PyObject> {
    use callback_reply::Value;
    Ok(match (shape, value) {
        // The core writes a C int.
        (Shape::Int, Some(Value::Number(n))) => (n as i32).into_pyobject(py)?.into_any().unbind(),
        (Shape::U64, Some(Value::Bits(n))) => n.into_pyobject(py)?.into_any().unbind(),
        (Shape::U64, Some(Value::Number(n))) => (n as u64).into_pyobject(py)?.into_any().unbind(),
        (Shape::Str, Some(Value::Text(t))) => {
            crate::bareosfd::attr::decode(py, &t)?.into_any().unbind()
        }
        _ => py.None(),
    })
}

/// `GetValue(var)`.
pub(crate) fn get_value(
    py: Python<'_>,
    surface: &Surface,
    args: &Bound<'_, PyTuple>,
) -> PyResult<PyObject> {
    let a = arity(args, "BareosGetValue", 1, 1)?;
    let var = int_arg(&a[0])?;
    check_core()?;
    let Some(shape) = (surface.shape)(var) else {
        note(format!("PyBareosGetValue unknown variable requested {var}"));
        return Ok(py.None());
    };
    let reply = call(py, callback::Kind::GetValue(var))?;
    if reply.rc != BRC_OK {
        return Ok(py.None());
    }
    // A string that is not UTF-8 fails the conversion, and the module
    // returns None with that exception set.
    present(py, shape, reply.value).map_err(|e| system_error(py, "GetValue", e))
}

/// `SetValue(var, value)`.
pub(crate) fn set_value(
    py: Python<'_>,
    surface: &Surface,
    args: &Bound<'_, PyTuple>,
) -> PyResult<i32> {
    let sys = |e| system_error(py, "SetValue", e);
    let a = arity(args, "BareosSetValue", 2, 2).map_err(sys)?;
    let var = int_arg(&a[0]).map_err(sys)?;
    let value = &a[1];
    check_core()?;
    let w = &surface.write;
    let value = if var == w.job_report {
        return Ok(BRC_OK);
    } else if var == w.volume_name {
        let s = value.downcast::<PyString>().map_err(|_| {
            sys(PyTypeError::new_err(
                "bad argument type for built-in operation",
            ))
        })?;
        let mut text = s.to_str().map_err(sys)?.as_bytes().to_vec();
        // The core copies a C string.
        text.truncate(text.iter().position(|&b| b == 0).unwrap_or(text.len()));
        set_value::Value::Text(text)
    } else if var == w.priority || var == w.job_level {
        // PyLong_AsLong, stored in a C int.
        let n = value.extract::<i64>().map_err(sys)? as i32;
        if n < 0 {
            return Ok(BRC_ERROR);
        }
        set_value::Value::Number(n.into())
    } else {
        note(format!("PyBareosSetValue unknown variable requested {var}"));
        return Ok(BRC_ERROR);
    };
    call_rc(
        py,
        callback::Kind::SetValue(SetValue {
            var,
            value: Some(value),
        }),
    )
}

/// DebugMessage/JobMessage: `(int, str or None)`, the text sent with a
/// newline appended.
fn message(args: &Bound<'_, PyTuple>, name: &str) -> PyResult<(i32, Option<Vec<u8>>)> {
    let a = arity(args, name, 1, 2)?;
    let number = int_arg(&a[0])?;
    let mut text = str_or_none_arg(a.get(1), name, 2)?;
    check_attached()?;
    if let Some(t) = &mut text {
        t.push(b'\n');
    }
    Ok((number, text))
}

/// `DebugMessage(level, msg=None)`: one-way, fine from any thread.
pub(crate) fn debug_message(args: &Bound<'_, PyTuple>) -> PyResult<()> {
    if let (level, Some(text)) = message(args, "BareosDebugMessage")? {
        core::debug_message(level, text).map_err(super::core_error)?;
    }
    Ok(())
}

/// `JobMessage(type, msg=None)`: one-way, fine from any thread.
pub(crate) fn job_message(args: &Bound<'_, PyTuple>) -> PyResult<()> {
    if let (ty, Some(text)) = message(args, "BareosJobMessage")? {
        core::job_message(ty, text).map_err(super::core_error)?;
    }
    Ok(())
}

/// `PySequence_Fast`: any iterable, as a list of its items.
fn items<'py>(v: &Bound<'py, PyAny>) -> PyResult<Vec<Bound<'py, PyAny>>> {
    let iter = v.try_iter().map_err(|e| {
        if e.is_instance_of::<PyTypeError>(v.py()) {
            PyTypeError::new_err("Expected a sequence of events")
        } else {
            e
        }
    })?;
    iter.collect()
}

/// RegisterEvents/UnRegisterEvents: each event of the module's range is
/// handed to the core on its own, stopping at the first failure; the result
/// is that of the last core call, bRC_Error without one. An element that is
/// not an int is skipped, and its error surfaces at the end.
pub(crate) fn events(
    py: Python<'_>,
    surface: &Surface,
    args: &Bound<'_, PyTuple>,
    register: bool,
) -> PyResult<i32> {
    let (name, parse_name) = if register {
        ("RegisterEvents", "BareosRegisterEvents")
    } else {
        ("UnRegisterEvents", "BareosUnRegisterEvents")
    };
    let sys = |e| system_error(py, name, e);
    let a = arity(args, parse_name, 1, 1).map_err(sys)?;
    check_core()?;
    let mut rc = BRC_ERROR;
    let mut pending = None;
    for item in items(&a[0]).map_err(sys)? {
        // PyLong_AsLong into a C int; a failure reads -1.
        let event = match item.extract::<i64>() {
            Ok(n) => n as i32,
            Err(e) => {
                pending = Some(e);
                -1
            }
        };
        if !surface.events.contains(&event) {
            continue;
        }
        let ev = sidecar_proto::Events {
            events: vec![event as u32],
        };
        let kind = if register {
            note(format!("PyBareosRegisterEvents registering event {event}"));
            callback::Kind::RegisterEvents(ev)
        } else {
            note(format!(
                "PyBareosUnRegisterEvents: unregistering event {event}"
            ));
            callback::Kind::UnregisterEvents(ev)
        };
        rc = call_rc(py, kind)?;
        if rc != BRC_OK {
            break;
        }
    }
    match pending {
        Some(e) => Err(sys(e)),
        None => Ok(rc),
    }
}

/// `GetInstanceCount()`: the core's count, or None.
pub(crate) fn get_instance_count(py: Python<'_>, args: &Bound<'_, PyTuple>) -> PyResult<PyObject> {
    arity(args, "BareosGetInstanceCount", 0, 0)?;
    check_core()?;
    let reply = call(
        py,
        callback::Kind::GetInstanceCount(sidecar_proto::Empty {}),
    )?;
    Ok(match reply.value {
        Some(callback_reply::Value::Number(n)) if reply.rc == BRC_OK => {
            (n as i32).into_pyobject(py)?.into_any().unbind()
        }
        _ => py.None(),
    })
}

/// Defines the seven `#[pyfunction]`s of a module described by the
/// [`Surface`] `$surface`, and `add_functions`, which adds them.
macro_rules! module_functions {
    ($surface:path) => {
        use pyo3::types::PyTuple;
        use $crate::pymodule::dirsd as f;

        #[pyfunction]
        #[pyo3(name = "GetValue", signature = (*args))]
        fn get_value(py: Python<'_>, args: &Bound<'_, PyTuple>) -> PyResult<PyObject> {
            f::get_value(py, &$surface, args)
        }

        #[pyfunction]
        #[pyo3(name = "SetValue", signature = (*args))]
        fn set_value(py: Python<'_>, args: &Bound<'_, PyTuple>) -> PyResult<i32> {
            f::set_value(py, &$surface, args)
        }

        #[pyfunction]
        #[pyo3(name = "DebugMessage", signature = (*args))]
        fn debug_message(args: &Bound<'_, PyTuple>) -> PyResult<()> {
            f::debug_message(args)
        }

        #[pyfunction]
        #[pyo3(name = "JobMessage", signature = (*args))]
        fn job_message(args: &Bound<'_, PyTuple>) -> PyResult<()> {
            f::job_message(args)
        }

        #[pyfunction]
        #[pyo3(name = "RegisterEvents", signature = (*args))]
        fn register_events(py: Python<'_>, args: &Bound<'_, PyTuple>) -> PyResult<i32> {
            f::events(py, &$surface, args, true)
        }

        #[pyfunction]
        #[pyo3(name = "UnRegisterEvents", signature = (*args))]
        fn unregister_events(py: Python<'_>, args: &Bound<'_, PyTuple>) -> PyResult<i32> {
            f::events(py, &$surface, args, false)
        }

        #[pyfunction]
        #[pyo3(name = "GetInstanceCount", signature = (*args))]
        fn get_instance_count(py: Python<'_>, args: &Bound<'_, PyTuple>) -> PyResult<PyObject> {
            f::get_instance_count(py, args)
        }

        pub(crate) fn add_functions(m: &Bound<'_, PyModule>) -> PyResult<()> {
            m.add_function(wrap_pyfunction!(get_value, m)?)?;
            m.add_function(wrap_pyfunction!(set_value, m)?)?;
            m.add_function(wrap_pyfunction!(debug_message, m)?)?;
            m.add_function(wrap_pyfunction!(job_message, m)?)?;
            m.add_function(wrap_pyfunction!(register_events, m)?)?;
            m.add_function(wrap_pyfunction!(unregister_events, m)?)?;
            m.add_function(wrap_pyfunction!(get_instance_count, m)?)?;
            Ok(())
        }
    };
}
pub(crate) use module_functions;
