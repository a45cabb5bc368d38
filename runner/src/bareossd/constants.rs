//! The storage daemon's variable numbers (dir-sd-api §3.4, §3.5) as
//! `bareossd` shows them: `sidecar_proto`'s, shared with the shim.

pub use sidecar_proto::variables::{sd as var, sd_write as wvar};
