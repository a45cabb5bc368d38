//! sdhost: a stand-in bareos-sd for SD plugins (see `sdhost --help`).

fn main() -> std::process::ExitCode {
    v4host::cli::main(v4host::Kind::Sd)
}
