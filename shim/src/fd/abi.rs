//! The Bareos file-daemon plugin ABI (interface version 10), as `#[repr(C)]`
//! Rust types.
//!
//! Layouts are for x86_64 Linux/glibc and are pinned by the tests at the end
//! of this file (offsets from the Bareos headers, see `shared/spec/fd-abi.md`).
//! This module holds declarations only: no behaviour, so both sides of the ABI
//! (the shim as plugin, `fdhost` as core) can use it.

#![allow(non_camel_case_types, non_snake_case, non_upper_case_globals)]

use std::ffi::{c_char, c_int, c_void};

pub use crate::ffi::types::*;

/// python3-fd's "Python returned something that is not an int".
pub const PYTHON_UNDEFINED_RETURN_VALUE: bRC = -1;

pub const FD_PLUGIN_INTERFACE_VERSION: u32 = 10;
pub const FD_PLUGIN_MAGIC: &str = "*FDPluginData*";
pub const FOPTS_BYTES: usize = 5;

/// Callbacks the core offers (ABI §4), in table order.
#[repr(C)]
pub struct CoreFunctions {
    pub size: u32,
    pub version: u32,
    pub registerBareosEvents: Option<unsafe extern "C" fn(Ctx, c_int, ...) -> bRC>,
    pub unregisterBareosEvents: Option<unsafe extern "C" fn(Ctx, c_int, ...) -> bRC>,
    pub getInstanceCount: Option<unsafe extern "C" fn(Ctx, *mut c_int) -> bRC>,
    pub getBareosValue: Option<unsafe extern "C" fn(Ctx, c_int, *mut c_void) -> bRC>,
    pub setBareosValue: Option<unsafe extern "C" fn(Ctx, c_int, *const c_void) -> bRC>,
    pub JobMessage: Option<
        unsafe extern "C" fn(Ctx, *const c_char, c_int, c_int, utime_t, *const c_char, ...) -> bRC,
    >,
    pub DebugMessage:
        Option<unsafe extern "C" fn(Ctx, *const c_char, c_int, c_int, *const c_char, ...) -> bRC>,
    pub bareosMalloc: Option<unsafe extern "C" fn(Ctx, *const c_char, c_int, usize) -> *mut c_void>,
    pub bareosFree: Option<unsafe extern "C" fn(Ctx, *const c_char, c_int, *mut c_void)>,
    pub AddExclude: Option<unsafe extern "C" fn(Ctx, *const c_char) -> bRC>,
    pub AddInclude: Option<unsafe extern "C" fn(Ctx, *const c_char) -> bRC>,
    pub AddOptions: Option<unsafe extern "C" fn(Ctx, *const c_char) -> bRC>,
    pub AddRegex: Option<unsafe extern "C" fn(Ctx, *const c_char, c_int) -> bRC>,
    pub AddWild: Option<unsafe extern "C" fn(Ctx, *const c_char, c_int) -> bRC>,
    pub NewOptions: Option<unsafe extern "C" fn(Ctx) -> bRC>,
    pub NewInclude: Option<unsafe extern "C" fn(Ctx) -> bRC>,
    pub NewPreInclude: Option<unsafe extern "C" fn(Ctx) -> bRC>,
    pub checkChanges: Option<unsafe extern "C" fn(Ctx, *mut save_pkt) -> bRC>,
    pub AcceptFile: Option<unsafe extern "C" fn(Ctx, *mut save_pkt) -> bRC>,
    pub SetSeenBitmap: Option<unsafe extern "C" fn(Ctx, bool, *mut c_char) -> bRC>,
    pub ClearSeenBitmap: Option<unsafe extern "C" fn(Ctx, bool, *mut c_char) -> bRC>,
}

/// Entry points the plugin provides (ABI §5), in table order.
#[repr(C)]
pub struct PluginFunctions {
    pub size: u32,
    pub version: u32,
    pub newPlugin: Option<unsafe extern "C" fn(Ctx) -> bRC>,
    pub freePlugin: Option<unsafe extern "C" fn(Ctx) -> bRC>,
    pub getPluginValue: Option<unsafe extern "C" fn(Ctx, c_int, *mut c_void) -> bRC>,
    pub setPluginValue: Option<unsafe extern "C" fn(Ctx, c_int, *mut c_void) -> bRC>,
    pub handlePluginEvent: Option<unsafe extern "C" fn(Ctx, *mut bEvent, *mut c_void) -> bRC>,
    pub startBackupFile: Option<unsafe extern "C" fn(Ctx, *mut save_pkt) -> bRC>,
    pub endBackupFile: Option<unsafe extern "C" fn(Ctx) -> bRC>,
    pub startRestoreFile: Option<unsafe extern "C" fn(Ctx, *const c_char) -> bRC>,
    pub endRestoreFile: Option<unsafe extern "C" fn(Ctx) -> bRC>,
    pub pluginIO: Option<unsafe extern "C" fn(Ctx, *mut io_pkt) -> bRC>,
    pub createFile: Option<unsafe extern "C" fn(Ctx, *mut restore_pkt) -> bRC>,
    pub setFileAttributes: Option<unsafe extern "C" fn(Ctx, *mut restore_pkt) -> bRC>,
    pub checkFile: Option<unsafe extern "C" fn(Ctx, *mut c_char) -> bRC>,
    pub getAcl: Option<unsafe extern "C" fn(Ctx, *mut acl_pkt) -> bRC>,
    pub setAcl: Option<unsafe extern "C" fn(Ctx, *mut acl_pkt) -> bRC>,
    pub getXattr: Option<unsafe extern "C" fn(Ctx, *mut xattr_pkt) -> bRC>,
    pub setXattr: Option<unsafe extern "C" fn(Ctx, *mut xattr_pkt) -> bRC>,
}

// SAFETY: a table of function pointers, never mutated after construction.
unsafe impl Sync for PluginFunctions {}

pub type LoadPluginFn = unsafe extern "C" fn(
    *mut PluginApiDefinition,
    *mut CoreFunctions,
    *mut *mut PluginInformation,
    *mut *mut PluginFunctions,
) -> bRC;
pub type UnloadPluginFn = unsafe extern "C" fn() -> bRC;

/// Backup file description, filled by the plugin in startBackupFile (ABI §6.2).
#[repr(C)]
pub struct save_pkt {
    pub pkt_size: i32,
    pub fname: *mut c_char,
    pub link: *mut c_char,
    pub statp: libc::stat,
    pub type_: i32,
    pub flags: [u8; FOPTS_BYTES],
    pub no_read: bool,
    pub portable: bool,
    pub accurate_found: bool,
    pub cmd: *mut c_char,
    pub save_time: libc::time_t,
    pub delta_seq: u32,
    pub object_name: *mut c_char,
    pub object: *mut c_char,
    pub object_len: i32,
    pub index: i32,
    pub pkt_end: i32,
}

/// Passed to createFile and setFileAttributes (ABI §6.3). Cores before
/// 25.1 pass a shorter packet (see [`RESTORE_PKT_SIZE_V22`]).
#[repr(C)]
pub struct restore_pkt {
    pub pkt_size: i32,
    pub stream: i32,
    pub data_stream: i32,
    pub type_: i32,
    pub file_index: i32,
    pub LinkFI: i32,
    pub uid: libc::uid_t,
    pub statp: libc::stat,
    pub attrEx: *const c_char,
    pub ofname: *const c_char,
    pub olname: *const c_char,
    pub where_: *const c_char,
    pub RegexWhere: *const c_char,
    pub replace: c_int,
    pub create_status: c_int,
    pub delta_seq: u32,
    pub filedes: c_int,
    pub original_file_name: *const c_char,
    pub original_link_name: *const c_char,
    pub pkt_end: i32,
}

/// `restore_pkt` size of Bareos 22.0 .. 25.1 (no `original_*` names).
pub const RESTORE_PKT_SIZE_V22: i32 = 240;

/// pluginIO packet (ABI §6.4). Cores before 22.0 pass 72 bytes (no `filedes`).
#[repr(C)]
pub struct io_pkt {
    pub pkt_size: i32,
    pub func: i32,
    pub count: i32,
    pub flags: i32,
    pub mode: libc::mode_t,
    pub buf: *mut c_char,
    pub fname: *const c_char,
    pub status: i32,
    pub io_errno: i32,
    pub lerror: i32,
    pub whence: i32,
    pub offset: i64,
    pub win32: bool,
    pub filedes: c_int,
    pub pkt_end: i32,
}

#[repr(C)]
pub struct acl_pkt {
    pub pkt_size: i32,
    pub fname: *const c_char,
    pub content_length: u32,
    pub content: *mut c_char,
    pub pkt_end: i32,
}

#[repr(C)]
pub struct xattr_pkt {
    pub pkt_size: i32,
    pub fname: *const c_char,
    pub name_length: u32,
    pub name: *mut c_char,
    pub value_length: u32,
    pub value: *mut c_char,
    pub pkt_end: i32,
}

/// Value of bEventRestoreObject (ABI §6.7).
#[repr(C)]
pub struct restore_object_pkt {
    pub pkt_size: i32,
    pub object_name: *mut c_char,
    pub object: *mut c_char,
    pub plugin_name: *mut c_char,
    pub object_type: i32,
    pub object_len: i32,
    pub object_full_len: i32,
    pub object_index: i32,
    pub object_compression: i32,
    pub stream: i32,
    pub JobId: u32,
    pub pkt_end: i32,
}

/// Event numbers (ABI §7.1), defined once for shim and runner in proto.
pub mod event {
    pub use sidecar_proto::events::fd::*;
    /// FD_NR_EVENTS: the highest event number.
    pub const MAX: u32 = sidecar_proto::events::FD_MAX;
}

/// bVariable numbers (ABI §7.3), defined once for shim and runner in proto.
pub use sidecar_proto::variables::fd as var;

/// File types FT_* (ABI §7.4).
pub mod ft {
    pub const LNKSAVED: i32 = 1;
    pub const REGE: i32 = 2;
    pub const REG: i32 = 3;
    pub const LNK: i32 = 4;
    pub const DIREND: i32 = 5;
    pub const SPEC: i32 = 6;
    pub const NOACCESS: i32 = 7;
    pub const NOFOLLOW: i32 = 8;
    pub const NOSTAT: i32 = 9;
    pub const NOCHG: i32 = 10;
    pub const DIRNOCHG: i32 = 11;
    pub const ISARCH: i32 = 12;
    pub const NORECURSE: i32 = 13;
    pub const NOFSCHG: i32 = 14;
    pub const NOOPEN: i32 = 15;
    pub const RAW: i32 = 16;
    pub const FIFO: i32 = 17;
    pub const DIRBEGIN: i32 = 18;
    pub const INVALIDFS: i32 = 19;
    pub const INVALIDDT: i32 = 20;
    pub const REPARSE: i32 = 21;
    pub const PLUGIN: i32 = 22;
    pub const DELETED: i32 = 23;
    pub const BASE: i32 = 24;
    pub const RESTORE_FIRST: i32 = 25;
    pub const JUNCTION: i32 = 26;
    pub const PLUGIN_CONFIG: i32 = 27;
    pub const PLUGIN_CONFIG_FILLED: i32 = 28;

    /// Types the core treats as restore objects.
    pub fn is_object(t: i32) -> bool {
        matches!(t, RESTORE_FIRST | PLUGIN_CONFIG | PLUGIN_CONFIG_FILLED)
    }
}

/// createFile statuses CF_* (ABI §7.5).
pub mod cf {
    pub const SKIP: i32 = 1;
    pub const ERROR: i32 = 2;
    pub const EXTRACT: i32 = 3;
    pub const CREATED: i32 = 4;
    pub const CORE: i32 = 5;
}

/// pluginIO functions IO_* (ABI §7.6).
pub mod io {
    pub const OPEN: i32 = 1;
    pub const READ: i32 = 2;
    pub const WRITE: i32 = 3;
    pub const CLOSE: i32 = 4;
    pub const SEEK: i32 = 5;
}

/// `io_pkt.status` after IO_OPEN (ABI §7.7).
pub mod iostat {
    pub const ERROR: i32 = -1;
    pub const DO_IO_IN_PLUGIN: i32 = 0;
    pub const DO_IO_IN_CORE: i32 = 1;
}

/// FileSet option bit numbers FO_* used by plugins (ABI §7.11).
pub mod fo {
    pub const PORTABLE_DATA: usize = 0;
    pub const SPARSE: usize = 5;
    pub const ACL: usize = 14;
    pub const NO_HARDLINK: usize = 15;
    pub const XATTR: usize = 27;
    pub const DELTA: usize = 28;
    pub const PLUGIN: usize = 29;
    pub const OFFSETS: usize = 30;

    /// Is bit `n` set in a 5-byte FileSet flag array?
    pub fn is_set(flags: &[u8], n: usize) -> bool {
        flags.get(n >> 3).is_some_and(|b| b & (1 << (n & 7)) != 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::mem::{offset_of, size_of};

    #[test]
    fn common_types_match_the_bareos_headers() {
        assert_eq!(size_of::<PluginContext>(), 32);
        assert_eq!(offset_of!(PluginContext, plugin_private_context), 24);
        assert_eq!(size_of::<Plugin>(), 48);
        assert_eq!(offset_of!(Plugin, plugin_handle), 40);
        assert_eq!(size_of::<PluginApiDefinition>(), 8);
        assert_eq!(size_of::<PluginInformation>(), 64);
        assert_eq!(offset_of!(PluginInformation, plugin_usage), 56);
        assert_eq!(size_of::<CoreFunctions>(), 176);
        assert_eq!(offset_of!(CoreFunctions, ClearSeenBitmap), 168);
        assert_eq!(offset_of!(CoreFunctions, checkChanges), 144);
        assert_eq!(size_of::<PluginFunctions>(), 8 + 17 * 8);
        assert_eq!(offset_of!(PluginFunctions, setXattr), 136);
        assert_eq!(size_of::<libc::stat>(), 144);
    }

    #[test]
    fn save_pkt_layout() {
        assert_eq!(offset_of!(save_pkt, fname), 8);
        assert_eq!(offset_of!(save_pkt, link), 16);
        assert_eq!(offset_of!(save_pkt, statp), 24);
        assert_eq!(offset_of!(save_pkt, type_), 168);
        assert_eq!(offset_of!(save_pkt, flags), 172);
        assert_eq!(offset_of!(save_pkt, no_read), 177);
        assert_eq!(offset_of!(save_pkt, portable), 178);
        assert_eq!(offset_of!(save_pkt, accurate_found), 179);
        assert_eq!(offset_of!(save_pkt, cmd), 184);
        assert_eq!(offset_of!(save_pkt, save_time), 192);
        assert_eq!(offset_of!(save_pkt, delta_seq), 200);
        assert_eq!(offset_of!(save_pkt, object_name), 208);
        assert_eq!(offset_of!(save_pkt, object), 216);
        assert_eq!(offset_of!(save_pkt, object_len), 224);
        assert_eq!(offset_of!(save_pkt, index), 228);
        assert_eq!(offset_of!(save_pkt, pkt_end), 232);
        assert_eq!(size_of::<save_pkt>(), 240);
    }

    #[test]
    fn restore_pkt_layout() {
        assert_eq!(offset_of!(restore_pkt, uid), 24);
        assert_eq!(offset_of!(restore_pkt, statp), 32);
        assert_eq!(offset_of!(restore_pkt, attrEx), 176);
        assert_eq!(offset_of!(restore_pkt, ofname), 184);
        assert_eq!(offset_of!(restore_pkt, olname), 192);
        assert_eq!(offset_of!(restore_pkt, where_), 200);
        assert_eq!(offset_of!(restore_pkt, RegexWhere), 208);
        assert_eq!(offset_of!(restore_pkt, replace), 216);
        assert_eq!(offset_of!(restore_pkt, create_status), 220);
        assert_eq!(offset_of!(restore_pkt, delta_seq), 224);
        assert_eq!(offset_of!(restore_pkt, filedes), 228);
        assert_eq!(offset_of!(restore_pkt, original_file_name), 232);
        assert_eq!(offset_of!(restore_pkt, original_link_name), 240);
        assert_eq!(offset_of!(restore_pkt, pkt_end), 248);
        assert_eq!(size_of::<restore_pkt>(), 256);
        assert_eq!(
            offset_of!(restore_pkt, original_file_name) as i32,
            RESTORE_PKT_SIZE_V22 - 8
        );
    }

    #[test]
    fn io_acl_xattr_object_layouts() {
        assert_eq!(offset_of!(io_pkt, func), 4);
        assert_eq!(offset_of!(io_pkt, count), 8);
        assert_eq!(offset_of!(io_pkt, flags), 12);
        assert_eq!(offset_of!(io_pkt, mode), 16);
        assert_eq!(offset_of!(io_pkt, buf), 24);
        assert_eq!(offset_of!(io_pkt, fname), 32);
        assert_eq!(offset_of!(io_pkt, status), 40);
        assert_eq!(offset_of!(io_pkt, io_errno), 44);
        assert_eq!(offset_of!(io_pkt, lerror), 48);
        assert_eq!(offset_of!(io_pkt, whence), 52);
        assert_eq!(offset_of!(io_pkt, offset), 56);
        assert_eq!(offset_of!(io_pkt, win32), 64);
        assert_eq!(offset_of!(io_pkt, filedes), 68);
        assert_eq!(offset_of!(io_pkt, pkt_end), 72);
        assert_eq!(size_of::<io_pkt>(), 80);

        assert_eq!(offset_of!(acl_pkt, content_length), 16);
        assert_eq!(offset_of!(acl_pkt, content), 24);
        assert_eq!(size_of::<acl_pkt>(), 40);
        assert_eq!(offset_of!(xattr_pkt, name_length), 16);
        assert_eq!(offset_of!(xattr_pkt, name), 24);
        assert_eq!(offset_of!(xattr_pkt, value_length), 32);
        assert_eq!(offset_of!(xattr_pkt, value), 40);
        assert_eq!(size_of::<xattr_pkt>(), 56);

        assert_eq!(offset_of!(restore_object_pkt, plugin_name), 24);
        assert_eq!(offset_of!(restore_object_pkt, object_type), 32);
        assert_eq!(offset_of!(restore_object_pkt, object_compression), 48);
        assert_eq!(offset_of!(restore_object_pkt, JobId), 56);
        assert_eq!(size_of::<restore_object_pkt>(), 64);
    }

    #[test]
    fn fileset_flag_bits() {
        let mut flags = [0u8; FOPTS_BYTES];
        flags[fo::DELTA >> 3] |= 1 << (fo::DELTA & 7);
        assert!(fo::is_set(&flags, fo::DELTA));
        assert!(!fo::is_set(&flags, fo::OFFSETS));
        assert!(!fo::is_set(&flags, 40));
    }
}
