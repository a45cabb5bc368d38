//! The runner as a library: the `bareosfd`, `bareosdir` and `bareossd`
//! modules, python3-fd's dispatcher (`plugin`), python3-dir's and
//! python3-sd's (`dirsd_plugin`), what they share (`hosting`, `pymodule`)
//! and the link to the daemon's core (`core`). The
//! `sidecar-runner` binary (`main.rs`) serves one plugin instance over a
//! session with the shim; the benchmark's in-process host
//! (`tests/inprocess`) runs the same code inside the daemon, the way
//! python3-fd does, with `core`'s direct link.

pub mod bareosdir;
pub mod bareosfd;
pub mod bareossd;
mod cancel;
mod colocation;
pub mod core;
pub mod daemon;
mod debugger;
mod definition;
pub mod dirsd_options;
pub mod dirsd_plugin;
pub mod dispatcher;
pub mod embedding;
mod hosting;
pub mod interpreter;
pub mod plugin;
mod pymodule;
pub mod recording;
pub mod replay;
pub mod serve;
pub mod session;
mod stdio;
