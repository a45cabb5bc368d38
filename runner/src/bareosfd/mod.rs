//! The built-in Python module `bareosfd` (PY §7–§9), so that existing Bareos
//! Python plugins run unmodified, plus the conversions between the packet
//! classes and the protocol messages that the dispatcher uses around each
//! Python entry point.

pub(crate) mod attr;
pub mod constants;
mod functions;
mod packets;
pub mod state;

#[cfg(test)]
pub(crate) mod tests;

use pyo3::exceptions::{PyRuntimeError, PyTypeError};
use pyo3::prelude::*;
use pyo3::types::{PyByteArray, PyCapsule, PyString};
use sidecar_proto as pb;

pub use packets::{
    AclPacket, IoPacket, RestoreObject, RestorePacket, SavePacket, StatPacket, XattrPacket,
};

use constants::{CF_ERROR, IO_READ, IO_WRITE, M_WARNING, OBJECT_TYPES};
use packets::FLAG_BYTES;

#[pymodule]
fn bareosfd(m: &Bound<'_, PyModule>) -> PyResult<()> {
    crate::daemon::check_import(crate::daemon::Daemon::Fd)?;
    let py = m.py();
    functions::add_all(m)?;
    constants::add_all(m)?;
    let types = [
        ("RestoreObject", py.get_type::<RestoreObject>()),
        ("StatPacket", py.get_type::<StatPacket>()),
        ("SavePacket", py.get_type::<SavePacket>()),
        ("RestorePacket", py.get_type::<RestorePacket>()),
        ("IoPacket", py.get_type::<IoPacket>()),
        ("AclPacket", py.get_type::<AclPacket>()),
        ("XattrPacket", py.get_type::<XattrPacket>()),
    ];
    for (name, ty) in types {
        // python3-fd's types are static C types whose name has no module
        // part, so error messages say `'stat_pkt' object ...`. pyo3 names
        // them `builtins.stat_pkt`; re-setting `__name__` makes CPython
        // point the type's C name at the plain name.
        let plain = ty.name()?.to_string();
        ty.setattr("__name__", plain)?;
        ty.setattr("__module__", "builtins")?;
        m.add(name, ty)?;
    }
    // python3-fd's C API capsule; nothing here uses it, but plugins may test
    // for its presence.
    m.add(
        "_C_API",
        PyCapsule::new(py, 0usize, Some(c"bareosfd._C_API".to_owned()))?,
    )?;
    m.setattr("__doc__", py.None())?;
    Ok(())
}

/// Adds `bareosfd` to the interpreter's built-in modules; call before Python
/// is initialised (later calls are ignored).
pub fn register() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| pyo3::append_to_inittab!(bareosfd));
}

fn bytearray<'py>(py: Python<'py>, b: &[u8]) -> Py<PyAny> {
    PyByteArray::new(py, b).into_any().unbind()
}

fn text<'py>(py: Python<'py>, b: &[u8]) -> PyResult<Py<PyAny>> {
    Ok(attr::decode(py, b)?.into_any().unbind())
}

/// The five FileSet option bytes, padded or truncated.
fn flags5(py: Python<'_>, f: &[u8]) -> Py<PyAny> {
    let mut b = [0u8; FLAG_BYTES];
    let n = f.len().min(FLAG_BYTES);
    b[..n].copy_from_slice(&f[..n]);
    bytearray(py, &b)
}

/// The `SavePacket` handed to `start_backup_file` (PY §9.4).
pub fn save_packet_for_backup<'py>(
    py: Python<'py>,
    req: &pb::BackupRequest,
) -> PyResult<Bound<'py, PyAny>> {
    let sp = SavePacket {
        fname: Some(text(py, b"")?),
        link: Some(text(py, b"")?),
        flags: Some(flags5(py, &req.flags)),
        portable: true,
        cmd: Some(req.cmd.clone()),
        ..Default::default()
    };
    Ok(Bound::new(py, sp)?.into_any())
}

/// The `SavePacket` handed to `handle_backup_file` (option plugins).
pub fn save_packet_from_proto<'py>(
    py: Python<'py>,
    sp: &pb::SavePacket,
) -> PyResult<Bound<'py, PyAny>> {
    let statp = match &sp.statp {
        Some(st) if st.mode != 0 => Some(
            Bound::new(py, StatPacket::from_proto(st))?
                .into_any()
                .unbind(),
        ),
        _ => None,
    };
    let pkt = SavePacket {
        fname: sp.fname.as_deref().map(|f| text(py, f)).transpose()?,
        link: Some(text(py, sp.link.as_deref().unwrap_or_default())?),
        statp,
        type_: sp.r#type,
        flags: Some(flags5(py, &sp.flags)),
        portable: true,
        accurate_found: sp.accurate_found,
        cmd: sp.cmd.clone(),
        delta_seq: sp.delta_seq,
        ..Default::default()
    };
    Ok(Bound::new(py, pkt)?.into_any())
}

fn as_save_packet<'a, 'py>(obj: &'a Bound<'py, PyAny>) -> PyResult<&'a Bound<'py, SavePacket>> {
    obj.downcast::<SavePacket>()
        .map_err(|_| PyTypeError::new_err("the packet must be a SavePacket"))
}

/// The `flags` a plugin hands back: a 5-byte bytearray.
fn flags_back(py: Python<'_>, sp: &SavePacket) -> PyResult<Vec<u8>> {
    let flags = attr::get(py, &sp.flags);
    let Some(b) = flags
        .as_ref()
        .and_then(|f| f.downcast::<PyByteArray>().ok())
    else {
        return Err(PyTypeError::new_err("flags need to be of type bytearray"));
    };
    if b.len() != FLAG_BYTES {
        return Err(PyRuntimeError::new_err("PyByteArray_Size(flags) failed"));
    }
    Ok(b.to_vec())
}

fn utf8(s: &Bound<'_, PyString>) -> PyResult<Vec<u8>> {
    Ok(s.to_str()?.as_bytes().to_vec())
}

/// Converts the packet back after `start_backup_file` returned bRC_OK, with
/// python3-fd's checks and exceptions, in its order (PY §9.4).
pub fn save_packet_back(obj: &Bound<'_, PyAny>) -> PyResult<pb::SavePacket> {
    let py = obj.py();
    let sp = as_save_packet(obj)?.borrow();
    let mut out = pb::SavePacket::default();

    let Some(fname) = attr::get(py, &sp.fname) else {
        return Err(PyRuntimeError::new_err("fname is empty"));
    };
    let fname = fname
        .downcast::<PyString>()
        .map_err(|_| PyTypeError::new_err("fname needs to be of type string \"utf-8\""))?;
    out.fname = Some(utf8(fname)?);

    if let Some(link) = attr::get(py, &sp.link) {
        let link = link.downcast::<PyString>().map_err(|_| {
            PyTypeError::new_err("if given, link needs to be of type string \"utf-8\"")
        })?;
        out.link = Some(utf8(link)?);
    }

    let statp = attr::get(py, &sp.statp).and_then(|s| {
        s.downcast::<StatPacket>()
            .ok()
            .map(|s| s.borrow().to_proto())
    });
    let Some(statp) = statp else {
        return Err(PyRuntimeError::new_err("PyStatPacketToNative() failed"));
    };
    out.statp = Some(statp);

    out.r#type = sp.type_;
    out.flags = flags_back(py, &sp)?;

    if OBJECT_TYPES.contains(&sp.type_) {
        if sp.object_len <= 0 {
            return Err(PyRuntimeError::new_err("pSavePkt->object_len is <=0"));
        }
        let Some(name) = attr::get(py, &sp.object_name) else {
            return Err(PyRuntimeError::new_err("object name missing"));
        };
        let name = name
            .downcast::<PyString>()
            .map_err(|_| PyRuntimeError::new_err("object name must be unicode type"))?;
        let Some(object) = attr::get(py, &sp.object) else {
            return Err(PyRuntimeError::new_err("object missing"));
        };
        let object = object
            .downcast::<PyByteArray>()
            .map_err(|_| PyRuntimeError::new_err("object needs to be of type bytearray"))?
            .to_vec();
        let len = sp.object_len as usize;
        if object.len() < len {
            return Err(PyRuntimeError::new_err("object_len >= len(object)"));
        }
        out.object_name = Some(utf8(name)?);
        out.object = Some(object[..len].to_vec());
        out.object_len = sp.object_len;
        out.index = sp.object_index;
    } else {
        out.no_read = sp.no_read;
        out.delta_seq = sp.delta_seq;
        out.save_time = sp.save_time.into();
    }
    Ok(out)
}

/// Converts the packet back after `handle_backup_file` (whatever it
/// returned): only `no_read`, `delta_seq`, `save_time` and `flags`.
pub fn save_packet_back_handled(obj: &Bound<'_, PyAny>) -> PyResult<pb::SavePacket> {
    let py = obj.py();
    let sp = as_save_packet(obj)?.borrow();
    Ok(pb::SavePacket {
        no_read: sp.no_read,
        delta_seq: sp.delta_seq,
        save_time: sp.save_time.into(),
        flags: flags_back(py, &sp)?,
        ..Default::default()
    })
}

/// The `IoPacket` handed to `plugin_io` (PY §9.6, "in").
pub fn io_packet_from_request<'py>(
    py: Python<'py>,
    req: &pb::IoRequest,
) -> PyResult<Bound<'py, PyAny>> {
    let buf = (req.func == IO_WRITE && req.count > 0).then(|| {
        let n = req.buf.len().min(req.count as usize);
        bytearray(py, &req.buf[..n])
    });
    let io = IoPacket {
        func: req.func as u16,
        count: req.count,
        flags: req.flags,
        mode: req.mode as i32,
        buf,
        fname: req.fname.clone(),
        status: 0,
        io_errno: 0,
        lerror: 0,
        whence: req.whence,
        offset: req.offset,
        win32: false,
        filedes: req.filedes,
    };
    Ok(Bound::new(py, io)?.into_any())
}

/// What goes back to the core after `plugin_io` (PY §9.6). For `IO_READ`
/// with data, a buffer longer than `count` or a status above `count` forces
/// status -1; decision D8: a status above `len(buf)` is clamped to it, with
/// a warning in the job log. `fd_token` is left to the dispatcher.
pub fn io_packet_back(obj: &Bound<'_, PyAny>, func: i32, count: i32) -> pb::IoResult {
    let py = obj.py();
    let Ok(io) = obj.downcast::<IoPacket>() else {
        return pb::IoResult {
            status: -1,
            filedes: -1,
            ..Default::default()
        };
    };
    let io = io.borrow();
    let mut out = pb::IoResult {
        status: io.status,
        io_errno: io.io_errno,
        lerror: io.lerror,
        win32: io.win32,
        filedes: io.filedes,
        ..Default::default()
    };
    if func != IO_READ || io.status <= 0 {
        return out;
    }
    let Some(buf) = attr::get(py, &io.buf) else {
        return out;
    };
    let count = i64::from(count.max(0));
    let status = io.status;
    let staged = attr::with_bytes_like(&buf, |data| {
        if data.len() as i64 > count || i64::from(status) > count {
            return None;
        }
        let n = (status as usize).min(data.len());
        // Straight into the shim's I/O area when there is one.
        let area_len = crate::core::stage_read_data(&data[..n]);
        let inline = if area_len.is_some() {
            Vec::new()
        } else {
            data[..n].to_vec()
        };
        Some((n, data.len(), area_len, inline))
    });
    let Some(staged) = staged else {
        return out;
    };
    let Some((n, len, area_len, inline)) = staged else {
        out.status = -1;
        return out;
    };
    if len < status as usize {
        let _ = crate::core::job_message(
            M_WARNING,
            format!(
                "python3-fd-mod: plugin_io: IO_READ status {status} is larger than len(iop.buf) \
                 {len}; only {len} bytes were read"
            ),
        );
    }
    out.status = n as i32;
    out.area_len = area_len;
    out.buf = inline;
    out
}

/// The `RestorePacket` handed to `create_file`/`set_file_attributes`.
pub fn restore_packet_from_proto<'py>(
    py: Python<'py>,
    rp: &pb::RestorePacket,
) -> PyResult<Bound<'py, PyAny>> {
    let st = rp.statp.unwrap_or_default();
    let statp = Bound::new(py, StatPacket::from_proto(&st))?
        .into_any()
        .unbind();
    let pkt = RestorePacket {
        stream: rp.stream,
        data_stream: rp.data_stream,
        type_: rp.r#type,
        file_index: rp.file_index,
        link_fi: rp.link_fi,
        uid: rp.uid,
        statp: Some(statp),
        attr_ex: rp.attr_ex.clone(),
        ofname: rp.ofname.clone(),
        olname: rp.olname.clone(),
        where_: rp.r#where.clone(),
        regexwhere: rp.regex_where.clone(),
        replace: rp.replace,
        create_status: rp.create_status,
        filedes: rp.filedes,
        original_file_name: rp.original_file_name.clone(),
        original_link_name: rp.original_link_name.clone(),
    };
    Ok(Bound::new(py, pkt)?.into_any())
}

/// `(create_status, filedes)` after `create_file`; (CF_ERROR, -1) if the
/// object is not a RestorePacket.
pub fn restore_packet_back(obj: &Bound<'_, PyAny>) -> (i32, i32) {
    match obj.downcast::<RestorePacket>() {
        Ok(rp) => {
            let rp = rp.borrow();
            (rp.create_status, rp.filedes)
        }
        Err(_) => (CF_ERROR, -1),
    }
}

/// The `AclPacket` handed to `get_acl`/`set_acl`: content `None` when empty.
pub fn acl_packet<'py>(py: Python<'py>, ap: &pb::AclPacket) -> PyResult<Bound<'py, PyAny>> {
    let pkt = AclPacket {
        fname: Some(ap.fname.clone()),
        content: ap
            .content
            .as_deref()
            .filter(|c| !c.is_empty())
            .map(|c| bytearray(py, c)),
    };
    Ok(Bound::new(py, pkt)?.into_any())
}

/// The ACL after `get_acl`: `None` (or an empty bytearray) means none.
pub fn acl_packet_back(obj: &Bound<'_, PyAny>) -> PyResult<Option<Vec<u8>>> {
    let py = obj.py();
    let ap = obj
        .downcast::<AclPacket>()
        .map_err(|_| PyTypeError::new_err("the packet must be an AclPacket"))?
        .borrow();
    match attr::get(py, &ap.content) {
        None => Ok(None),
        Some(c) => match c.downcast::<PyByteArray>() {
            Ok(b) if b.is_empty() => Ok(None),
            Ok(b) => Ok(Some(b.to_vec())),
            Err(_) => Err(PyTypeError::new_err(
                "acl packet content needs to be of bytearray type",
            )),
        },
    }
}

/// The `XattrPacket` handed to `get_xattr`/`set_xattr`.
pub fn xattr_packet<'py>(py: Python<'py>, xp: &pb::XattrPacket) -> PyResult<Bound<'py, PyAny>> {
    let pkt = XattrPacket {
        fname: Some(xp.fname.clone()),
        name: xp.name.as_deref().map(|n| bytearray(py, n)),
        value: xp
            .value
            .as_deref()
            .filter(|v| !v.is_empty())
            .map(|v| bytearray(py, v)),
    };
    Ok(Bound::new(py, pkt)?.into_any())
}

/// `(name, value)` after `get_xattr`: no name (or one that is not a
/// non-empty bytearray) means no pair; a value that is not a bytearray is
/// empty (`None`).
pub fn xattr_packet_back(obj: &Bound<'_, PyAny>) -> (Option<Vec<u8>>, Option<Vec<u8>>) {
    let py = obj.py();
    let Ok(xp) = obj.downcast::<XattrPacket>() else {
        return (None, None);
    };
    let xp = xp.borrow();
    let name = attr::get(py, &xp.name)
        .and_then(|n| n.downcast::<PyByteArray>().ok().map(|b| b.to_vec()))
        .filter(|n| !n.is_empty());
    let Some(name) = name else {
        return (None, None);
    };
    let value =
        attr::get(py, &xp.value).and_then(|v| v.downcast::<PyByteArray>().ok().map(|b| b.to_vec()));
    (Some(name), value)
}

/// The `RestoreObject` handed to `restore_object_data`.
pub fn restore_object<'py>(py: Python<'py>, ro: &pb::RestoreObject) -> PyResult<Bound<'py, PyAny>> {
    let pkt = RestoreObject {
        object_name: Some(text(py, &ro.object_name)?),
        object: Some(bytearray(py, &ro.object)),
        plugin_name: ro.plugin_name.clone(),
        object_type: ro.object_type,
        object_len: ro.object_len,
        object_full_len: ro.object_full_len,
        object_index: ro.object_index,
        object_compression: ro.object_compression,
        stream: ro.stream,
        jobid: ro.jobid,
    };
    Ok(Bound::new(py, pkt)?.into_any())
}
