//! The seven packet classes of `bareosfd` (PY §9). Type names, attribute
//! kinds, constructor keywords, defaults and repr formats follow python3-fd,
//! because plugins print and compare them. Decision D6: every documented
//! constructor keyword is accepted, and `SavePacket.statp` is type-checked.

use std::time::{SystemTime, UNIX_EPOCH};

use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::PyByteArray;

use super::attr::{self, Obj};

/// The time a new StatPacket gets: now, or the time of the call in
/// progress while a session is recorded or replayed (`recording`), so that
/// a replay sees the same defaults.
fn now() -> i64 {
    crate::recording::pinned_clock().unwrap_or_else(|| {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs() as i64)
    })
}

// ------------------------------------------------------------------ StatPacket

#[pyclass(name = "stat_pkt", subclass)]
#[derive(Clone, Default)]
pub struct StatPacket {
    #[pyo3(get)]
    pub st_dev: u32,
    #[pyo3(get)]
    pub st_ino: u64,
    #[pyo3(get)]
    pub st_mode: u16,
    /// Read as unsigned 16 bit, stored (and printed) as signed 16 bit.
    #[pyo3(get)]
    pub st_nlink: u16,
    #[pyo3(get)]
    pub st_uid: u32,
    #[pyo3(get)]
    pub st_gid: u32,
    #[pyo3(get)]
    pub st_rdev: u32,
    #[pyo3(get)]
    pub st_size: u64,
    #[pyo3(get)]
    pub st_atime: i64,
    #[pyo3(get)]
    pub st_mtime: i64,
    #[pyo3(get)]
    pub st_ctime: i64,
    #[pyo3(get)]
    pub st_blksize: u32,
    #[pyo3(get)]
    pub st_blocks: u64,
}

fn masked_or(v: Option<&Bound<'_, PyAny>>, default: u64) -> PyResult<u64> {
    v.map_or(Ok(default), attr::masked)
}

impl StatPacket {
    /// No object members.
    fn clear(&mut self, _name: &str) -> bool {
        false
    }
}

#[pymethods]
impl StatPacket {
    fn __setattr__(
        slf: &Bound<'_, Self>,
        name: &Bound<'_, PyAny>,
        value: &Bound<'_, PyAny>,
    ) -> PyResult<()> {
        attr::generic_set(slf.as_any(), name, Some(value))
    }
    fn __delattr__(slf: &Bound<'_, Self>, name: &Bound<'_, PyAny>) -> PyResult<()> {
        attr::delete(slf, name, &[], Self::clear)
    }

    /// Keywords lack the `st_` prefix; unsigned ones wrap, times are range
    /// checked.
    #[new]
    #[pyo3(signature = (dev=None, ino=None, mode=None, nlink=None, uid=None, gid=None,
        rdev=None, size=None, atime=None, mtime=None, ctime=None, blksize=None, blocks=None))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        dev: Option<&Bound<'_, PyAny>>,
        ino: Option<&Bound<'_, PyAny>>,
        mode: Option<&Bound<'_, PyAny>>,
        nlink: Option<&Bound<'_, PyAny>>,
        uid: Option<&Bound<'_, PyAny>>,
        gid: Option<&Bound<'_, PyAny>>,
        rdev: Option<&Bound<'_, PyAny>>,
        size: Option<&Bound<'_, PyAny>>,
        atime: Option<i64>,
        mtime: Option<i64>,
        ctime: Option<i64>,
        blksize: Option<&Bound<'_, PyAny>>,
        blocks: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Self> {
        let t = now();
        Ok(StatPacket {
            st_dev: masked_or(dev, 0)? as u32,
            st_ino: masked_or(ino, 0)?,
            st_mode: masked_or(mode, 0o100700)? as u16,
            st_nlink: masked_or(nlink, 0)? as u16,
            st_uid: masked_or(uid, 0)? as u32,
            st_gid: masked_or(gid, 0)? as u32,
            st_rdev: masked_or(rdev, 0)? as u32,
            st_size: masked_or(size, u64::MAX)?,
            st_atime: atime.unwrap_or(t),
            st_mtime: mtime.unwrap_or(t),
            st_ctime: ctime.unwrap_or(t),
            st_blksize: masked_or(blksize, 4096)? as u32,
            st_blocks: masked_or(blocks, 1)?,
        })
    }

    #[setter]
    fn set_st_dev(&mut self, v: &Bound<'_, PyAny>) -> PyResult<()> {
        self.st_dev = attr::uint32(v)?;
        Ok(())
    }
    #[setter]
    fn set_st_ino(&mut self, v: &Bound<'_, PyAny>) -> PyResult<()> {
        self.st_ino = attr::uint64(v)?;
        Ok(())
    }
    #[setter]
    fn set_st_mode(&mut self, v: &Bound<'_, PyAny>) -> PyResult<()> {
        self.st_mode = attr::uint16(v)?;
        Ok(())
    }
    #[setter]
    fn set_st_nlink(&mut self, v: &Bound<'_, PyAny>) -> PyResult<()> {
        self.st_nlink = attr::uint16(v)?;
        Ok(())
    }
    #[setter]
    fn set_st_uid(&mut self, v: &Bound<'_, PyAny>) -> PyResult<()> {
        self.st_uid = attr::uint32(v)?;
        Ok(())
    }
    #[setter]
    fn set_st_gid(&mut self, v: &Bound<'_, PyAny>) -> PyResult<()> {
        self.st_gid = attr::uint32(v)?;
        Ok(())
    }
    #[setter]
    fn set_st_rdev(&mut self, v: &Bound<'_, PyAny>) -> PyResult<()> {
        self.st_rdev = attr::uint32(v)?;
        Ok(())
    }
    #[setter]
    fn set_st_size(&mut self, v: &Bound<'_, PyAny>) -> PyResult<()> {
        self.st_size = attr::uint64(v)?;
        Ok(())
    }
    #[setter]
    fn set_st_atime(&mut self, v: &Bound<'_, PyAny>) -> PyResult<()> {
        self.st_atime = attr::int64(v)?;
        Ok(())
    }
    #[setter]
    fn set_st_mtime(&mut self, v: &Bound<'_, PyAny>) -> PyResult<()> {
        self.st_mtime = attr::int64(v)?;
        Ok(())
    }
    #[setter]
    fn set_st_ctime(&mut self, v: &Bound<'_, PyAny>) -> PyResult<()> {
        self.st_ctime = attr::int64(v)?;
        Ok(())
    }
    #[setter]
    fn set_st_blksize(&mut self, v: &Bound<'_, PyAny>) -> PyResult<()> {
        self.st_blksize = attr::uint32(v)?;
        Ok(())
    }
    #[setter]
    fn set_st_blocks(&mut self, v: &Bound<'_, PyAny>) -> PyResult<()> {
        self.st_blocks = attr::uint64(v)?;
        Ok(())
    }

    fn __repr__(&self) -> String {
        format!(
            "StatPacket(dev={}, ino={}, mode={:04o}, nlink={}, uid={}, gid={}, rdev={}, \
             size={}, atime={}, mtime={}, ctime={}, blksize={}, blocks={})",
            self.st_dev,
            self.st_ino,
            self.st_mode & 0o7777,
            self.st_nlink as i16,
            self.st_uid,
            self.st_gid,
            self.st_rdev,
            self.st_size,
            self.st_atime,
            self.st_mtime,
            self.st_ctime,
            self.st_blksize,
            self.st_blocks
        )
    }
}

impl StatPacket {
    /// From the daemon's `struct stat`, truncated as python3-fd does.
    pub fn from_proto(st: &sidecar_proto::Stat) -> Self {
        StatPacket {
            st_dev: st.dev as u32,
            st_ino: st.ino,
            st_mode: st.mode as u16,
            st_nlink: st.nlink as u16,
            st_uid: st.uid,
            st_gid: st.gid,
            st_rdev: st.rdev as u32,
            st_size: st.size as u64,
            st_atime: st.atime,
            st_mtime: st.mtime,
            st_ctime: st.ctime,
            st_blksize: st.blksize as u32,
            st_blocks: st.blocks as u64,
        }
    }

    /// Back to a `struct stat` (the C side keeps `nlink` as int16).
    pub fn to_proto(&self) -> sidecar_proto::Stat {
        sidecar_proto::Stat {
            dev: self.st_dev.into(),
            ino: self.st_ino,
            mode: self.st_mode.into(),
            nlink: (self.st_nlink as i16) as u64,
            uid: self.st_uid,
            gid: self.st_gid,
            rdev: self.st_rdev.into(),
            size: self.st_size as i64,
            blksize: self.st_blksize.into(),
            blocks: self.st_blocks as i64,
            atime: self.st_atime,
            mtime: self.st_mtime,
            ctime: self.st_ctime,
        }
    }
}

// ------------------------------------------------------------------ SavePacket

#[pyclass(name = "save_pkt", subclass)]
#[derive(Default)]
pub struct SavePacket {
    #[pyo3(get)]
    pub fname: Obj,
    #[pyo3(get)]
    pub link: Obj,
    #[pyo3(get)]
    pub statp: Obj,
    #[pyo3(get, name = "type")]
    pub type_: i32,
    #[pyo3(get)]
    pub flags: Obj,
    #[pyo3(get)]
    pub no_read: bool,
    #[pyo3(get)]
    pub portable: bool,
    #[pyo3(get)]
    pub accurate_found: bool,
    pub cmd: Option<Vec<u8>>,
    /// The low 32 bits of the C `time_t` (python3-fd exposes only those).
    #[pyo3(get)]
    pub save_time: u32,
    #[pyo3(get)]
    pub delta_seq: u32,
    #[pyo3(get)]
    pub object_name: Obj,
    #[pyo3(get)]
    pub object: Obj,
    #[pyo3(get)]
    pub object_len: i32,
    #[pyo3(get)]
    pub object_index: i32,
}

impl SavePacket {
    /// `del` of an object member: back to NULL.
    fn clear(&mut self, name: &str) -> bool {
        match name {
            "fname" => self.fname = None,
            "link" => self.link = None,
            "statp" => self.statp = None,
            "flags" => self.flags = None,
            "object_name" => self.object_name = None,
            "object" => self.object = None,
            _ => return false,
        }
        true
    }
}

#[pymethods]
impl SavePacket {
    fn __setattr__(
        slf: &Bound<'_, Self>,
        name: &Bound<'_, PyAny>,
        value: &Bound<'_, PyAny>,
    ) -> PyResult<()> {
        attr::generic_set(slf.as_any(), name, Some(value))
    }
    fn __delattr__(slf: &Bound<'_, Self>, name: &Bound<'_, PyAny>) -> PyResult<()> {
        attr::delete(slf, name, &["cmd"], Self::clear)
    }

    #[new]
    #[pyo3(signature = (fname=None, link=None, r#type=0, flags=None, no_read=None,
        portable=None, accurate_found=None, cmd=None, save_time=None, delta_seq=None,
        object_name=None, object=None, object_len=0, object_index=0))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        fname: Option<&Bound<'_, PyAny>>,
        link: Option<&Bound<'_, PyAny>>,
        r#type: i32,
        flags: Option<&Bound<'_, PyAny>>,
        no_read: Option<&Bound<'_, PyAny>>,
        portable: Option<&Bound<'_, PyAny>>,
        accurate_found: Option<&Bound<'_, PyAny>>,
        cmd: Option<&Bound<'_, PyAny>>,
        save_time: Option<&Bound<'_, PyAny>>,
        delta_seq: Option<&Bound<'_, PyAny>>,
        object_name: Option<&Bound<'_, PyAny>>,
        object: Option<&Bound<'_, PyAny>>,
        object_len: i32,
        object_index: i32,
    ) -> PyResult<Self> {
        let truth = |v: Option<&Bound<'_, PyAny>>| v.map_or(Ok(false), |v| v.is_truthy());
        Ok(SavePacket {
            fname: attr::opt(fname),
            link: attr::opt(link),
            statp: None,
            type_: r#type,
            flags: attr::opt(flags),
            no_read: truth(no_read)?,
            portable: truth(portable)?,
            accurate_found: truth(accurate_found)?,
            cmd: attr::c_string(cmd)?,
            save_time: masked_or(save_time, 0)? as u32,
            delta_seq: masked_or(delta_seq, 0)? as u32,
            object_name: attr::opt(object_name),
            object: attr::opt(object),
            object_len,
            object_index,
        })
    }

    #[setter]
    fn set_fname(&mut self, v: &Bound<'_, PyAny>) {
        self.fname = attr::object(v);
    }
    #[setter]
    fn set_link(&mut self, v: &Bound<'_, PyAny>) {
        self.link = attr::object(v);
    }
    /// Decision D6: only a StatPacket (or None) can be assigned.
    #[setter]
    fn set_statp(&mut self, v: &Bound<'_, PyAny>) -> PyResult<()> {
        if !v.is_none() && !v.is_instance_of::<StatPacket>() {
            return Err(PyTypeError::new_err(format!(
                "statp must be a StatPacket, not {}",
                v.get_type().name()?
            )));
        }
        self.statp = attr::object(v);
        Ok(())
    }
    #[setter]
    fn set_type(&mut self, v: &Bound<'_, PyAny>) -> PyResult<()> {
        self.type_ = attr::int32(v)?;
        Ok(())
    }
    #[setter]
    fn set_flags(&mut self, v: &Bound<'_, PyAny>) {
        self.flags = attr::object(v);
    }
    #[setter]
    fn set_no_read(&mut self, v: &Bound<'_, PyAny>) -> PyResult<()> {
        self.no_read = attr::boolean(v)?;
        Ok(())
    }
    #[setter]
    fn set_portable(&mut self, v: &Bound<'_, PyAny>) -> PyResult<()> {
        self.portable = attr::boolean(v)?;
        Ok(())
    }
    #[setter]
    fn set_accurate_found(&mut self, v: &Bound<'_, PyAny>) -> PyResult<()> {
        self.accurate_found = attr::boolean(v)?;
        Ok(())
    }
    #[getter]
    fn cmd<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, pyo3::types::PyString>>> {
        attr::read_c_string(py, &self.cmd)
    }
    #[setter]
    fn set_cmd(&mut self, _v: &Bound<'_, PyAny>) -> PyResult<()> {
        Err(attr::readonly())
    }
    #[setter]
    fn set_save_time(&mut self, v: &Bound<'_, PyAny>) -> PyResult<()> {
        self.save_time = attr::uint32(v)?;
        Ok(())
    }
    #[setter]
    fn set_delta_seq(&mut self, v: &Bound<'_, PyAny>) -> PyResult<()> {
        self.delta_seq = attr::uint32(v)?;
        Ok(())
    }
    #[setter]
    fn set_object_name(&mut self, v: &Bound<'_, PyAny>) {
        self.object_name = attr::object(v);
    }
    #[setter]
    fn set_object(&mut self, v: &Bound<'_, PyAny>) {
        self.object = attr::object(v);
    }
    #[setter]
    fn set_object_len(&mut self, v: &Bound<'_, PyAny>) -> PyResult<()> {
        self.object_len = attr::int32(v)?;
        Ok(())
    }
    #[setter]
    fn set_object_index(&mut self, v: &Bound<'_, PyAny>) -> PyResult<()> {
        self.object_index = attr::int32(v)?;
        Ok(())
    }

    fn __repr__(&self, py: Python<'_>) -> String {
        format!(
            "SavePacket(fname=\"{}\", link=\"{}\", type={}, flags={}, no_read={}, portable={}, \
             accurate_found={}, cmd=\"{}\", save_time={}, delta_seq={}, object_name=\"{}\", \
             object=\"{}\", object_len={}, object_index={})",
            attr::show_str(py, &self.fname),
            attr::show_str(py, &self.link),
            self.type_,
            show_flags(py, &self.flags),
            u8::from(self.no_read),
            u8::from(self.portable),
            u8::from(self.accurate_found),
            attr::show_c(&self.cmd),
            self.save_time,
            self.delta_seq,
            attr::show_str(py, &self.object_name),
            attr::show_bytearray(py, &self.object),
            self.object_len,
            self.object_index
        )
    }
}

/// Number of FileSet option bytes in `save_pkt.flags`.
pub const FLAG_BYTES: usize = 5;
/// FileSet option bits shown by the repr (FO bits 0..33).
const FLAG_BITS: usize = 34;

/// `<NULL>`, `Unknown`, or one `0`/`1` per FileSet option bit.
fn show_flags(py: Python<'_>, flags: &Obj) -> String {
    let Some(f) = flags.as_ref() else {
        return "<NULL>".to_owned();
    };
    match f.bind(py).downcast::<PyByteArray>() {
        Ok(b) if b.len() == FLAG_BYTES => {
            let bytes = b.to_vec();
            (0..FLAG_BITS)
                .map(|i| {
                    if bytes[i / 8] & (1 << (i % 8)) != 0 {
                        '1'
                    } else {
                        '0'
                    }
                })
                .collect()
        }
        _ => "Unknown".to_owned(),
    }
}

// --------------------------------------------------------------- RestorePacket

#[pyclass(name = "restore_pkt", subclass)]
#[derive(Default)]
pub struct RestorePacket {
    #[pyo3(get)]
    pub stream: i32,
    #[pyo3(get)]
    pub data_stream: i32,
    #[pyo3(get, name = "type")]
    pub type_: i32,
    #[pyo3(get)]
    pub file_index: i32,
    #[pyo3(get, name = "linkFI")]
    pub link_fi: i32,
    #[pyo3(get)]
    pub uid: u32,
    #[pyo3(get)]
    pub statp: Obj,
    pub attr_ex: Option<Vec<u8>>,
    pub ofname: Option<Vec<u8>>,
    pub olname: Option<Vec<u8>>,
    pub where_: Option<Vec<u8>>,
    pub regexwhere: Option<Vec<u8>>,
    #[pyo3(get)]
    pub replace: i32,
    #[pyo3(get)]
    pub create_status: i32,
    #[pyo3(get)]
    pub filedes: i32,
    pub original_file_name: Option<Vec<u8>>,
    pub original_link_name: Option<Vec<u8>>,
}

type PyStr<'py> = PyResult<Option<Bound<'py, pyo3::types::PyString>>>;

impl RestorePacket {
    /// `del` of an object member: back to NULL.
    fn clear(&mut self, name: &str) -> bool {
        match name {
            "statp" => self.statp = None,
            _ => return false,
        }
        true
    }
}

#[pymethods]
impl RestorePacket {
    fn __setattr__(
        slf: &Bound<'_, Self>,
        name: &Bound<'_, PyAny>,
        value: &Bound<'_, PyAny>,
    ) -> PyResult<()> {
        attr::generic_set(slf.as_any(), name, Some(value))
    }
    fn __delattr__(slf: &Bound<'_, Self>, name: &Bound<'_, PyAny>) -> PyResult<()> {
        attr::delete(
            slf,
            name,
            &[
                "attrEX",
                "ofname",
                "olname",
                "where",
                "regexwhere",
                "original_file_name",
                "original_link_name",
            ],
            Self::clear,
        )
    }

    #[new]
    #[pyo3(signature = (stream=0, data_stream=0, r#type=0, file_index=0, linkFI=0, uid=None,
        statp=None, attrEX=None, ofname=None, olname=None, r#where=None, regexwhere=None,
        replace=0, create_status=0, filedes=-1, original_file_name=None,
        original_link_name=None))]
    #[allow(clippy::too_many_arguments, non_snake_case)]
    fn new(
        stream: i32,
        data_stream: i32,
        r#type: i32,
        file_index: i32,
        linkFI: i32,
        uid: Option<&Bound<'_, PyAny>>,
        statp: Option<&Bound<'_, PyAny>>,
        attrEX: Option<&Bound<'_, PyAny>>,
        ofname: Option<&Bound<'_, PyAny>>,
        olname: Option<&Bound<'_, PyAny>>,
        r#where: Option<&Bound<'_, PyAny>>,
        regexwhere: Option<&Bound<'_, PyAny>>,
        replace: i32,
        create_status: i32,
        filedes: i32,
        original_file_name: Option<&Bound<'_, PyAny>>,
        original_link_name: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Self> {
        Ok(RestorePacket {
            stream,
            data_stream,
            type_: r#type,
            file_index,
            link_fi: linkFI,
            uid: masked_or(uid, 0)? as u32,
            statp: attr::opt(statp),
            attr_ex: attr::c_string(attrEX)?,
            ofname: attr::c_string(ofname)?,
            olname: attr::c_string(olname)?,
            where_: attr::c_string(r#where)?,
            regexwhere: attr::c_string(regexwhere)?,
            replace,
            create_status,
            filedes,
            original_file_name: attr::c_string(original_file_name)?,
            original_link_name: attr::c_string(original_link_name)?,
        })
    }

    #[setter]
    fn set_stream(&mut self, v: &Bound<'_, PyAny>) -> PyResult<()> {
        self.stream = attr::int32(v)?;
        Ok(())
    }
    #[setter]
    fn set_data_stream(&mut self, v: &Bound<'_, PyAny>) -> PyResult<()> {
        self.data_stream = attr::int32(v)?;
        Ok(())
    }
    #[setter]
    fn set_type(&mut self, v: &Bound<'_, PyAny>) -> PyResult<()> {
        self.type_ = attr::int32(v)?;
        Ok(())
    }
    #[setter]
    fn set_file_index(&mut self, v: &Bound<'_, PyAny>) -> PyResult<()> {
        self.file_index = attr::int32(v)?;
        Ok(())
    }
    #[setter(linkFI)]
    fn set_link_fi(&mut self, v: &Bound<'_, PyAny>) -> PyResult<()> {
        self.link_fi = attr::int32(v)?;
        Ok(())
    }
    #[setter]
    fn set_uid(&mut self, v: &Bound<'_, PyAny>) -> PyResult<()> {
        self.uid = attr::uint32(v)?;
        Ok(())
    }
    #[setter]
    fn set_statp(&mut self, v: &Bound<'_, PyAny>) {
        self.statp = attr::object(v);
    }
    #[getter(attrEX)]
    fn attr_ex<'py>(&self, py: Python<'py>) -> PyStr<'py> {
        attr::read_c_string(py, &self.attr_ex)
    }
    #[setter(attrEX)]
    fn set_attr_ex(&mut self, _v: &Bound<'_, PyAny>) -> PyResult<()> {
        Err(attr::readonly())
    }
    #[getter]
    fn ofname<'py>(&self, py: Python<'py>) -> PyStr<'py> {
        attr::read_c_string(py, &self.ofname)
    }
    #[setter]
    fn set_ofname(&mut self, _v: &Bound<'_, PyAny>) -> PyResult<()> {
        Err(attr::readonly())
    }
    #[getter]
    fn olname<'py>(&self, py: Python<'py>) -> PyStr<'py> {
        attr::read_c_string(py, &self.olname)
    }
    #[setter]
    fn set_olname(&mut self, _v: &Bound<'_, PyAny>) -> PyResult<()> {
        Err(attr::readonly())
    }
    #[getter(r#where)]
    fn where_<'py>(&self, py: Python<'py>) -> PyStr<'py> {
        attr::read_c_string(py, &self.where_)
    }
    #[setter(r#where)]
    fn set_where(&mut self, _v: &Bound<'_, PyAny>) -> PyResult<()> {
        Err(attr::readonly())
    }
    #[getter]
    fn regexwhere<'py>(&self, py: Python<'py>) -> PyStr<'py> {
        attr::read_c_string(py, &self.regexwhere)
    }
    #[setter]
    fn set_regexwhere(&mut self, _v: &Bound<'_, PyAny>) -> PyResult<()> {
        Err(attr::readonly())
    }
    #[setter]
    fn set_replace(&mut self, v: &Bound<'_, PyAny>) -> PyResult<()> {
        self.replace = attr::int32(v)?;
        Ok(())
    }
    #[setter]
    fn set_create_status(&mut self, v: &Bound<'_, PyAny>) -> PyResult<()> {
        self.create_status = attr::int32(v)?;
        Ok(())
    }
    #[setter]
    fn set_filedes(&mut self, v: &Bound<'_, PyAny>) -> PyResult<()> {
        self.filedes = attr::int32(v)?;
        Ok(())
    }
    #[getter]
    fn original_file_name<'py>(&self, py: Python<'py>) -> PyStr<'py> {
        attr::read_c_string(py, &self.original_file_name)
    }
    #[setter]
    fn set_original_file_name(&mut self, _v: &Bound<'_, PyAny>) -> PyResult<()> {
        Err(attr::readonly())
    }
    #[getter]
    fn original_link_name<'py>(&self, py: Python<'py>) -> PyStr<'py> {
        attr::read_c_string(py, &self.original_link_name)
    }
    #[setter]
    fn set_original_link_name(&mut self, _v: &Bound<'_, PyAny>) -> PyResult<()> {
        Err(attr::readonly())
    }

    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        let statp = match &self.statp {
            Some(s) => s.bind(py).repr()?.to_string_lossy().into_owned(),
            None => "<NULL>".to_owned(),
        };
        Ok(format!(
            "RestorePacket(stream={}, data_stream={}, type={}, file_index={}, linkFI={}, \
             uid={}, statp=\"{}\", attrEx=\"{}\", ofname=\"{}\", olname=\"{}\", where=\"{}\", \
             RegexWhere=\"{}\", replace={}, create_status={}, original_file_name=\"{}\", \
             original_link_name=\"{}\")",
            self.stream,
            self.data_stream,
            self.type_,
            self.file_index,
            self.link_fi,
            self.uid,
            statp,
            attr::show_c(&self.attr_ex),
            attr::show_c(&self.ofname),
            attr::show_c(&self.olname),
            attr::show_c(&self.where_),
            attr::show_c(&self.regexwhere),
            self.replace,
            self.create_status,
            attr::show_c(&self.original_file_name),
            attr::show_c(&self.original_link_name)
        ))
    }
}

// -------------------------------------------------------------------- IoPacket

#[pyclass(name = "io_pkt", subclass)]
pub struct IoPacket {
    #[pyo3(get)]
    pub func: u16,
    #[pyo3(get)]
    pub count: i32,
    #[pyo3(get)]
    pub flags: i32,
    #[pyo3(get)]
    pub mode: i32,
    #[pyo3(get)]
    pub buf: Obj,
    pub fname: Option<Vec<u8>>,
    #[pyo3(get)]
    pub status: i32,
    #[pyo3(get)]
    pub io_errno: i32,
    #[pyo3(get)]
    pub lerror: i32,
    #[pyo3(get)]
    pub whence: i32,
    #[pyo3(get)]
    pub offset: i64,
    #[pyo3(get)]
    pub win32: bool,
    #[pyo3(get)]
    pub filedes: i32,
}

impl IoPacket {
    /// `del` of an object member: back to NULL.
    fn clear(&mut self, name: &str) -> bool {
        match name {
            "buf" => self.buf = None,
            _ => return false,
        }
        true
    }
}

#[pymethods]
impl IoPacket {
    fn __setattr__(
        slf: &Bound<'_, Self>,
        name: &Bound<'_, PyAny>,
        value: &Bound<'_, PyAny>,
    ) -> PyResult<()> {
        attr::generic_set(slf.as_any(), name, Some(value))
    }
    fn __delattr__(slf: &Bound<'_, Self>, name: &Bound<'_, PyAny>) -> PyResult<()> {
        attr::delete(slf, name, &["fname"], Self::clear)
    }

    #[new]
    #[pyo3(signature = (func=None, count=0, flags=0, mode=0, buf=None, fname=None, status=0,
        io_errno=0, lerror=0, whence=0, offset=0, win32=None, filedes=-1))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        func: Option<&Bound<'_, PyAny>>,
        count: i32,
        flags: i32,
        mode: i32,
        buf: Option<&Bound<'_, PyAny>>,
        fname: Option<&Bound<'_, PyAny>>,
        status: i32,
        io_errno: i32,
        lerror: i32,
        whence: i32,
        offset: i64,
        win32: Option<&Bound<'_, PyAny>>,
        filedes: i32,
    ) -> PyResult<Self> {
        Ok(IoPacket {
            func: masked_or(func, 0)? as u16,
            count,
            flags,
            mode,
            buf: attr::opt(buf),
            fname: attr::c_string(fname)?,
            status,
            io_errno,
            lerror,
            whence,
            offset,
            win32: win32.map_or(Ok(false), |v| v.is_truthy())?,
            filedes,
        })
    }

    #[setter]
    fn set_func(&mut self, v: &Bound<'_, PyAny>) -> PyResult<()> {
        self.func = attr::uint16(v)?;
        Ok(())
    }
    #[setter]
    fn set_count(&mut self, v: &Bound<'_, PyAny>) -> PyResult<()> {
        self.count = attr::int32(v)?;
        Ok(())
    }
    #[setter]
    fn set_flags(&mut self, v: &Bound<'_, PyAny>) -> PyResult<()> {
        self.flags = attr::int32(v)?;
        Ok(())
    }
    #[setter]
    fn set_mode(&mut self, v: &Bound<'_, PyAny>) -> PyResult<()> {
        self.mode = attr::int32(v)?;
        Ok(())
    }
    #[setter]
    fn set_buf(&mut self, v: &Bound<'_, PyAny>) {
        self.buf = attr::object(v);
    }
    #[getter]
    fn fname<'py>(&self, py: Python<'py>) -> PyStr<'py> {
        attr::read_c_string(py, &self.fname)
    }
    #[setter]
    fn set_fname(&mut self, _v: &Bound<'_, PyAny>) -> PyResult<()> {
        Err(attr::readonly())
    }
    #[setter]
    fn set_status(&mut self, v: &Bound<'_, PyAny>) -> PyResult<()> {
        self.status = attr::int32(v)?;
        Ok(())
    }
    #[setter]
    fn set_io_errno(&mut self, v: &Bound<'_, PyAny>) -> PyResult<()> {
        self.io_errno = attr::int32(v)?;
        Ok(())
    }
    #[setter]
    fn set_lerror(&mut self, v: &Bound<'_, PyAny>) -> PyResult<()> {
        self.lerror = attr::int32(v)?;
        Ok(())
    }
    #[setter]
    fn set_whence(&mut self, v: &Bound<'_, PyAny>) -> PyResult<()> {
        self.whence = attr::int32(v)?;
        Ok(())
    }
    #[setter]
    fn set_offset(&mut self, v: &Bound<'_, PyAny>) -> PyResult<()> {
        self.offset = attr::int64(v)?;
        Ok(())
    }
    #[setter]
    fn set_win32(&mut self, v: &Bound<'_, PyAny>) -> PyResult<()> {
        self.win32 = attr::boolean(v)?;
        Ok(())
    }
    #[setter]
    fn set_filedes(&mut self, v: &Bound<'_, PyAny>) -> PyResult<()> {
        self.filedes = attr::int32(v)?;
        Ok(())
    }

    fn __repr__(&self, py: Python<'_>) -> String {
        format!(
            "IoPacket(func={}, count={}, flags={}, mode={:04o}, buf=\"{}\", fname=\"{}\", \
             status={}, io_errno={}, lerror={}, whence={}, offset={}, win32={}, filedes={})",
            self.func,
            self.count,
            self.flags,
            self.mode & 0o7777,
            attr::show_bytearray(py, &self.buf),
            attr::show_c(&self.fname),
            self.status,
            self.io_errno,
            self.lerror,
            self.whence,
            self.offset,
            u8::from(self.win32),
            self.filedes
        )
    }
}

// ------------------------------------------------------------------- AclPacket

#[pyclass(name = "acl_pkt", subclass)]
#[derive(Default)]
pub struct AclPacket {
    pub fname: Option<Vec<u8>>,
    #[pyo3(get)]
    pub content: Obj,
}

impl AclPacket {
    /// `del` of an object member: back to NULL.
    fn clear(&mut self, name: &str) -> bool {
        match name {
            "content" => self.content = None,
            _ => return false,
        }
        true
    }
}

#[pymethods]
impl AclPacket {
    fn __setattr__(
        slf: &Bound<'_, Self>,
        name: &Bound<'_, PyAny>,
        value: &Bound<'_, PyAny>,
    ) -> PyResult<()> {
        attr::generic_set(slf.as_any(), name, Some(value))
    }
    fn __delattr__(slf: &Bound<'_, Self>, name: &Bound<'_, PyAny>) -> PyResult<()> {
        attr::delete(slf, name, &["fname"], Self::clear)
    }

    #[new]
    #[pyo3(signature = (fname=None, content=None))]
    fn new(fname: Option<&Bound<'_, PyAny>>, content: Option<&Bound<'_, PyAny>>) -> PyResult<Self> {
        Ok(AclPacket {
            fname: attr::c_string(fname)?,
            content: attr::opt(content),
        })
    }

    #[getter]
    fn fname<'py>(&self, py: Python<'py>) -> PyStr<'py> {
        attr::read_c_string(py, &self.fname)
    }
    #[setter]
    fn set_fname(&mut self, _v: &Bound<'_, PyAny>) -> PyResult<()> {
        Err(attr::readonly())
    }
    #[setter]
    fn set_content(&mut self, v: &Bound<'_, PyAny>) {
        self.content = attr::object(v);
    }

    fn __repr__(&self, py: Python<'_>) -> String {
        format!(
            "AclPacket(fname=\"{}\", content=\"{}\")",
            attr::show_c(&self.fname),
            attr::show_bytearray(py, &self.content)
        )
    }
}

// ----------------------------------------------------------------- XattrPacket

#[pyclass(name = "xattr_pkt", subclass)]
#[derive(Default)]
pub struct XattrPacket {
    pub fname: Option<Vec<u8>>,
    #[pyo3(get)]
    pub name: Obj,
    #[pyo3(get)]
    pub value: Obj,
}

impl XattrPacket {
    /// `del` of an object member: back to NULL.
    fn clear(&mut self, name: &str) -> bool {
        match name {
            "name" => self.name = None,
            "value" => self.value = None,
            _ => return false,
        }
        true
    }
}

#[pymethods]
impl XattrPacket {
    fn __setattr__(
        slf: &Bound<'_, Self>,
        name: &Bound<'_, PyAny>,
        value: &Bound<'_, PyAny>,
    ) -> PyResult<()> {
        attr::generic_set(slf.as_any(), name, Some(value))
    }
    fn __delattr__(slf: &Bound<'_, Self>, name: &Bound<'_, PyAny>) -> PyResult<()> {
        attr::delete(slf, name, &["fname"], Self::clear)
    }

    #[new]
    #[pyo3(signature = (fname=None, name=None, value=None))]
    fn new(
        fname: Option<&Bound<'_, PyAny>>,
        name: Option<&Bound<'_, PyAny>>,
        value: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Self> {
        Ok(XattrPacket {
            fname: attr::c_string(fname)?,
            name: attr::opt(name),
            value: attr::opt(value),
        })
    }

    #[getter]
    fn fname<'py>(&self, py: Python<'py>) -> PyStr<'py> {
        attr::read_c_string(py, &self.fname)
    }
    #[setter]
    fn set_fname(&mut self, _v: &Bound<'_, PyAny>) -> PyResult<()> {
        Err(attr::readonly())
    }
    #[setter]
    fn set_name(&mut self, v: &Bound<'_, PyAny>) {
        self.name = attr::object(v);
    }
    #[setter]
    fn set_value(&mut self, v: &Bound<'_, PyAny>) {
        self.value = attr::object(v);
    }

    fn __repr__(&self, py: Python<'_>) -> String {
        format!(
            "XattrPacket(fname=\"{}\", name=\"{}\", value=\"{}\")",
            attr::show_c(&self.fname),
            attr::show_bytearray(py, &self.name),
            attr::show_bytearray(py, &self.value)
        )
    }
}

// --------------------------------------------------------------- RestoreObject

#[pyclass(name = "restore_object", subclass)]
#[derive(Default)]
pub struct RestoreObject {
    #[pyo3(get)]
    pub object_name: Obj,
    #[pyo3(get)]
    pub object: Obj,
    pub plugin_name: Option<Vec<u8>>,
    #[pyo3(get)]
    pub object_type: i32,
    #[pyo3(get)]
    pub object_len: i32,
    #[pyo3(get)]
    pub object_full_len: i32,
    #[pyo3(get)]
    pub object_index: i32,
    #[pyo3(get)]
    pub object_compression: i32,
    #[pyo3(get)]
    pub stream: i32,
    #[pyo3(get)]
    pub jobid: u32,
}

impl RestoreObject {
    /// `del` of an object member: back to NULL.
    fn clear(&mut self, name: &str) -> bool {
        match name {
            "object_name" => self.object_name = None,
            "object" => self.object = None,
            _ => return false,
        }
        true
    }
}

#[pymethods]
impl RestoreObject {
    fn __setattr__(
        slf: &Bound<'_, Self>,
        name: &Bound<'_, PyAny>,
        value: &Bound<'_, PyAny>,
    ) -> PyResult<()> {
        attr::generic_set(slf.as_any(), name, Some(value))
    }
    fn __delattr__(slf: &Bound<'_, Self>, name: &Bound<'_, PyAny>) -> PyResult<()> {
        attr::delete(slf, name, &["plugin_name"], Self::clear)
    }

    #[new]
    #[pyo3(signature = (object_name=None, object=None, plugin_name=None, object_type=0,
        object_len=0, object_full_len=0, object_index=0, object_compression=0, stream=0,
        jobid=None))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        object_name: Option<&Bound<'_, PyAny>>,
        object: Option<&Bound<'_, PyAny>>,
        plugin_name: Option<&Bound<'_, PyAny>>,
        object_type: i32,
        object_len: i32,
        object_full_len: i32,
        object_index: i32,
        object_compression: i32,
        stream: i32,
        jobid: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Self> {
        Ok(RestoreObject {
            object_name: attr::opt(object_name),
            object: attr::opt(object),
            plugin_name: attr::c_string(plugin_name)?,
            object_type,
            object_len,
            object_full_len,
            object_index,
            object_compression,
            stream,
            jobid: masked_or(jobid, 0)? as u32,
        })
    }

    #[setter]
    fn set_object_name(&mut self, v: &Bound<'_, PyAny>) {
        self.object_name = attr::object(v);
    }
    #[setter]
    fn set_object(&mut self, v: &Bound<'_, PyAny>) {
        self.object = attr::object(v);
    }
    #[getter]
    fn plugin_name<'py>(&self, py: Python<'py>) -> PyStr<'py> {
        attr::read_c_string(py, &self.plugin_name)
    }
    #[setter]
    fn set_plugin_name(&mut self, _v: &Bound<'_, PyAny>) -> PyResult<()> {
        Err(attr::readonly())
    }
    #[setter]
    fn set_object_type(&mut self, v: &Bound<'_, PyAny>) -> PyResult<()> {
        self.object_type = attr::int32(v)?;
        Ok(())
    }
    #[setter]
    fn set_object_len(&mut self, v: &Bound<'_, PyAny>) -> PyResult<()> {
        self.object_len = attr::int32(v)?;
        Ok(())
    }
    #[setter]
    fn set_object_full_len(&mut self, v: &Bound<'_, PyAny>) -> PyResult<()> {
        self.object_full_len = attr::int32(v)?;
        Ok(())
    }
    #[setter]
    fn set_object_index(&mut self, v: &Bound<'_, PyAny>) -> PyResult<()> {
        self.object_index = attr::int32(v)?;
        Ok(())
    }
    #[setter]
    fn set_object_compression(&mut self, v: &Bound<'_, PyAny>) -> PyResult<()> {
        self.object_compression = attr::int32(v)?;
        Ok(())
    }
    #[setter]
    fn set_stream(&mut self, v: &Bound<'_, PyAny>) -> PyResult<()> {
        self.stream = attr::int32(v)?;
        Ok(())
    }
    #[setter]
    fn set_jobid(&mut self, v: &Bound<'_, PyAny>) -> PyResult<()> {
        self.jobid = attr::uint32(v)?;
        Ok(())
    }

    fn __repr__(&self, py: Python<'_>) -> String {
        format!(
            "RestoreObject(object_name=\"{}\", object=\"{}\", plugin_name=\"{}\", \
             object_type={}, object_len={}, object_full_len={}, object_index={}, \
             object_compression={}, stream={}, jobid={})",
            attr::show_str(py, &self.object_name),
            attr::show_bytearray(py, &self.object),
            attr::show_c(&self.plugin_name),
            self.object_type,
            self.object_len,
            self.object_full_len,
            self.object_index,
            self.object_compression,
            self.stream,
            self.jobid
        )
    }
}
