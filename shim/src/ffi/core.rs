//! The core functions every daemon's table starts with (same types in all
//! three: fd-abi §4, dir-sd-api §2.1, §3.1), called safely on behalf of the
//! runner. Requests are checked before they reach the core: event numbers
//! are limited to 1..31 (the storage daemon does no bounds check at all),
//! unknown variables are never passed to `getBareosValue` (the output type
//! depends on the variable), and message types that would terminate the
//! daemon are downgraded.

use std::ffi::{c_char, c_int, c_void};

use sidecar_proto::{CallbackReply, callback_reply};

use super::cstr::{bytes_of, c_string};
use super::types::{Ctx, bRC, bRC_Error, bRC_OK, msg, utime_t};

/// The highest event number any core keeps a bit for.
const MAX_EVENT: u32 = 31;

/// The shared beginning of every daemon's CoreFunctions table.
#[repr(C)]
#[allow(non_snake_case)]
pub struct CommonFunctions {
    pub size: u32,
    pub version: u32,
    pub registerBareosEvents: Option<unsafe extern "C" fn(Ctx, c_int, ...) -> bRC>,
    pub unregisterBareosEvents: Option<unsafe extern "C" fn(Ctx, c_int, ...) -> bRC>,
    pub getInstanceCount: Option<unsafe extern "C" fn(Ctx, *mut c_int) -> bRC>,
    pub getBareosValue: Option<unsafe extern "C" fn(Ctx, c_int, *mut c_void) -> bRC>,
    pub setBareosValue: Option<unsafe extern "C" fn(Ctx, c_int, *mut c_void) -> bRC>,
    pub JobMessage: Option<
        unsafe extern "C" fn(Ctx, *const c_char, c_int, c_int, utime_t, *const c_char, ...) -> bRC,
    >,
    pub DebugMessage:
        Option<unsafe extern "C" fn(Ctx, *const c_char, c_int, c_int, *const c_char, ...) -> bRC>,
}

/// What `getBareosValue` writes for a variable.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ValueType {
    Int,
    Str,
    Bool,
    U64,
}

/// One plugin context's view of the shared core functions.
pub struct Common {
    pub ctx: Ctx,
    pub funcs: &'static CommonFunctions,
}

impl Common {
    /// A job message as the core's JobMessage would log it.
    pub fn job_message(&self, msg_type: i32, text: &[u8]) {
        // A plugin must not be able to stop the daemon: M_ABORT and
        // M_ERROR_TERM would, so they are logged as fatal job errors instead.
        let msg_type = match msg_type {
            msg::ABORT | msg::ERROR_TERM => msg::FATAL,
            t => t,
        };
        if let Some(f) = self.funcs.JobMessage {
            let text = c_string(text);
            // SAFETY: fixed "%s" format with one C string argument; ctx is the
            // context of the call in progress.
            unsafe {
                f(
                    self.ctx,
                    c"sidecar".as_ptr(),
                    0,
                    msg_type,
                    0,
                    c"%s".as_ptr(),
                    text.as_ptr(),
                )
            };
        }
    }

    pub fn debug_message(&self, level: i32, text: &[u8]) {
        if let Some(f) = self.funcs.DebugMessage {
            let text = c_string(text);
            // SAFETY: as for job_message.
            unsafe {
                f(
                    self.ctx,
                    c"sidecar".as_ptr(),
                    0,
                    level,
                    c"%s".as_ptr(),
                    text.as_ptr(),
                )
            };
        }
    }

    /// Registers `events` one by one, stopping at the first refusal.
    pub fn register_events(&self, events: &[u32]) -> bRC {
        let Some(f) = self.funcs.registerBareosEvents else {
            return bRC_Error;
        };
        let mut rc = bRC_Error;
        for &e in events.iter().filter(|&&e| (1..=MAX_EVENT).contains(&e)) {
            // SAFETY: one variadic int argument, as the core expects.
            rc = unsafe { f(self.ctx, 1, e as c_int) };
            if rc != bRC_OK {
                break;
            }
        }
        rc
    }

    pub fn unregister_events(&self, events: &[u32]) -> bRC {
        let Some(f) = self.funcs.unregisterBareosEvents else {
            return bRC_Error;
        };
        let mut rc = bRC_Error;
        for &e in events.iter().filter(|&&e| (1..=MAX_EVENT).contains(&e)) {
            // SAFETY: as in register_events.
            rc = unsafe { f(self.ctx, 1, e as c_int) };
        }
        rc
    }

    pub fn instance_count(&self) -> CallbackReply {
        let Some(g) = self.funcs.getInstanceCount else {
            return error_reply();
        };
        let mut n: c_int = 0;
        // SAFETY: `n` outlives the call; ctx is the call's context.
        let rc = unsafe { g(self.ctx, &mut n) };
        CallbackReply {
            rc,
            value: Some(callback_reply::Value::Number(n.into())),
            ..Default::default()
        }
    }

    /// `getBareosValue(var)` for a variable whose output type is `out`
    /// (the caller's table says; unknown variables never get here).
    pub fn get_value(&self, var: i32, out: ValueType) -> CallbackReply {
        use callback_reply::Value;
        let Some(g) = self.funcs.getBareosValue else {
            return error_reply();
        };
        // Eight zeroed, aligned bytes hold any of the four output types.
        let mut slot: u64 = 0;
        // SAFETY: `slot` is large and aligned enough for int, char*, bool and
        // uint64_t, which are the only types the cores write.
        let rc = unsafe { g(self.ctx, var, (&mut slot as *mut u64).cast::<c_void>()) };
        let value = if rc != bRC_OK {
            None
        } else {
            match out {
                ValueType::Int => Some(Value::Number((slot as u32 as i32).into())),
                ValueType::Bool => Some(Value::Flag(slot as u8 != 0)),
                ValueType::U64 => Some(Value::Bits(slot)),
                // SAFETY: the core wrote a char* (possibly NULL) into slot.
                ValueType::Str => {
                    unsafe { bytes_of(slot as usize as *const c_char) }.map(Value::Text)
                }
            }
        };
        CallbackReply {
            rc,
            value,
            ..Default::default()
        }
    }
}

pub fn error_reply() -> CallbackReply {
    CallbackReply {
        rc: bRC_Error,
        ..Default::default()
    }
}
