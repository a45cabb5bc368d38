//! Attribute kinds of the packet classes (PY §9.1). python3-fd declares its
//! packet fields as CPython struct members; these helpers reproduce how
//! CPython 3.11 converts values assigned to such members, including the
//! `RuntimeWarning`s for silent truncation, and how the C `repr` functions
//! render the fields.

use pyo3::exceptions::{PyOverflowError, PyRuntimeWarning, PyTypeError, PyUnicodeDecodeError};
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyByteArray, PyBytes, PyString};

/// The value of an "object" member: `None` is NULL (unset, or deleted).
pub type Obj = Option<Py<PyAny>>;

pub fn readonly() -> PyErr {
    PyTypeError::new_err("readonly attribute")
}

fn undeletable() -> PyErr {
    PyTypeError::new_err("can't delete numeric/char attribute")
}

fn warn(py: Python<'_>, msg: &std::ffi::CStr) -> PyResult<()> {
    PyErr::warn(py, &py.get_type::<PyRuntimeWarning>(), msg, 1)
}

/// Value for an `int32` member: wider ints are truncated with a warning.
pub fn int32(v: &Bound<'_, PyAny>) -> PyResult<i32> {
    let x: i64 = v.extract()?;
    if i32::try_from(x).is_err() {
        warn(v.py(), c"Truncation of value to int")?;
    }
    Ok(x as i32)
}

/// Value for a `uint32` member: negative or too large values wrap, with a
/// warning.
pub fn uint32(v: &Bound<'_, PyAny>) -> PyResult<u32> {
    let x: i128 = v.extract()?;
    if x < i128::from(i64::MIN) || x > i128::from(u64::MAX) {
        return Err(PyOverflowError::new_err(
            "Python int too large to convert to C unsigned long",
        ));
    }
    if x < 0 {
        warn(v.py(), c"Writing negative value into unsigned field")?;
    } else if x > i128::from(u32::MAX) {
        warn(v.py(), c"Truncation of value to unsigned int")?;
    }
    Ok(x as u32)
}

/// Value for a `uint16` member: out of range values wrap, with a warning.
pub fn uint16(v: &Bound<'_, PyAny>) -> PyResult<u16> {
    let x: i64 = v.extract()?;
    if u16::try_from(x).is_err() {
        warn(v.py(), c"Truncation of value to unsigned short")?;
    }
    Ok(x as u16)
}

/// Value for a `uint64` member: negative values raise `OverflowError`, as on
/// CPython 3.11 (the interpreter this runner is built against).
pub fn uint64(v: &Bound<'_, PyAny>) -> PyResult<u64> {
    v.extract()
}

/// Value for an `int64` member: out of range raises `OverflowError`.
pub fn int64(v: &Bound<'_, PyAny>) -> PyResult<i64> {
    v.extract()
}

/// Value for a `bool` member: only `True`/`False`.
pub fn boolean(v: &Bound<'_, PyAny>) -> PyResult<bool> {
    match v.downcast::<PyBool>() {
        Ok(b) => Ok(b.is_true()),
        Err(_) => Err(PyTypeError::new_err("attribute value type must be bool")),
    }
}

/// Value for an "object" member: anything (`del` makes it NULL again, see
/// [`delete`]).
pub fn object(v: &Bound<'_, PyAny>) -> Obj {
    Some(v.clone().unbind())
}

/// Constructor argument for an "object" member: omitted is NULL.
pub fn opt(v: Option<&Bound<'_, PyAny>>) -> Obj {
    v.map(|v| v.clone().unbind())
}

/// Constructor conversion of the unsigned C formats (`I`, `H`, `K`): any int,
/// keeping the low 64 bits, no range check.
pub fn masked(v: &Bound<'_, PyAny>) -> PyResult<u64> {
    v.bitand(u64::MAX)?.extract()
}

/// Constructor argument for a C string: `str` (UTF-8 encoded) or `None`.
pub fn c_string(v: Option<&Bound<'_, PyAny>>) -> PyResult<Option<Vec<u8>>> {
    match v {
        None => Ok(None),
        Some(v) if v.is_none() => Ok(None),
        Some(v) => Ok(Some(
            v.downcast::<PyString>()?.to_str()?.as_bytes().to_vec(),
        )),
    }
}

/// Decodes bytes from the daemon as strict UTF-8, raising
/// `UnicodeDecodeError` like `PyUnicode_FromString` does.
pub fn decode<'py>(py: Python<'py>, b: &[u8]) -> PyResult<Bound<'py, PyString>> {
    match std::str::from_utf8(b) {
        Ok(s) => Ok(PyString::new(py, s)),
        Err(e) => Err(PyErr::from_value(
            PyUnicodeDecodeError::new_utf8(py, b, e)?.into_any(),
        )),
    }
}

/// Getter of a read-only C string member: NULL reads `None`, the rest is
/// decoded on every read.
pub fn read_c_string<'py>(
    py: Python<'py>,
    s: &Option<Vec<u8>>,
) -> PyResult<Option<Bound<'py, PyString>>> {
    s.as_deref().map(|b| decode(py, b)).transpose()
}

/// Renders a C string member in a repr: NULL prints `(null)`.
pub fn show_c(s: &Option<Vec<u8>>) -> String {
    match s {
        None => "(null)".to_owned(),
        Some(b) => String::from_utf8_lossy(until_nul(b)).into_owned(),
    }
}

/// Renders an object member that should hold a `str`; anything else
/// (including NULL) prints empty.
pub fn show_str(py: Python<'_>, o: &Obj) -> String {
    match o.as_ref().map(|o| o.bind(py)) {
        Some(o) => match o.downcast::<PyString>() {
            Ok(s) => s.to_string_lossy().into_owned(),
            Err(_) => String::new(),
        },
        None => String::new(),
    }
}

/// Renders an object member that should hold a `bytearray`, up to its first
/// NUL byte; anything else prints empty.
pub fn show_bytearray(py: Python<'_>, o: &Obj) -> String {
    match o
        .as_ref()
        .and_then(|o| o.bind(py).downcast::<PyByteArray>().ok())
    {
        Some(b) => String::from_utf8_lossy(until_nul(&b.to_vec())).into_owned(),
        None => String::new(),
    }
}

fn until_nul(b: &[u8]) -> &[u8] {
    match b.iter().position(|&c| c == 0) {
        Some(n) => &b[..n],
        None => b,
    }
}

/// A bound object member, or `None` when NULL or Python `None` (both mean
/// "unset" for the conversions back to the daemon).
pub fn get<'py>(py: Python<'py>, o: &Obj) -> Option<Bound<'py, PyAny>> {
    o.as_ref()
        .map(|o| o.bind(py).clone())
        .filter(|o| !o.is_none())
}

/// Runs `f` on the contents of a `bytes` or `bytearray` (without copying
/// them), else `None`.
pub fn with_bytes_like<R>(o: &Bound<'_, PyAny>, f: impl FnOnce(&[u8]) -> R) -> Option<R> {
    if let Ok(b) = o.downcast::<PyByteArray>() {
        // SAFETY: the GIL is held and `f` runs no Python code (it gets plain
        // bytes), so nothing can resize or free the bytearray meanwhile.
        Some(f(unsafe { b.as_bytes() }))
    } else {
        o.downcast::<PyBytes>().ok().map(|b| f(b.as_bytes()))
    }
}

/// `__setattr__` of the packet classes: plain descriptor/instance-dict
/// assignment. (pyo3 wants both halves of the slot once `__delattr__`
/// exists, and its setters cannot see deletions.)
pub fn generic_set(
    obj: &Bound<'_, PyAny>,
    name: &Bound<'_, PyAny>,
    value: Option<&Bound<'_, PyAny>>,
) -> PyResult<()> {
    let value = value.map_or(std::ptr::null_mut(), |v| v.as_ptr());
    // SAFETY: `obj` and `name` are live objects for the duration of the call;
    // `value` is a live object or NULL, which requests a deletion.
    let rc = unsafe { pyo3::ffi::PyObject_GenericSetAttr(obj.as_ptr(), name.as_ptr(), value) };
    if rc == 0 {
        Ok(())
    } else {
        Err(PyErr::fetch(obj.py()))
    }
}

/// `__delattr__` of the packet classes: object members become NULL,
/// read-only strings and numeric members refuse like CPython's members,
/// anything else (e.g. a subclass's own attributes) is deleted normally.
pub fn delete<T>(
    slf: &Bound<'_, T>,
    name: &Bound<'_, PyAny>,
    readonly_names: &[&str],
    clear: fn(&mut T, &str) -> bool,
) -> PyResult<()>
where
    T: pyo3::PyClass<Frozen = pyo3::pyclass::boolean_struct::False>,
{
    if let Ok(n) = name.downcast::<PyString>() {
        let n = n.to_str()?;
        if clear(&mut *slf.try_borrow_mut()?, n) {
            return Ok(());
        }
        if readonly_names.contains(&n) {
            return Err(readonly());
        }
        let own = slf.py().get_type::<T>();
        if own
            .getattr(n)
            .is_ok_and(|d| d.get_type().name().is_ok_and(|t| t == "getset_descriptor"))
        {
            return Err(undeletable());
        }
    }
    generic_set(slf.as_any(), name, None)
}
