//! The storage daemon's plugin ABI (interface version 4, dir-sd-api §3):
//! the shared version-4 types plus the storage daemon's numbers. Its core
//! table goes on after the shared fields with device helpers that the
//! Python API never uses; the shim only reads the shared part.

#![allow(non_upper_case_globals, non_snake_case)]

use std::ffi::c_void;

pub use crate::v4::abi::*;

pub const SD_PLUGIN_INTERFACE_VERSION: u32 = 4;
pub const SD_PLUGIN_MAGIC: &str = "*SDPluginData*";
/// `sizeof(CoreFunctions)` of the storage daemon.
pub const CORE_FUNCTIONS_SIZE: u32 = 120;

/// The storage daemon's whole table, for its size (the helpers take the
/// daemon's own C++ types, opaque here).
#[repr(C)]
pub struct SdCoreFunctions {
    pub common: CoreFunctions,
    pub EditDeviceCodes: *mut c_void,
    pub LookupCryptoKey: *mut c_void,
    pub UpdateVolumeInfo: *mut c_void,
    pub UpdateTapeAlert: *mut c_void,
    pub new_record: *mut c_void,
    pub CopyRecordState: *mut c_void,
    pub FreeRecord: *mut c_void,
}

/// `bsdrVariable` (dir-sd-api §3.4), defined once in proto.
pub use sidecar_proto::variables::sd as var;

#[cfg(test)]
mod tests {
    #[test]
    fn the_table_is_as_big_as_the_daemon_says() {
        assert_eq!(
            std::mem::size_of::<super::SdCoreFunctions>() as u32,
            super::CORE_FUNCTIONS_SIZE
        );
    }
}
