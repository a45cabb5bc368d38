//! The 17 PluginFunctions the core calls, as `extern "C"` functions.
//!
//! Each one is a thin edge: catch panics (none may cross into the daemon),
//! check pointers, find the instance, and hand over to safe code in
//! `instance`. A NULL or unknown context gets bRC_Error, never a crash.

use std::ffi::{c_char, c_int, c_void};

use sidecar_proto::{Empty, call};

use super::abi::{self, Ctx, bRC, bRC_Error, bRC_OK};
use super::core::Core;
use super::instance::FdInstance;
use super::packets;
use crate::ffi;

/// The table handed to the core in loadPlugin.
pub static PLUGIN_FUNCTIONS: abi::PluginFunctions = abi::PluginFunctions {
    size: std::mem::size_of::<abi::PluginFunctions>() as u32,
    version: abi::FD_PLUGIN_INTERFACE_VERSION,
    newPlugin: Some(new_plugin),
    freePlugin: Some(free_plugin),
    getPluginValue: Some(get_plugin_value),
    setPluginValue: Some(set_plugin_value),
    handlePluginEvent: Some(handle_plugin_event),
    startBackupFile: Some(start_backup_file),
    endBackupFile: Some(end_backup_file),
    startRestoreFile: Some(start_restore_file),
    endRestoreFile: Some(end_restore_file),
    pluginIO: Some(plugin_io),
    createFile: Some(create_file),
    setFileAttributes: Some(set_file_attributes),
    checkFile: Some(check_file),
    getAcl: Some(get_acl),
    setAcl: Some(set_acl),
    getXattr: Some(get_xattr),
    setXattr: Some(set_xattr),
};

/// Runs `f` with the context's core functions behind the panic boundary.
fn guarded(ctx: Ctx, name: &str, f: impl FnOnce(&mut Core) -> bRC) -> bRC {
    ffi::boundary(Core::new(ctx), name, f)
}

/// Runs `f` on the context's instance.
fn with_instance(ctx: Ctx, name: &str, f: impl FnOnce(&FdInstance, &mut Core) -> bRC) -> bRC {
    guarded(ctx, name, |core| {
        // SAFETY: ctx comes from the core; its private context is ours.
        match unsafe { ffi::instance::<FdInstance>(ctx) } {
            Some(inst) => f(inst, core),
            None => bRC_Error,
        }
    })
}

unsafe extern "C" fn new_plugin(ctx: Ctx) -> bRC {
    guarded(ctx, "newPlugin", |core| {
        // SAFETY: the core passes a valid context (checked for NULL).
        let Some(number) = (unsafe { ctx.as_ref() }).map(|c| c.instance) else {
            return bRC_Error;
        };
        let Some(inst) = FdInstance::new(core, number, super::api_version()) else {
            return bRC_Error;
        };
        // SAFETY: the core's context, valid for this call.
        if unsafe { ffi::store_instance(ctx, inst) } {
            bRC_OK
        } else {
            bRC_Error
        }
    })
}

unsafe extern "C" fn free_plugin(ctx: Ctx) -> bRC {
    guarded(ctx, "freePlugin", |core| {
        // SAFETY: the core's context; freePlugin is its last call for it.
        if let Some(inst) = unsafe { ffi::take_instance::<FdInstance>(ctx) } {
            inst.free(core);
        }
        bRC_OK
    })
}

unsafe extern "C" fn get_plugin_value(_ctx: Ctx, _var: c_int, _value: *mut c_void) -> bRC {
    bRC_OK // never called by bareos-fd; python3-fd ignores it too
}

unsafe extern "C" fn set_plugin_value(_ctx: Ctx, _var: c_int, _value: *mut c_void) -> bRC {
    bRC_OK
}

unsafe extern "C" fn handle_plugin_event(
    ctx: Ctx,
    event: *mut abi::bEvent,
    value: *mut c_void,
) -> bRC {
    with_instance(ctx, "handlePluginEvent", |inst, core| {
        // SAFETY: the core passes a valid event or NULL.
        let Some(event) = (unsafe { event.as_ref() }) else {
            return bRC_Error;
        };
        // SAFETY: `value` is the core's value for this event type.
        unsafe { inst.handle_event(core, event.eventType, value) }
    })
}

unsafe extern "C" fn start_backup_file(ctx: Ctx, sp: *mut abi::save_pkt) -> bRC {
    with_instance(ctx, "startBackupFile", |inst, core| {
        // SAFETY: the core's packet, exclusively ours for this call.
        match unsafe { sp.as_mut() } {
            Some(sp) => inst.start_backup_file(core, sp),
            None => bRC_Error,
        }
    })
}

unsafe extern "C" fn end_backup_file(ctx: Ctx) -> bRC {
    with_instance(ctx, "endBackupFile", |inst, core| {
        inst.simple(core, call::Kind::EndBackupFile(Empty {}), "end_backup_file")
    })
}

unsafe extern "C" fn start_restore_file(ctx: Ctx, cmd: *const c_char) -> bRC {
    with_instance(ctx, "startRestoreFile", |inst, core| {
        // SAFETY: cmd is NULL or the core's command string.
        let cmd = unsafe { packets::bytes_of(cmd) }.unwrap_or_default();
        inst.simple(
            core,
            call::Kind::StartRestoreFile(cmd),
            "start_restore_file",
        )
    })
}

unsafe extern "C" fn end_restore_file(ctx: Ctx) -> bRC {
    with_instance(ctx, "endRestoreFile", |inst, core| {
        inst.simple(
            core,
            call::Kind::EndRestoreFile(Empty {}),
            "end_restore_file",
        )
    })
}

unsafe extern "C" fn plugin_io(ctx: Ctx, io: *mut abi::io_pkt) -> bRC {
    with_instance(ctx, "pluginIO", |inst, core| {
        // SAFETY: the core's packet, exclusively ours for this call.
        match unsafe { io.as_mut() } {
            Some(io) => inst.plugin_io(core, io),
            None => bRC_Error,
        }
    })
}

unsafe extern "C" fn create_file(ctx: Ctx, rp: *mut abi::restore_pkt) -> bRC {
    with_instance(ctx, "createFile", |inst, core| {
        // SAFETY: the core's packet, exclusively ours for this call.
        match unsafe { rp.as_mut() } {
            Some(rp) => inst.create_file(core, rp),
            None => bRC_Error,
        }
    })
}

unsafe extern "C" fn set_file_attributes(ctx: Ctx, rp: *mut abi::restore_pkt) -> bRC {
    with_instance(ctx, "setFileAttributes", |inst, core| {
        // SAFETY: the core's packet, valid for this call.
        match unsafe { rp.as_ref() } {
            Some(rp) => inst.set_file_attributes(core, rp),
            None => bRC_Error,
        }
    })
}

unsafe extern "C" fn check_file(ctx: Ctx, fname: *mut c_char) -> bRC {
    with_instance(ctx, "checkFile", |inst, core| {
        // SAFETY: fname is NULL or a C string.
        let fname = unsafe { packets::bytes_of(fname) }.unwrap_or_default();
        inst.check_file(core, fname)
    })
}

unsafe extern "C" fn get_acl(ctx: Ctx, ap: *mut abi::acl_pkt) -> bRC {
    with_instance(ctx, "getAcl", |inst, core| {
        // SAFETY: the core's packet, exclusively ours for this call.
        match unsafe { ap.as_mut() } {
            Some(ap) => inst.get_acl(core, ap),
            None => bRC_Error,
        }
    })
}

unsafe extern "C" fn set_acl(ctx: Ctx, ap: *mut abi::acl_pkt) -> bRC {
    with_instance(ctx, "setAcl", |inst, core| {
        // SAFETY: the core's packet, valid for this call.
        match unsafe { ap.as_ref() } {
            Some(ap) => inst.set_acl(core, ap),
            None => bRC_Error,
        }
    })
}

unsafe extern "C" fn get_xattr(ctx: Ctx, xp: *mut abi::xattr_pkt) -> bRC {
    with_instance(ctx, "getXattr", |inst, core| {
        // SAFETY: the core's packet, exclusively ours for this call.
        match unsafe { xp.as_mut() } {
            Some(xp) => inst.get_xattr(core, xp),
            None => bRC_Error,
        }
    })
}

unsafe extern "C" fn set_xattr(ctx: Ctx, xp: *mut abi::xattr_pkt) -> bRC {
    with_instance(ctx, "setXattr", |inst, core| {
        // SAFETY: the core's packet, valid for this call.
        match unsafe { xp.as_ref() } {
            Some(xp) => inst.set_xattr(core, xp),
            None => bRC_Error,
        }
    })
}
