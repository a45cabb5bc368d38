//! `sidecar-runner`: hosts one Bareos Python plugin instance out of the
//! daemon's process. Started by the shim with its session sockets as fds 3
//! and 4 (see `session`).

mod bareosfd;
mod core;
mod plugin;
mod session;

fn main() -> std::process::ExitCode {
    session::main()
}
