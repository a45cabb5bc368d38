//! The director's plugin ABI (interface version 4, dir-sd-api §2): the
//! shared version-4 types plus the director's numbers.

#![allow(non_upper_case_globals)]

pub use crate::v4::abi::*;

pub const DIR_PLUGIN_INTERFACE_VERSION: u32 = 4;
pub const DIR_PLUGIN_MAGIC: &str = "*DirPluginData*";
/// `sizeof(CoreFunctions)` of the director: how loadPlugin tells it from
/// the storage daemon.
pub const CORE_FUNCTIONS_SIZE: u32 = 64;

/// `brDirVariable` (dir-sd-api §2.4), defined once in proto.
pub use sidecar_proto::variables::dir as var;
