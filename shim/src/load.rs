//! The two symbols every Bareos daemon looks up in a plugin: loadPlugin,
//! which also tells which daemon loaded the shim, and unloadPlugin.

use std::ffi::c_void;

use crate::ffi::types::{PluginApiDefinition, TableHeader, bRC, bRC_Error, bRC_OK};

/// Entry point the daemon resolves with dlsym after loading the plugin.
///
/// # Safety
/// Called by the core with valid pointers (NULL is tolerated and refused):
/// `core_funcs` points to the core's function table of its daemon, which
/// stays valid for the life of the process.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn loadPlugin(
    core_info: *mut PluginApiDefinition,
    core_funcs: *mut c_void,
    out_info: *mut *mut c_void,
    out_funcs: *mut *mut c_void,
) -> bRC {
    crate::ffi::catch(bRC_Error, || {
        if out_info.is_null() || out_funcs.is_null() {
            return bRC_Error;
        }
        // SAFETY: guaranteed by the caller; the header is the first field
        // of every daemon's table.
        let Some(header) = (unsafe { core_funcs.cast::<TableHeader>().as_ref() }) else {
            return bRC_Error;
        };
        // SAFETY: NULL or the core's definition, valid for this call.
        let version = unsafe { core_info.as_ref() }.map_or(header.version, |i| i.version);
        // SAFETY: the header says which daemon's table it is; each edge's
        // table type matches its daemon's layout (pinned by their tests).
        let (info, funcs) = unsafe {
            match (header.version, header.size) {
                (crate::fd::abi::FD_PLUGIN_INTERFACE_VERSION, _) => {
                    let (i, f) = crate::fd::load(version, &*core_funcs.cast());
                    (crate::ffi::erase(i), crate::ffi::erase(f))
                }
                (
                    crate::dir::abi::DIR_PLUGIN_INTERFACE_VERSION,
                    crate::dir::abi::CORE_FUNCTIONS_SIZE,
                ) => {
                    let (i, f) = crate::dir::load(&*core_funcs.cast());
                    (crate::ffi::erase(i), crate::ffi::erase(f))
                }
                (
                    crate::sd::abi::SD_PLUGIN_INTERFACE_VERSION,
                    crate::sd::abi::CORE_FUNCTIONS_SIZE,
                ) => {
                    let (i, f) = crate::sd::load(&*core_funcs.cast());
                    (crate::ffi::erase(i), crate::ffi::erase(f))
                }
                // A daemon or interface version this shim does not know.
                _ => return bRC_Error,
            }
        };
        // SAFETY: non-NULL out-pointers from the core.
        unsafe {
            *out_info = info;
            *out_funcs = funcs;
        }
        bRC_OK
    })
}

/// Called at daemon shutdown (and after a refused load): forget the core.
#[unsafe(no_mangle)]
pub extern "C" fn unloadPlugin() -> bRC {
    crate::fd::unload();
    crate::dir::unload();
    crate::sd::unload();
    bRC_OK
}
