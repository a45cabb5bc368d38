//! The director's plugin ABI (interface version 4, dir-sd-api §2): the
//! shared version-4 types plus the director's numbers.

#![allow(non_upper_case_globals)]

pub use crate::v4::abi::*;

pub const DIR_PLUGIN_INTERFACE_VERSION: u32 = 4;
pub const DIR_PLUGIN_MAGIC: &str = "*DirPluginData*";
/// `sizeof(CoreFunctions)` of the director: how loadPlugin tells it from
/// the storage daemon.
pub const CORE_FUNCTIONS_SIZE: u32 = 64;

/// `brDirVariable` (dir-sd-api §2.4).
pub mod var {
    pub const Job: i32 = 1;
    pub const Level: i32 = 2;
    pub const Type: i32 = 3;
    pub const JobId: i32 = 4;
    pub const Client: i32 = 5;
    pub const NumVols: i32 = 6;
    pub const Pool: i32 = 7;
    pub const Storage: i32 = 8;
    pub const WriteStorage: i32 = 9;
    pub const ReadStorage: i32 = 10;
    pub const Catalog: i32 = 11;
    pub const MediaType: i32 = 12;
    pub const JobName: i32 = 13;
    pub const JobStatus: i32 = 14;
    pub const Priority: i32 = 15;
    pub const VolumeName: i32 = 16;
    pub const CatalogRes: i32 = 17;
    pub const JobErrors: i32 = 18;
    pub const JobFiles: i32 = 19;
    pub const SDJobFiles: i32 = 20;
    pub const SDErrors: i32 = 21;
    pub const FDJobStatus: i32 = 22;
    pub const SDJobStatus: i32 = 23;
    pub const PluginDir: i32 = 24;
    pub const LastRate: i32 = 25;
    pub const JobBytes: i32 = 26;
    pub const ReadBytes: i32 = 27;
}
