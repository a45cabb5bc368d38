//! `sidecar-runner`: hosts one Bareos Python plugin instance out of the
//! daemon's process. Started by the shim with its session descriptors
//! as fds 3 to 6 (see `session`); `sidecar-runner python [ARGS...]` is a Python
//! interpreter with `bareosfd` built in, for testing plugins (`interpreter`).

use sidecar_runner::{interpreter, session};

fn main() -> std::process::ExitCode {
    let mut args = std::env::args_os();
    let argv0 = args.next().unwrap_or_default();
    match args.next() {
        Some(cmd) if cmd == "python" => {
            interpreter::main(std::iter::once(argv0).chain(args).collect())
        }
        _ => session::main(),
    }
}
