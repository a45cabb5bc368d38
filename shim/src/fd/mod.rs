//! The file daemon's edge: its plugin ABI (interface version 10), the
//! `extern "C"` entry points, the C <-> message conversions and the core
//! functions, over the daemon-independent `instance`.

pub mod abi;
mod core;
mod entry;
#[cfg(all(test, target_arch = "x86_64", target_os = "linux"))]
mod fuzz;
mod instance;
mod packets;

use std::sync::atomic::{AtomicU32, Ordering};

use abi::{CoreFunctions, PluginFunctions, PluginInformation};

pub use self::core::Core;

/// What `status client` and plugin listings show; the license must be one
/// bareos-fd accepts, and says the truth: this plugin is AGPLv3 (or later).
static PLUGIN_INFORMATION: PluginInformation = PluginInformation {
    size: std::mem::size_of::<PluginInformation>() as u32,
    version: abi::FD_PLUGIN_INTERFACE_VERSION,
    plugin_magic: c"*FDPluginData*".as_ptr(),
    plugin_license: c"AGPLv3".as_ptr(),
    plugin_author: c"bareos-sidecar".as_ptr(),
    plugin_date: c"November 2026".as_ptr(),
    plugin_version: concat!(env!("CARGO_PKG_VERSION"), " (sidecar)\0")
        .as_ptr()
        .cast(),
    plugin_description: c"Python File Daemon Plugin (out of process: bareos-sidecar)".as_ptr(),
    plugin_usage:
        c"python3:module_name=<python-module-to-load>:module_path=<path-to-python-modules>:...\n\
\n\
 module_name: the Python module implementing the plugin (required).\n\
 module_path: a directory prepended to sys.path (optional).\n\
 Additional parameters are plugin specific.\n\
 sidecar.<key>=<value>: the runner's limits (memory, cpu, cpus, files, procs,\n\
 nice, ionice, walltime, sandbox); removed before the plugin sees the string.\n\
 The plugin runs in a separate sidecar-runner process; see sidecar.toml\n\
 beside this file for the runner path, call deadlines and limits."
            .as_ptr(),
};

/// Interface version the core announced in loadPlugin (10 for the FD).
static API_VERSION: AtomicU32 = AtomicU32::new(abi::FD_PLUGIN_INTERFACE_VERSION);

fn api_version() -> u32 {
    API_VERSION.load(Ordering::SeqCst)
}

/// loadPlugin for bareos-fd: keep its table, hand it ours.
pub fn load(
    version: u32,
    table: &'static CoreFunctions,
) -> (&'static PluginInformation, &'static PluginFunctions) {
    API_VERSION.store(version, Ordering::SeqCst);
    core::set_table(table);
    (&PLUGIN_INFORMATION, &entry::PLUGIN_FUNCTIONS)
}

/// unloadPlugin: forget the core.
pub fn unload() {
    core::clear_table();
}
