//! v4host: stand-ins for bareos-dir (`dirhost`) and bareos-sd (`sdhost`) on
//! the plugin side (interface version 4, dir-sd-api §1–§3). They load DIR
//! / SD plugins exactly as the daemons do and drive jobs whose description
//! comes from the command line. See `dirhost --help`.
//!
//! Modules: `cli` (arguments, shared by both binaries), `loader` (plugin
//! discovery, compatibility checks, unloading), `core` (the CoreFunctions
//! tables and the per-job core state the callbacks act on, message
//! output), `job` (instances, option dispatch, event broadcast), `dir` and
//! `sd` (the two daemons' job sequences).

pub mod cli;
pub mod core;
pub mod dir;
pub mod job;
pub mod loader;
pub mod sd;

pub use crate::core::Kind;
