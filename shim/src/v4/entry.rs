//! The five entry points of a version-4 daemon's plugin, generic over the
//! daemon ([`Spec`]), each behind the panic boundary.

use std::ffi::{c_char, c_int, c_void};

use sidecar_proto::{self as pb, call, event};

use super::Spec;
use super::abi::{Ctx, PluginFunctions, bEvent, bRC, bRC_Error, bRC_OK};
use super::core::Core;
use crate::ffi;
use crate::instance::{Instance, Kind, Runner, without_term};

/// The plugin interface version of both daemons.
const INTERFACE_VERSION: u32 = 4;

/// The table handed to daemon `S` in loadPlugin.
pub const fn plugin_functions<S: Spec>() -> PluginFunctions {
    PluginFunctions {
        size: std::mem::size_of::<PluginFunctions>() as u32,
        version: INTERFACE_VERSION,
        newPlugin: Some(new_plugin::<S>),
        freePlugin: Some(free_plugin::<S>),
        getPluginValue: Some(plugin_value),
        setPluginValue: Some(plugin_value),
        handlePluginEvent: Some(handle_plugin_event::<S>),
    }
}

unsafe extern "C" fn new_plugin<S: Spec>(ctx: Ctx) -> bRC {
    ffi::boundary(Core::<S>::new(ctx), "newPlugin", |core| {
        // SAFETY: the core passes a valid context (checked for NULL).
        let Some(number) = (unsafe { ctx.as_ref() }).map(|c| c.instance) else {
            return bRC_Error;
        };
        // Like python3-dir/-sd: only the options event, which loads the
        // module; the plugin registers what else it wants (dir-sd-api §4.3).
        if core.register_events(&[S::NEW_PLUGIN_OPTIONS]) != bRC_OK {
            return bRC_Error;
        }
        let inst = Instance::new(S::DAEMON, number, INTERFACE_VERSION);
        // SAFETY: the core's context, valid for this call.
        if unsafe { ffi::store_instance(ctx, inst) } {
            bRC_OK
        } else {
            bRC_Error
        }
    })
}

unsafe extern "C" fn free_plugin<S: Spec>(ctx: Ctx) -> bRC {
    ffi::boundary(Core::<S>::new(ctx), "freePlugin", |core| {
        // SAFETY: the core's context; freePlugin is its last call for it.
        if let Some(inst) = unsafe { ffi::take_instance::<Instance>(ctx) } {
            inst.free(core);
        }
        bRC_OK
    })
}

/// getPluginValue/setPluginValue: never called by the daemons; the stock
/// plugins ignore them too.
unsafe extern "C" fn plugin_value(_ctx: Ctx, _var: c_int, _value: *mut c_void) -> bRC {
    bRC_OK
}

unsafe extern "C" fn handle_plugin_event<S: Spec>(
    ctx: Ctx,
    event: *mut bEvent,
    value: *mut c_void,
) -> bRC {
    ffi::boundary(Core::<S>::new(ctx), "handlePluginEvent", |core| {
        // SAFETY: ctx comes from the core; its private context is ours.
        let Some(inst) = (unsafe { ffi::instance::<Instance>(ctx) }) else {
            return bRC_Error;
        };
        // SAFETY: the core passes a valid event or NULL.
        let Some(event_type) = (unsafe { event.as_ref() }).map(|e| e.eventType) else {
            return bRC_Error;
        };
        let text = if S::text_value(event_type) {
            // SAFETY: for these events the value is NULL or a C string.
            unsafe { ffi::cstr::bytes_of(value as *const c_char) }
        } else {
            None
        };
        let mut state = inst.lock();
        if matches!(state.runner, Runner::NotStarted) && event_type != S::NEW_PLUGIN_OPTIONS {
            // No module is loaded before the options arrive: the stock
            // plugin answers OK without Python.
            return bRC_OK;
        }
        let kind = call::Kind::HandlePluginEvent(pb::Event {
            event_type,
            value: text.map(event::Value::Text),
        });
        match inst.call(&mut state, core, kind, Kind::Event, "handle_plugin_event") {
            Some(result) => without_term(core, result.rc, "handle_plugin_event"),
            None => bRC_Error,
        }
    })
}
