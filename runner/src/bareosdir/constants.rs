//! The director's variable numbers (dir-sd-api §2.4, §2.5) as `bareosdir`
//! shows them: `sidecar_proto`'s, shared with the shim.

pub use sidecar_proto::variables::{dir as var, dir_write as wvar};
