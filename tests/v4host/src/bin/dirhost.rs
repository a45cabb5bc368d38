//! dirhost: a stand-in bareos-dir for DIR plugins (see `dirhost --help`).

fn main() -> std::process::ExitCode {
    v4host::cli::main(v4host::Kind::Dir)
}
