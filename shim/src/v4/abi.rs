//! The plugin ABI the director and the storage daemon share (interface
//! version 4, dir-sd-api §2, §3), as `#[repr(C)]` Rust types: the first
//! seven fields of their core function tables and their five entry points
//! are the same. Declarations only.

#![allow(non_camel_case_types, non_snake_case)]

use std::ffi::{c_int, c_void};

pub use crate::ffi::types::*;

/// The core functions both daemons offer, in table order (the storage
/// daemon's table goes on with device helpers; see `sd::abi`): exactly the
/// fields every daemon's table starts with.
pub use crate::ffi::core::CommonFunctions as CoreFunctions;

/// Entry points the plugin provides, in table order.
#[repr(C)]
pub struct PluginFunctions {
    pub size: u32,
    pub version: u32,
    pub newPlugin: Option<unsafe extern "C" fn(Ctx) -> bRC>,
    pub freePlugin: Option<unsafe extern "C" fn(Ctx) -> bRC>,
    pub getPluginValue: Option<unsafe extern "C" fn(Ctx, c_int, *mut c_void) -> bRC>,
    pub setPluginValue: Option<unsafe extern "C" fn(Ctx, c_int, *mut c_void) -> bRC>,
    pub handlePluginEvent: Option<unsafe extern "C" fn(Ctx, *mut bEvent, *mut c_void) -> bRC>,
}

// SAFETY: a table of function pointers, never mutated after construction.
unsafe impl Sync for PluginFunctions {}

pub use crate::ffi::core::ValueType;

/// The variables a plugin may set, the same numbers in both daemons
/// (dir-sd-api §2.5, §3.5), defined once in proto.
pub use sidecar_proto::variables::dir_write as wvar;

#[cfg(test)]
mod tests {
    use super::*;
    use std::mem::{offset_of, size_of};

    #[test]
    fn layouts_match_dir_sd_api() {
        assert_eq!(size_of::<PluginFunctions>(), 48);
        assert_eq!(offset_of!(PluginFunctions, handlePluginEvent), 40);
        assert_eq!(size_of::<CoreFunctions>(), 64);
        assert_eq!(offset_of!(CoreFunctions, getBareosValue), 32);
        assert_eq!(offset_of!(CoreFunctions, DebugMessage), 56);
        assert_eq!(size_of::<PluginInformation>(), 64);
    }
}
