//! The 19 functions of `bareosfd` (PY §7). They reach the daemon through
//! [`crate::core`]; blocking calls run with the GIL released so that plugin
//! threads keep running (decision D3: plugin threads may call them too).
//!
//! python3-fd parses the arguments of most functions in a way that turns an
//! argument error into `SystemError` ("returned a result with an exception
//! set", chained to the `TypeError`); those functions take `*args` and parse
//! them here to keep that observable behaviour. `GetValue`, `DebugMessage`,
//! `JobMessage` and `GetInstanceCount` raise plain `TypeError`s.

use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::{PyFrozenSet, PySequence, PyString, PyTuple};
use sidecar_proto::{callback, callback_reply, set_value as sv};

use super::attr;
use super::constants::{BRC_ERROR, BRC_OK, var};
use super::packets::{SavePacket, StatPacket};
use super::state;
use crate::core::{self, CoreError};
use crate::pymodule::{arity, call, call_rc, check_core, core_error, system_error};

/// Prefix of every message a plugin sends through `bareosfd`.
const PREFIX: &str = "python3-fd-mod: ";

/// `z` format: `str` or `None`, as UTF-8 bytes.
fn str_or_none(v: Option<&Bound<'_, PyAny>>, pos: usize) -> PyResult<Option<Vec<u8>>> {
    match v {
        None => Ok(None),
        Some(v) if v.is_none() => Ok(None),
        Some(v) => Ok(Some(str_arg(v, pos, "str or None")?)),
    }
}

/// `s` format: `str` only, as UTF-8 bytes.
fn str_arg(v: &Bound<'_, PyAny>, pos: usize, expected: &str) -> PyResult<Vec<u8>> {
    match v.downcast::<PyString>() {
        Ok(s) => Ok(s.to_str()?.as_bytes().to_vec()),
        Err(_) => Err(PyTypeError::new_err(format!(
            "argument {pos} must be {expected}, not {}",
            v.get_type().name()?
        ))),
    }
}

fn message_text(msg: &str) -> Vec<u8> {
    let mut text = PREFIX.as_bytes().to_vec();
    text.extend_from_slice(msg.as_bytes());
    text
}

/// Debug note for requests python3-fd logs and otherwise ignores.
fn debug_note(text: String) {
    let _ = core::debug_message(100, message_text(&text));
}

/// How `GetValue` presents the core's answer for each variable.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Shape {
    Int,
    Str,
    Bool,
    /// A bitmask shown as the frozenset of its set bits.
    BitSet,
}

/// Which variables `GetValue` asks the core about, and how it shows them.
pub(super) fn shape(v: i32) -> Option<Shape> {
    Some(match v {
        var::JobId | var::Level | var::Type | var::JobStatus | var::Accurate | var::PrefixLinks => {
            Shape::Int
        }
        var::FDName
        | var::Client
        | var::JobName
        | var::WorkingDir
        | var::Where
        | var::RegexWhere
        | var::ExePath
        | var::Version
        | var::PrevJobName
        | var::UsedConfig => Shape::Str,
        var::CheckChanges => Shape::Bool,
        var::AccurateOptions => Shape::BitSet,
        _ => return None,
    })
}

/// The Python value of a core answer; `None` when the core gave none (or
/// one of another type).
pub(super) fn present(
    py: Python<'_>,
    shape: Shape,
    value: Option<callback_reply::Value>,
) -> PyResult<PyObject> {
    use callback_reply::Value;
    Ok(match (shape, value) {
        (Shape::Int, Some(Value::Number(n))) => n.into_pyobject(py)?.into_any().unbind(),
        (Shape::Str, Some(Value::Text(t))) => attr::decode(py, &t)?.into_any().unbind(),
        (Shape::Bool, Some(Value::Flag(b))) => b.into_pyobject(py)?.to_owned().into_any().unbind(),
        (Shape::BitSet, Some(Value::Bits(bits))) => {
            let set: Vec<u64> = (0..64)
                .map(|i| 1u64 << i)
                .filter(|b| bits & b != 0)
                .collect();
            PyFrozenSet::new(py, &set)?.into_any().unbind()
        }
        _ => py.None(),
    })
}

/// `GetValue(var)`: see PY §7.1.
#[pyfunction]
#[pyo3(name = "GetValue", signature = (var, /))]
pub fn get_value(py: Python<'_>, var: i32) -> PyResult<PyObject> {
    check_core()?;
    if var == var::SinceTime {
        return Ok(state::since().into_pyobject(py)?.into_any().unbind());
    }
    match shape(var) {
        Some(shape) => {
            let reply = call(py, callback::Kind::GetValue(var))?;
            present(py, shape, reply.value)
        }
        // FileSeen (write-only), VssClient (Windows), DistName (removed) and
        // PluginPath (not supported by the module).
        None if matches!(var, 10 | 11 | 17 | 22) => Ok(py.None()),
        None => {
            debug_note(format!("GetValue: unknown variable requested: {var}"));
            Ok(py.None())
        }
    }
}

/// `SetValue(var, value)`: see PY §7.2.
#[pyfunction]
#[pyo3(name = "SetValue", signature = (*args))]
pub fn set_value(py: Python<'_>, args: &Bound<'_, PyTuple>) -> PyResult<i32> {
    let sys = |e| system_error(py, "SetValue", e);
    let a = arity(args, "SetValue", 2, 2).map_err(sys)?;
    let v: i32 = a[0].extract().map_err(sys)?;
    let value = &a[1];
    check_core()?;
    match v {
        var::SinceTime => {
            state::set_since(value.extract().map_err(sys)?);
            Ok(BRC_OK)
        }
        var::CheckChanges => {
            let on = value.is(pyo3::types::PyBool::new(py, true));
            state::set_check_changes(on);
            call_rc(
                py,
                callback::Kind::SetValue(sidecar_proto::SetValue {
                    var: v,
                    value: Some(sv::Value::Flag(on)),
                }),
            )
        }
        var::FileSeen => {
            let name = str_arg(value, 2, "str").map_err(sys)?;
            call_rc(
                py,
                callback::Kind::SetValue(sidecar_proto::SetValue {
                    var: v,
                    value: Some(sv::Value::Text(name)),
                }),
            )
        }
        _ => {
            debug_note(format!("SetValue: unknown variable requested: {v}"));
            Ok(BRC_ERROR)
        }
    }
}

/// `DebugMessage(level, msg=None)`: one-way, fine from any thread.
#[pyfunction]
#[pyo3(name = "DebugMessage", signature = (level, msg=None, /))]
pub fn debug_message(level: i32, msg: Option<&str>) -> PyResult<()> {
    if !core::attached() {
        return Err(core_error(CoreError::Unset));
    }
    if let Some(msg) = msg {
        core::debug_message(level, message_text(msg)).map_err(core_error)?;
    }
    Ok(())
}

/// `JobMessage(type, msg=None)`: one-way, fine from any thread.
#[pyfunction]
#[pyo3(name = "JobMessage", signature = (r#type, msg=None, /))]
pub fn job_message(r#type: i32, msg: Option<&str>) -> PyResult<()> {
    if !core::attached() {
        return Err(core_error(CoreError::Unset));
    }
    if let Some(msg) = msg {
        core::job_message(r#type, message_text(msg)).map_err(core_error)?;
    }
    Ok(())
}

/// Shared by RegisterEvents/UnRegisterEvents: numbers outside 1..=31 are
/// ignored; non-int elements surface as SystemError after the core calls.
fn events(py: Python<'_>, args: &Bound<'_, PyTuple>, name: &str, register: bool) -> PyResult<i32> {
    let sys = |e| system_error(py, name, e);
    let a = arity(args, name, 1, 1).map_err(sys)?;
    check_core()?;
    let seq = a[0]
        .downcast::<PySequence>()
        .map_err(|_| sys(PyTypeError::new_err("Expected a sequence of events")))?;
    let mut wanted = Vec::new();
    let mut bad = None;
    for item in seq.try_iter().map_err(sys)? {
        match item.and_then(|i| i.extract::<i64>()) {
            Ok(e) if (1..=31).contains(&e) => wanted.push(e as u32),
            Ok(_) => {}
            Err(e) => {
                bad.get_or_insert(e);
            }
        }
    }
    let rc = if wanted.is_empty() {
        BRC_ERROR
    } else {
        // Remembered here too: the runner delivers bEventCancelCommand
        // itself, and only to a plugin that asked for it.
        for &e in &wanted {
            super::state::set_registered(e, register);
        }
        let ev = sidecar_proto::Events { events: wanted };
        call_rc(
            py,
            if register {
                callback::Kind::RegisterEvents(ev)
            } else {
                callback::Kind::UnregisterEvents(ev)
            },
        )?
    };
    match bad {
        Some(e) => Err(sys(e)),
        None => Ok(rc),
    }
}

/// `RegisterEvents(events)`.
#[pyfunction]
#[pyo3(name = "RegisterEvents", signature = (*args))]
pub fn register_events(py: Python<'_>, args: &Bound<'_, PyTuple>) -> PyResult<i32> {
    events(py, args, "RegisterEvents", true)
}

/// `UnRegisterEvents(events)`.
#[pyfunction]
#[pyo3(name = "UnRegisterEvents", signature = (*args))]
pub fn unregister_events(py: Python<'_>, args: &Bound<'_, PyTuple>) -> PyResult<i32> {
    events(py, args, "UnRegisterEvents", false)
}

/// `GetInstanceCount()`: the core's count, or None.
#[pyfunction]
#[pyo3(name = "GetInstanceCount", signature = ())]
pub fn get_instance_count(py: Python<'_>) -> PyResult<Option<i64>> {
    check_core()?;
    let reply = call(
        py,
        callback::Kind::GetInstanceCount(sidecar_proto::Empty {}),
    )?;
    Ok(match reply.value {
        Some(callback_reply::Value::Number(n)) if reply.rc == BRC_OK => Some(n),
        _ => None,
    })
}

/// AddExclude/AddInclude/AddOptions: `None`/omitted returns bRC_Error
/// without asking the core.
fn add_text(
    py: Python<'_>,
    args: &Bound<'_, PyTuple>,
    name: &str,
    kind: fn(Vec<u8>) -> callback::Kind,
) -> PyResult<i32> {
    let sys = |e| system_error(py, name, e);
    let a = arity(args, name, 0, 1).map_err(sys)?;
    let text = str_or_none(a.first(), 1).map_err(sys)?;
    check_core()?;
    match text {
        Some(t) => call_rc(py, kind(t)),
        None => Ok(BRC_ERROR),
    }
}

#[pyfunction]
#[pyo3(name = "AddExclude", signature = (*args))]
pub fn add_exclude(py: Python<'_>, args: &Bound<'_, PyTuple>) -> PyResult<i32> {
    add_text(py, args, "AddExclude", callback::Kind::AddExclude)
}

#[pyfunction]
#[pyo3(name = "AddInclude", signature = (*args))]
pub fn add_include(py: Python<'_>, args: &Bound<'_, PyTuple>) -> PyResult<i32> {
    add_text(py, args, "AddInclude", callback::Kind::AddInclude)
}

#[pyfunction]
#[pyo3(name = "AddOptions", signature = (*args))]
pub fn add_options(py: Python<'_>, args: &Bound<'_, PyTuple>) -> PyResult<i32> {
    add_text(py, args, "AddOptions", callback::Kind::AddOptions)
}

/// AddRegex/AddWild. Decision D7: a missing `type` is an error instead of
/// passing python3-fd's uninitialised value.
fn add_pattern(
    py: Python<'_>,
    args: &Bound<'_, PyTuple>,
    name: &str,
    kind: fn(sidecar_proto::Pattern) -> callback::Kind,
) -> PyResult<i32> {
    let sys = |e| system_error(py, name, e);
    let a = arity(args, name, 0, 2).map_err(sys)?;
    let item = str_or_none(a.first(), 1).map_err(sys)?;
    let ty: Option<i32> = a.get(1).map(|t| t.extract()).transpose().map_err(sys)?;
    check_core()?;
    let Some(item) = item else {
        return Ok(BRC_ERROR);
    };
    let Some(ty) = ty else {
        return Err(PyTypeError::new_err(format!(
            "{name}() requires the type argument (the FileSet pattern kind handed to the core)"
        )));
    };
    call_rc(py, kind(sidecar_proto::Pattern { item, r#type: ty }))
}

#[pyfunction]
#[pyo3(name = "AddRegex", signature = (*args))]
pub fn add_regex(py: Python<'_>, args: &Bound<'_, PyTuple>) -> PyResult<i32> {
    add_pattern(py, args, "AddRegex", callback::Kind::AddRegex)
}

#[pyfunction]
#[pyo3(name = "AddWild", signature = (*args))]
pub fn add_wild(py: Python<'_>, args: &Bound<'_, PyTuple>) -> PyResult<i32> {
    add_pattern(py, args, "AddWild", callback::Kind::AddWild)
}

fn no_args(
    py: Python<'_>,
    args: &Bound<'_, PyTuple>,
    name: &str,
    kind: fn(sidecar_proto::Empty) -> callback::Kind,
) -> PyResult<i32> {
    arity(args, name, 0, 0).map_err(|e| system_error(py, name, e))?;
    check_core()?;
    call_rc(py, kind(sidecar_proto::Empty {}))
}

#[pyfunction]
#[pyo3(name = "NewOptions", signature = (*args))]
pub fn new_options(py: Python<'_>, args: &Bound<'_, PyTuple>) -> PyResult<i32> {
    no_args(py, args, "NewOptions", callback::Kind::NewOptions)
}

#[pyfunction]
#[pyo3(name = "NewInclude", signature = (*args))]
pub fn new_include(py: Python<'_>, args: &Bound<'_, PyTuple>) -> PyResult<i32> {
    no_args(py, args, "NewInclude", callback::Kind::NewInclude)
}

#[pyfunction]
#[pyo3(name = "NewPreInclude", signature = (*args))]
pub fn new_pre_include(py: Python<'_>, args: &Bound<'_, PyTuple>) -> PyResult<i32> {
    no_args(py, args, "NewPreInclude", callback::Kind::NewPreInclude)
}

/// The one argument of CheckChanges/AcceptFile, which must be a SavePacket
/// (decision D6: checked instead of undefined behaviour).
fn save_packet_arg<'py>(
    py: Python<'py>,
    args: &Bound<'py, PyTuple>,
    name: &str,
) -> PyResult<Bound<'py, SavePacket>> {
    let a = arity(args, name, 1, 1).map_err(|e| system_error(py, name, e))?;
    check_core()?;
    let sp = a[0]
        .downcast::<SavePacket>()
        .map_err(|_| PyTypeError::new_err(format!("{name}() argument must be a SavePacket")))?;
    Ok(sp.clone())
}

/// `fname` as C text if it is a str.
fn fname_of(py: Python<'_>, sp: &SavePacket) -> PyResult<Option<Vec<u8>>> {
    match attr::get(py, &sp.fname) {
        Some(f) => match f.downcast::<PyString>() {
            Ok(s) => Ok(Some(s.to_str()?.as_bytes().to_vec())),
            Err(_) => Ok(None),
        },
        None => Ok(None),
    }
}

/// `CheckChanges(savepkt)`. Decision D9: like python3-fd, `statp` is not
/// passed (the core compares a zeroed stat).
#[pyfunction]
#[pyo3(name = "CheckChanges", signature = (*args))]
pub fn check_changes(py: Python<'_>, args: &Bound<'_, PyTuple>) -> PyResult<i32> {
    let obj = save_packet_arg(py, args, "CheckChanges")?;
    let pkt = {
        let sp = obj.borrow();
        let Some(fname) = fname_of(py, &sp)? else {
            return Ok(BRC_ERROR);
        };
        let link = match attr::get(py, &sp.link) {
            None => None,
            Some(l) => match l.downcast::<PyString>() {
                Ok(s) => Some(s.to_str()?.as_bytes().to_vec()),
                Err(_) => return Ok(BRC_ERROR),
            },
        };
        sidecar_proto::SavePacket {
            fname: Some(fname),
            link,
            r#type: sp.type_,
            save_time: sp.save_time.into(),
            ..Default::default()
        }
    };
    let reply = call(py, callback::Kind::CheckChanges(pkt))?;
    let mut sp = obj.borrow_mut();
    sp.delta_seq = reply.delta_seq;
    sp.accurate_found = reply.accurate_found;
    Ok(reply.rc)
}

/// `AcceptFile(savepkt)`: needs `fname` (str) and `statp` (StatPacket).
#[pyfunction]
#[pyo3(name = "AcceptFile", signature = (*args))]
pub fn accept_file(py: Python<'_>, args: &Bound<'_, PyTuple>) -> PyResult<i32> {
    let obj = save_packet_arg(py, args, "AcceptFile")?;
    let pkt = {
        let sp = obj.borrow();
        let Some(fname) = fname_of(py, &sp)? else {
            return Ok(BRC_ERROR);
        };
        let statp = match attr::get(py, &sp.statp) {
            Some(s) => match s.downcast::<StatPacket>() {
                Ok(s) => s.borrow().to_proto(),
                Err(_) => return Ok(BRC_ERROR),
            },
            None => return Ok(BRC_ERROR),
        };
        sidecar_proto::SavePacket {
            fname: Some(fname),
            statp: Some(statp),
            r#type: sp.type_,
            ..Default::default()
        }
    };
    call_rc(py, callback::Kind::AcceptFile(pkt))
}

fn seen_bitmap(py: Python<'_>, args: &Bound<'_, PyTuple>, name: &str, set: bool) -> PyResult<i32> {
    let sys = |e| system_error(py, name, e);
    let a = arity(args, name, 1, 2).map_err(sys)?;
    let all = a[0].is_truthy().map_err(sys)?;
    let fname = a
        .get(1)
        .map(|f| str_arg(f, 2, "str"))
        .transpose()
        .map_err(sys)?;
    check_core()?;
    let b = sidecar_proto::SeenBitmap { all, fname };
    call_rc(
        py,
        if set {
            callback::Kind::SetSeenBitmap(b)
        } else {
            callback::Kind::ClearSeenBitmap(b)
        },
    )
}

/// `SetSeenBitmap(all, fname)`.
#[pyfunction]
#[pyo3(name = "SetSeenBitmap", signature = (*args))]
pub fn set_seen_bitmap(py: Python<'_>, args: &Bound<'_, PyTuple>) -> PyResult<i32> {
    seen_bitmap(py, args, "SetSeenBitmap", true)
}

/// `ClearSeenBitmap(all, fname)`.
#[pyfunction]
#[pyo3(name = "ClearSeenBitmap", signature = (*args))]
pub fn clear_seen_bitmap(py: Python<'_>, args: &Bound<'_, PyTuple>) -> PyResult<i32> {
    seen_bitmap(py, args, "ClearSeenBitmap", false)
}

/// Adds the functions to the module.
pub fn add_all(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(get_value, m)?)?;
    m.add_function(wrap_pyfunction!(set_value, m)?)?;
    m.add_function(wrap_pyfunction!(debug_message, m)?)?;
    m.add_function(wrap_pyfunction!(job_message, m)?)?;
    m.add_function(wrap_pyfunction!(register_events, m)?)?;
    m.add_function(wrap_pyfunction!(unregister_events, m)?)?;
    m.add_function(wrap_pyfunction!(get_instance_count, m)?)?;
    m.add_function(wrap_pyfunction!(add_exclude, m)?)?;
    m.add_function(wrap_pyfunction!(add_include, m)?)?;
    m.add_function(wrap_pyfunction!(add_options, m)?)?;
    m.add_function(wrap_pyfunction!(add_regex, m)?)?;
    m.add_function(wrap_pyfunction!(add_wild, m)?)?;
    m.add_function(wrap_pyfunction!(new_options, m)?)?;
    m.add_function(wrap_pyfunction!(new_include, m)?)?;
    m.add_function(wrap_pyfunction!(new_pre_include, m)?)?;
    m.add_function(wrap_pyfunction!(check_changes, m)?)?;
    m.add_function(wrap_pyfunction!(accept_file, m)?)?;
    m.add_function(wrap_pyfunction!(set_seen_bitmap, m)?)?;
    m.add_function(wrap_pyfunction!(clear_seen_bitmap, m)?)?;
    Ok(())
}
