//! What the three daemon edges (`fd`, `dir`, `sd`) share: the C types of
//! every Bareos plugin ABI, C strings, the panic boundary, and where this
//! shared object lives. With the edges, the only place of the shim that
//! touches raw pointers.

pub mod core;
pub mod cstr;
pub mod location;
pub mod types;

use std::ffi::c_void;
use std::panic::{AssertUnwindSafe, catch_unwind};

use crate::daemon::DaemonCore;
use types::{bRC, bRC_Error, msg};

/// Runs `f`, turning a panic into `fallback`: nothing unwinds into the
/// daemon.
pub fn catch<R>(fallback: R, f: impl FnOnce() -> R) -> R {
    catch_unwind(AssertUnwindSafe(f)).unwrap_or(fallback)
}

/// A `'static` table as the untyped pointer loadPlugin hands out (the core
/// only reads it).
pub fn erase<T>(table: &'static T) -> *mut c_void {
    (table as *const T).cast_mut().cast()
}

/// Runs one entry point's body: a panic becomes bRC_Error and a fatal job
/// message naming the entry point, and never unwinds into the daemon.
pub fn boundary<C: DaemonCore>(core: Option<C>, name: &str, f: impl FnOnce(&mut C) -> bRC) -> bRC {
    let Some(mut core) = core else {
        return bRC_Error; // no core table (yet): nothing can be done
    };
    match catch_unwind(AssertUnwindSafe(|| f(&mut core))) {
        Ok(rc) => rc,
        Err(_) => {
            let _ = catch_unwind(AssertUnwindSafe(|| {
                core.shim_message(
                    msg::FATAL,
                    &format!("internal error in {name}; the call failed"),
                )
            }));
            bRC_Error
        }
    }
}

/// A plugin instance stored in the context's private pointer by newPlugin.
///
/// # Safety
/// `ctx` is NULL or a context the core passes to this plugin, whose private
/// context is NULL or was set by [`store_instance`] with the same `T` and
/// not yet taken by [`take_instance`].
pub unsafe fn instance<'a, T>(ctx: *mut types::PluginContext) -> Option<&'a T> {
    // SAFETY: guaranteed by the caller; freePlugin, the core's last call
    // for the context, is the only one that frees it.
    unsafe { ctx.as_ref()?.plugin_private_context.cast::<T>().as_ref() }
}

/// newPlugin: keeps `value` in the context. `false` if the context is NULL
/// or already holds an instance.
///
/// # Safety
/// `ctx` is NULL or a context the core passes to this plugin.
pub unsafe fn store_instance<T>(ctx: *mut types::PluginContext, value: T) -> bool {
    // SAFETY: guaranteed by the caller.
    let Some(c) = (unsafe { ctx.as_mut() }) else {
        return false;
    };
    if !c.plugin_private_context.is_null() {
        return false;
    }
    c.plugin_private_context = Box::into_raw(Box::new(value)).cast();
    true
}

/// freePlugin: takes the instance out of the context (exactly once).
///
/// # Safety
/// As for [`instance`].
pub unsafe fn take_instance<T>(ctx: *mut types::PluginContext) -> Option<Box<T>> {
    // SAFETY: guaranteed by the caller.
    let c = unsafe { ctx.as_mut() }?;
    let p = std::mem::replace(&mut c.plugin_private_context, std::ptr::null_mut());
    // SAFETY: set by store_instance from Box::into_raw with the same T;
    // cleared above, so it is freed exactly once.
    (!p.is_null()).then(|| unsafe { Box::from_raw(p.cast::<T>()) })
}
