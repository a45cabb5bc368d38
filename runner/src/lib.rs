//! The runner as a library: the `bareosfd` module, python3-fd's dispatcher
//! (`plugin`) and the link to the daemon's core (`core`). The
//! `sidecar-runner` binary (`main.rs`) serves one plugin instance over a
//! session with the shim; the benchmark's in-process host
//! (`tests/inprocess`) runs the same code inside the daemon, the way
//! python3-fd does, with `core`'s direct link.

pub mod bareosfd;
mod cancel;
pub mod core;
mod definition;
pub mod embedding;
pub mod interpreter;
pub mod plugin;
pub mod session;
mod stdio;
