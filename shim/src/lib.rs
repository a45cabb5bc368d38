//! bareos-sidecar shim: a Bareos file-daemon plugin (`python3-fd.so`) that
//! runs Python plugins in a separate runner process.
//!
//! The daemon sees an ordinary plugin exporting `loadPlugin`/`unloadPlugin`
//! (ABI: `abi`). Each job's instance starts its own `sidecar-runner` and
//! forwards every plugin call to it over one session (`session`: a gRPC
//! control stream plus the call channel, `channel`); what the plugin asks of
//! the daemon comes back on the call channel and runs on the calling daemon
//! thread (`core`). Descriptors for "I/O in core" come over a side channel
//! and plugin_io data through shared memory, so bulk data never travels in
//! messages.
//!
//! Layout: `entry` is the FFI edge, `instance` the per-job logic, `packets`
//! the C <-> message conversions, `process` the child process, `config` the
//! optional `sidecar.toml`, `limits` and `sandbox` the runner's resource
//! limits and sandbox.

pub mod abi;
pub mod backend;
mod cancel;
mod channel;
mod config;
mod core;
mod entry;
#[cfg(all(test, target_arch = "x86_64", target_os = "linux"))]
mod fuzz;
mod instance;
mod limits;
mod packets;
mod process;
mod sandbox;
mod session;

use std::panic::catch_unwind;
use std::sync::atomic::{AtomicU32, Ordering};

use abi::{
    CoreFunctions, PluginApiDefinition, PluginFunctions, PluginInformation, bRC, bRC_Error, bRC_OK,
};

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

pub(crate) fn api_version() -> u32 {
    API_VERSION.load(Ordering::SeqCst)
}

/// Entry point the daemon resolves with dlsym after loading the plugin.
///
/// # Safety
/// Called by the core with valid pointers (NULL is tolerated and refused).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn loadPlugin(
    core_info: *mut PluginApiDefinition,
    core_funcs: *mut CoreFunctions,
    out_info: *mut *mut PluginInformation,
    out_funcs: *mut *mut PluginFunctions,
) -> bRC {
    catch_unwind(|| {
        if core_funcs.is_null() || out_info.is_null() || out_funcs.is_null() {
            return bRC_Error;
        }
        // SAFETY: non-NULL pointers from the core, valid for the call (and,
        // for the tables, for the life of the process).
        unsafe {
            if let Some(info) = core_info.as_ref() {
                API_VERSION.store(info.version, Ordering::SeqCst);
            }
            core::set_table(core_funcs);
            *out_info = &PLUGIN_INFORMATION as *const _ as *mut _;
            *out_funcs = &entry::PLUGIN_FUNCTIONS as *const _ as *mut _;
        }
        bRC_OK
    })
    .unwrap_or(bRC_Error)
}

/// Called at daemon shutdown (and after a refused load): forget the core.
#[unsafe(no_mangle)]
pub extern "C" fn unloadPlugin() -> bRC {
    core::set_table(std::ptr::null_mut());
    bRC_OK
}
