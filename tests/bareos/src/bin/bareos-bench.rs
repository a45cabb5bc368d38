//! bareos-bench: the benchmark in the real daemons (bench.rs), a binary of
//! its own beside bareos-acceptance, built from the same harness modules
//! (lab, console, config, daemons, ...). Run it with deploy/bench-bareos.sh.
#![allow(dead_code)]

#[path = "../bench.rs"]
mod bench;
#[path = "../config.rs"]
mod config;
#[path = "../console.rs"]
mod console;
#[path = "../daemons.rs"]
mod daemons;
#[path = "../installation.rs"]
mod installation;
#[path = "../lab.rs"]
mod lab;
#[path = "../postgres.rs"]
mod postgres;
#[path = "../procs.rs"]
mod procs;
#[path = "../tree.rs"]
mod tree;

use std::process::ExitCode;

fn main() -> ExitCode {
    if let Err(e) = daemons::install_signal_thread() {
        eprintln!("bench: cannot set up signal handling: {e:#}");
        return ExitCode::from(2);
    }
    bench::main(std::env::args())
}
