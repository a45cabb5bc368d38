//! bareos-sidecar shim: the Python plugin of a Bareos daemon (installed as
//! `python3-fd.so`, `python3-dir.so`, `python3-sd.so`) that runs Python
//! plugins in a separate runner process.
//!
//! The daemon sees an ordinary plugin exporting `loadPlugin`/`unloadPlugin`.
//! Which daemon loaded it is told by the core's function table; from then
//! on that daemon's edge (`fd`, `dir`, `sd`: its C ABI, entry points and
//! conversions, over the shared helpers in `ffi`) turns every call into a
//! message for the job's `instance`, which starts the runner on demand and
//! forwards the call over its `session` (a gRPC control stream, the call
//! channel `channel`, the `cancel` channel, a descriptor channel and shared
//! memory for plugin data). What the plugin asks of the daemon comes back
//! and runs on the calling daemon thread.
//!
//! Starting a runner is `launch` (under the `limits` resolved from
//! `config` and the plugin string's `options`); every failure is an
//! `error::Error` whose text the job log gets. Only the daemon edges
//! (`load`, `ffi`, `fd`, `v4` with `dir` and `sd`) and the fork/exec edge
//! (`launch::child`) contain `unsafe` code.

pub mod backend;
mod cancel;
mod channel;
mod config;
pub mod daemon;
pub mod dir;
pub mod error;
pub mod fd;
mod ffi;
mod instance;
mod launch;
mod limits;
mod load;
mod options;
pub mod sd;
mod session;
mod sigpipe;
mod v4;

/// The FD's ABI, which fdhost shares as the core side.
pub use fd::abi;
pub use load::{loadPlugin, unloadPlugin};
