//! The C types every Bareos plugin ABI shares (fd-abi §3, §7.8; the
//! director's and storage daemon's are the same, dir-sd-api §1): return
//! codes, the plugin context, the per-.so records and the message types.
//! Declarations only.

#![allow(non_camel_case_types, non_snake_case, non_upper_case_globals)]

use std::ffi::{c_char, c_int, c_void};

/// Return code of nearly every call (ABI §3.1).
pub type bRC = c_int;
pub const bRC_OK: bRC = 0;
pub const bRC_Stop: bRC = 1;
pub const bRC_Error: bRC = 2;
pub const bRC_More: bRC = 3;
pub const bRC_Term: bRC = 4;
pub const bRC_Seen: bRC = 5;
pub const bRC_Core: bRC = 6;
pub const bRC_Skip: bRC = 7;
pub const bRC_Cancel: bRC = 8;

/// Bareos's `utime_t`.
pub type utime_t = i64;

/// Per job and plugin: the first argument of every call in both directions.
#[repr(C)]
pub struct PluginContext {
    pub instance: u32,
    /// The core's per-.so record (`Plugin`, ABI §3.4).
    pub plugin: *mut c_void,
    pub core_private_context: *mut c_void,
    pub plugin_private_context: *mut c_void,
}

/// The core's per-.so record (C++ class `Plugin`), read-only for plugins.
#[repr(C)]
pub struct Plugin {
    pub file: *mut c_char,
    pub file_len: i32,
    pub unloadPlugin: Option<unsafe extern "C" fn() -> bRC>,
    pub plugin_information: *mut c_void,
    pub plugin_functions: *mut c_void,
    pub plugin_handle: *mut c_void,
}

/// The first two fields of every daemon's CoreFunctions table: how the
/// shim tells which daemon loaded it (FD: version 10; director: version 4,
/// 64 bytes; storage daemon: version 4, 120 bytes).
#[repr(C)]
pub struct TableHeader {
    pub size: u32,
    pub version: u32,
}

#[repr(C)]
pub struct PluginApiDefinition {
    pub size: u32,
    pub version: u32,
}

#[repr(C)]
pub struct PluginInformation {
    pub size: u32,
    pub version: u32,
    pub plugin_magic: *const c_char,
    pub plugin_license: *const c_char,
    pub plugin_author: *const c_char,
    pub plugin_date: *const c_char,
    pub plugin_version: *const c_char,
    pub plugin_description: *const c_char,
    pub plugin_usage: *const c_char,
}

// SAFETY: only ever built from `'static` C string literals and never mutated;
// the core reads it from any thread.
unsafe impl Sync for PluginInformation {}

#[repr(C)]
pub struct bEvent {
    pub eventType: u32,
}

pub type Ctx = *mut PluginContext;

/// Job message types M_* (ABI §7.8).
pub mod msg {
    pub const ABORT: i32 = 1;
    pub const DEBUG: i32 = 2;
    pub const FATAL: i32 = 3;
    pub const ERROR: i32 = 4;
    pub const WARNING: i32 = 5;
    pub const INFO: i32 = 6;
    pub const SAVED: i32 = 7;
    pub const NOTSAVED: i32 = 8;
    pub const SKIPPED: i32 = 9;
    pub const MOUNT: i32 = 10;
    pub const ERROR_TERM: i32 = 11;
    pub const TERM: i32 = 12;
    pub const RESTORED: i32 = 13;
    pub const SECURITY: i32 = 14;
    pub const ALERT: i32 = 15;
    pub const VOLMGMT: i32 = 16;
    pub const AUDIT: i32 = 17;
    pub const CONFIG_ERROR: i32 = 18;
}
