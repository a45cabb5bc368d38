//! `sidecar-runner`: hosts one Bareos Python plugin instance out of the
//! daemon's process. Started by the shim with its session descriptors
//! as fds 3 to 8 (see `session`); `sidecar-runner python [ARGS...]` is a Python
//! interpreter with `bareosfd` built in, for testing plugins (`interpreter`);
//! `sidecar-runner serve --socket PATH` waits for a daemon to attach
//! (`serve`), for debugging; `sidecar-runner replay FILE` replays a
//! recorded session without a daemon (`replay`).

use sidecar_runner::{interpreter, replay, serve, session};

fn main() -> std::process::ExitCode {
    let mut args = std::env::args_os();
    let argv0 = args.next().unwrap_or_default();
    match args.next() {
        Some(cmd) if cmd == "python" => {
            interpreter::main(std::iter::once(argv0).chain(args).collect())
        }
        Some(cmd) if cmd == "serve" => serve::main(args),
        Some(cmd) if cmd == "replay" => replay::main(args),
        _ => session::main(),
    }
}
