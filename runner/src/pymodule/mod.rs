//! What the three built-in modules (`bareosfd`, `bareosdir`, `bareossd`)
//! share: the constant tables common to all daemons and how a table becomes
//! a dict plus module attributes, the argument parsing that reproduces
//! `PyArg_ParseTuple`'s observable errors, and the way a function reaches
//! the core ([`crate::core`]). `dirsd` holds the functions the director's
//! and the storage daemon's modules have in common.

pub(crate) mod dirsd;

#[cfg(test)]
mod tests;

use pyo3::exceptions::{PyOverflowError, PyRuntimeError, PySystemError, PyTypeError};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict, PyString, PyTuple};
use sidecar_proto::{CallbackReply, callback};

use crate::core::{self, CoreError};

/// A named table of constants: the dict's name and its entries in order.
pub(crate) type Table = (&'static str, &'static [(&'static str, i64)]);

/// `bRCs` (all daemons).
pub(crate) const BRCS: Table = (
    "bRCs",
    &[
        ("bRC_OK", 0),
        ("bRC_Stop", 1),
        ("bRC_Error", 2),
        ("bRC_More", 3),
        ("bRC_Term", 4),
        ("bRC_Seen", 5),
        ("bRC_Core", 6),
        ("bRC_Skip", 7),
        ("bRC_Cancel", 8),
    ],
);

/// `bJobMessageType` (all daemons).
pub(crate) const JOB_MESSAGE_TYPES: Table = (
    "bJobMessageType",
    &[
        ("M_ABORT", 1),
        ("M_DEBUG", 2),
        ("M_FATAL", 3),
        ("M_ERROR", 4),
        ("M_WARNING", 5),
        ("M_INFO", 6),
        ("M_SAVED", 7),
        ("M_NOTSAVED", 8),
        ("M_SKIPPED", 9),
        ("M_MOUNT", 10),
        ("M_ERROR_TERM", 11),
        ("M_TERM", 12),
        ("M_RESTORED", 13),
        ("M_SECURITY", 14),
        ("M_ALERT", 15),
        ("M_VOLMGMT", 16),
    ],
);

/// The type of a constant dict's keys: `bareosfd` has `bytes` keys, the
/// director's and storage daemon's modules `str` keys.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Keys {
    Bytes,
    Str,
}

/// Adds the dict `name` with `entries` and every entry as a module
/// attribute.
pub(crate) fn add_table<'a>(
    m: &Bound<'_, PyModule>,
    keys: Keys,
    name: &str,
    entries: impl IntoIterator<Item = (&'a str, i64)>,
) -> PyResult<()> {
    let py = m.py();
    let dict = PyDict::new(py);
    for (entry, value) in entries {
        m.add(entry, value)?;
        match keys {
            Keys::Bytes => dict.set_item(PyBytes::new(py, entry.as_bytes()), value)?,
            Keys::Str => dict.set_item(PyString::new(py, entry), value)?,
        }
    }
    m.add(name, dict)
}

/// [`add_table`] for a [`Table`].
pub(crate) fn add(m: &Bound<'_, PyModule>, keys: Keys, table: Table) -> PyResult<()> {
    add_table(m, keys, table.0, table.1.iter().copied())
}

/// [`add_table`] for one of `sidecar_proto`'s tables (events, variables).
pub(crate) fn add_numbers<T: Copy + Into<i64>>(
    m: &Bound<'_, PyModule>,
    keys: Keys,
    name: &str,
    entries: &[(&str, T)],
) -> PyResult<()> {
    add_table(m, keys, name, entries.iter().map(|&(n, v)| (n, v.into())))
}

pub(crate) fn core_error(e: CoreError) -> PyErr {
    PyRuntimeError::new_err(e.to_string())
}

/// Fails like the in-process module when there is no daemon or no call in
/// progress.
pub(crate) fn check_core() -> PyResult<()> {
    core::check().map_err(core_error)
}

/// Fails when no daemon is attached at all (the message functions work
/// outside calls, from any thread).
pub(crate) fn check_attached() -> PyResult<()> {
    if core::attached() {
        Ok(())
    } else {
        Err(core_error(CoreError::Unset))
    }
}

/// Runs one core function with the GIL released.
pub(crate) fn call(py: Python<'_>, kind: callback::Kind) -> PyResult<CallbackReply> {
    py.allow_threads(|| core::call(kind)).map_err(core_error)
}

pub(crate) fn call_rc(py: Python<'_>, kind: callback::Kind) -> PyResult<i32> {
    Ok(call(py, kind)?.rc)
}

/// What CPython raises when a builtin returns a value with an exception set.
pub(crate) fn system_error(py: Python<'_>, name: &str, cause: PyErr) -> PyErr {
    let e = PySystemError::new_err(format!(
        "<built-in function {name}> returned a result with an exception set"
    ));
    e.set_cause(py, Some(cause));
    e
}

/// Positional arguments of a `METH_VARARGS` function with `min..=max` of
/// them, with `PyArg_ParseTuple`'s message (`name` is the name after the
/// format's `:`).
pub(crate) fn arity<'py>(
    args: &Bound<'py, PyTuple>,
    name: &str,
    min: usize,
    max: usize,
) -> PyResult<Vec<Bound<'py, PyAny>>> {
    let n = args.len();
    if n < min || n > max {
        let what = if min == max {
            format!("exactly {max}")
        } else if n < min {
            format!("at least {min}")
        } else {
            format!("at most {max}")
        };
        let s = if (if n < min { min } else { max }) == 1 {
            ""
        } else {
            "s"
        };
        return Err(PyTypeError::new_err(format!(
            "{name}() takes {what} argument{s} ({n} given)"
        )));
    }
    Ok(args.iter().collect())
}

/// `i` format: a C `int` (via `__index__`, range-checked).
pub(crate) fn int_arg(v: &Bound<'_, PyAny>) -> PyResult<i32> {
    let n: i64 = v.extract()?;
    i32::try_from(n).map_err(|_| {
        PyOverflowError::new_err(if n > 0 {
            "signed integer is greater than maximum"
        } else {
            "signed integer is less than minimum"
        })
    })
}

/// `z` format: `str` or `None`, as UTF-8 bytes without NULs (`name` is the
/// name after the format's `:`, `pos` the argument's position).
pub(crate) fn str_or_none_arg(
    v: Option<&Bound<'_, PyAny>>,
    name: &str,
    pos: usize,
) -> PyResult<Option<Vec<u8>>> {
    let Some(v) = v.filter(|v| !v.is_none()) else {
        return Ok(None);
    };
    let Ok(s) = v.downcast::<PyString>() else {
        return Err(PyTypeError::new_err(format!(
            "{name}() argument {pos} must be str or None, not {}",
            v.get_type().name()?
        )));
    };
    let bytes = s.to_str()?.as_bytes();
    if bytes.contains(&0) {
        return Err(pyo3::exceptions::PyValueError::new_err(
            "embedded null character",
        ));
    }
    Ok(Some(bytes.to_vec()))
}
