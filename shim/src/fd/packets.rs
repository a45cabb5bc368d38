//! Conversions between the core's C packets and protocol messages, done once
//! at the FFI edge. Functions taking raw pointers are `unsafe`: the caller
//! vouches that the pointer is NULL or valid for the duration of the call.

use std::ffi::{CString, c_char, c_void};

use sidecar_proto as pb;

use super::abi::{self, FOPTS_BYTES, io_pkt, restore_object_pkt, restore_pkt, save_pkt};
use crate::backend::IoBuffer;
pub use crate::ffi::cstr::{bytes_of, c_string, malloc_copy};

pub fn stat_to_proto(s: &libc::stat) -> pb::Stat {
    pb::Stat {
        dev: s.st_dev,
        ino: s.st_ino,
        mode: s.st_mode,
        nlink: s.st_nlink,
        uid: s.st_uid,
        gid: s.st_gid,
        rdev: s.st_rdev,
        size: s.st_size,
        blksize: s.st_blksize,
        blocks: s.st_blocks,
        atime: s.st_atime,
        mtime: s.st_mtime,
        ctime: s.st_ctime,
    }
}

pub fn stat_from_proto(p: &pb::Stat) -> libc::stat {
    // SAFETY: libc::stat is plain old data; all-zero is a valid value.
    let mut s: libc::stat = unsafe { std::mem::zeroed() };
    s.st_dev = p.dev;
    s.st_ino = p.ino;
    s.st_mode = p.mode;
    s.st_nlink = p.nlink;
    s.st_uid = p.uid;
    s.st_gid = p.gid;
    s.st_rdev = p.rdev;
    s.st_size = p.size;
    s.st_blksize = p.blksize;
    s.st_blocks = p.blocks;
    s.st_atime = p.atime;
    s.st_mtime = p.mtime;
    s.st_ctime = p.ctime;
    s
}

/// A save_pkt built from a message, owning the strings it points to.
pub struct OwnedSavePkt {
    pkt: Box<save_pkt>,
    _strings: Vec<CString>,
    _object: Vec<u8>,
}

impl OwnedSavePkt {
    pub fn from_proto(sp: &pb::SavePacket) -> OwnedSavePkt {
        // SAFETY: save_pkt is plain old data; all-zero is what the core starts from.
        let mut pkt: Box<save_pkt> = Box::new(unsafe { std::mem::zeroed() });
        let mut strings = Vec::new();
        let mut keep = |b: &Option<Vec<u8>>| -> *mut c_char {
            match b {
                Some(b) => {
                    let s = c_string(b);
                    let p = s.as_ptr() as *mut c_char;
                    strings.push(s);
                    p
                }
                None => std::ptr::null_mut(),
            }
        };
        pkt.pkt_size = std::mem::size_of::<save_pkt>() as i32;
        pkt.pkt_end = pkt.pkt_size;
        pkt.fname = keep(&sp.fname);
        pkt.link = keep(&sp.link);
        pkt.cmd = keep(&sp.cmd);
        pkt.object_name = keep(&sp.object_name);
        if let Some(st) = &sp.statp {
            pkt.statp = stat_from_proto(st);
        }
        pkt.type_ = sp.r#type;
        copy_flags(&mut pkt.flags, &sp.flags);
        pkt.no_read = sp.no_read;
        pkt.portable = sp.portable;
        pkt.accurate_found = sp.accurate_found;
        pkt.save_time = sp.save_time;
        pkt.delta_seq = sp.delta_seq;
        let mut object = sp.object.clone().unwrap_or_default();
        pkt.object = if sp.object.is_some() {
            object.as_mut_ptr().cast()
        } else {
            std::ptr::null_mut()
        };
        pkt.object_len = sp.object_len.clamp(0, object.len() as i32);
        pkt.index = sp.index;
        OwnedSavePkt {
            pkt,
            _strings: strings,
            _object: object,
        }
    }

    pub fn as_mut_ptr(&mut self) -> *mut save_pkt {
        &mut *self.pkt
    }

    pub fn pkt(&self) -> &save_pkt {
        &self.pkt
    }
}

pub fn copy_flags(dst: &mut [u8; FOPTS_BYTES], src: &[u8]) {
    let n = src.len().min(FOPTS_BYTES);
    dst[..n].copy_from_slice(&src[..n]);
}

/// The save_pkt the core handed to bEventHandleBackupFile, as a message.
///
/// # Safety
/// `sp` points to a valid save_pkt for this call.
pub unsafe fn save_pkt_to_proto(sp: &save_pkt) -> pb::SavePacket {
    // SAFETY: the strings of a valid packet are NULL or NUL-terminated.
    unsafe {
        pb::SavePacket {
            fname: bytes_of(sp.fname),
            link: bytes_of(sp.link),
            statp: Some(stat_to_proto(&sp.statp)),
            r#type: sp.type_,
            flags: sp.flags.to_vec(),
            no_read: sp.no_read,
            portable: sp.portable,
            accurate_found: sp.accurate_found,
            cmd: bytes_of(sp.cmd),
            save_time: sp.save_time,
            delta_seq: sp.delta_seq,
            object_name: bytes_of(sp.object_name),
            object: None,
            object_len: sp.object_len,
            index: sp.index,
        }
    }
}

/// The restore_pkt of createFile/setFileAttributes, as a message. Fields a
/// packet of an older core does not have (by `pkt_size`) stay empty.
///
/// # Safety
/// `rp` points to a valid restore_pkt of at least `pkt_size` bytes.
pub unsafe fn restore_pkt_to_proto(rp: &restore_pkt) -> pb::RestorePacket {
    let has_filedes = rp.pkt_size >= abi::RESTORE_PKT_SIZE_V22;
    let has_original = rp.pkt_size >= std::mem::size_of::<restore_pkt>() as i32;
    // SAFETY: strings of a valid packet are NULL or NUL-terminated; optional
    // fields are only read when `pkt_size` says they exist.
    unsafe {
        pb::RestorePacket {
            stream: rp.stream,
            data_stream: rp.data_stream,
            r#type: rp.type_,
            file_index: rp.file_index,
            link_fi: rp.LinkFI,
            uid: rp.uid,
            statp: Some(stat_to_proto(&rp.statp)),
            attr_ex: bytes_of(rp.attrEx),
            ofname: bytes_of(rp.ofname),
            olname: bytes_of(rp.olname),
            r#where: bytes_of(rp.where_),
            regex_where: bytes_of(rp.RegexWhere),
            replace: rp.replace,
            create_status: rp.create_status,
            delta_seq: rp.delta_seq,
            filedes: if has_filedes { rp.filedes } else { -1 },
            original_file_name: if has_original {
                bytes_of(rp.original_file_name)
            } else {
                None
            },
            original_link_name: if has_original {
                bytes_of(rp.original_link_name)
            } else {
                None
            },
        }
    }
}

pub fn restore_pkt_has_filedes(rp: &restore_pkt) -> bool {
    rp.pkt_size >= abi::RESTORE_PKT_SIZE_V22
}

/// io_pkt of an older core (before 22.0) has no `filedes`.
pub fn io_pkt_has_filedes(io: &io_pkt) -> bool {
    io.pkt_size >= std::mem::size_of::<io_pkt>() as i32
}

/// The request part of an io_pkt, without the data (see [`io_buffer`]).
/// `filedes` is filled in by the caller (translated to the runner's number).
///
/// # Safety
/// `io` points to a valid io_pkt.
pub unsafe fn io_request(io: &io_pkt) -> pb::IoRequest {
    pb::IoRequest {
        func: io.func,
        count: io.count,
        flags: io.flags,
        mode: io.mode,
        // SAFETY: fname is NULL or a C string.
        fname: unsafe { bytes_of(io.fname) },
        buf: Vec::new(),
        area_len: None,
        buf_hash: None,
        whence: io.whence,
        offset: io.offset,
        filedes: -1,
    }
}

/// The core's data buffer of an io_pkt: the bytes to write for IO_WRITE,
/// the space to read into for IO_READ.
///
/// # Safety
/// `io`'s `buf` (unless NULL) holds `count` bytes, and nothing else uses
/// that buffer during `'a` (the caller picks `'a`: the plugin call).
pub unsafe fn io_buffer<'a>(io: &io_pkt) -> IoBuffer<'a> {
    if io.buf.is_null() || io.count <= 0 {
        return IoBuffer::None;
    }
    let len = io.count as usize;
    match io.func {
        // SAFETY: the core's buffer holds `count` bytes (caller's promise).
        abi::io::WRITE => {
            IoBuffer::Write(unsafe { std::slice::from_raw_parts(io.buf.cast(), len) })
        }
        // SAFETY: as above; the core lends it to the plugin for this call.
        abi::io::READ => {
            IoBuffer::Read(unsafe { std::slice::from_raw_parts_mut(io.buf.cast(), len) })
        }
        _ => IoBuffer::None,
    }
}

/// bEventRestoreObject's packet, as a message.
///
/// # Safety
/// `rop` points to a valid restore_object_pkt whose `object` holds
/// `object_len` bytes.
pub unsafe fn restore_object_to_proto(rop: &restore_object_pkt) -> pb::RestoreObject {
    let len = rop.object_len.max(0) as usize;
    let object = if rop.object.is_null() || len == 0 {
        Vec::new()
    } else {
        // SAFETY: the core's object buffer holds object_len bytes.
        unsafe { std::slice::from_raw_parts(rop.object.cast::<u8>(), len) }.to_vec()
    };
    // SAFETY: strings of a valid packet are NULL or NUL-terminated.
    unsafe {
        pb::RestoreObject {
            object_name: bytes_of(rop.object_name).unwrap_or_default(),
            object,
            plugin_name: bytes_of(rop.plugin_name),
            object_type: rop.object_type,
            object_len: rop.object_len,
            object_full_len: rop.object_full_len,
            object_index: rop.object_index,
            object_compression: rop.object_compression,
            stream: rop.stream,
            jobid: rop.JobId,
        }
    }
}

/// Pointer-sized event values that are integers, never pointers (ABI §7.2).
pub fn event_number(value: *mut c_void) -> i64 {
    value as isize as i64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_round_trip() {
        let p = pb::Stat {
            dev: 1,
            ino: 2,
            mode: 0o100644,
            nlink: 3,
            uid: 4,
            gid: 5,
            rdev: 6,
            size: 7,
            blksize: 8,
            blocks: 9,
            atime: -10,
            mtime: 11,
            ctime: 12,
        };
        assert_eq!(stat_to_proto(&stat_from_proto(&p)), p);
    }

    #[test]
    fn owned_save_pkt_points_at_its_own_strings() {
        let sp = pb::SavePacket {
            fname: Some(b"/a b".to_vec()),
            link: None,
            object: Some(vec![1, 2, 3]),
            object_len: 99,
            flags: vec![1, 2, 3, 4, 5, 6],
            ..Default::default()
        };
        let owned = OwnedSavePkt::from_proto(&sp);
        let pkt = owned.pkt();
        // SAFETY: fname points into `owned`.
        assert_eq!(unsafe { bytes_of(pkt.fname) }, Some(b"/a b".to_vec()));
        assert!(pkt.link.is_null());
        assert_eq!(pkt.object_len, 3, "object_len is clamped to the data");
        assert_eq!(pkt.flags, [1, 2, 3, 4, 5]);
        assert_eq!(pkt.pkt_size, 240);
    }
}
