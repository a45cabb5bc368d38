//! A version-4 daemon's core functions for one plugin context: the shared
//! ones (`ffi::core`) with this daemon's variable types.

use std::ffi::c_int;
use std::marker::PhantomData;
use std::sync::atomic::Ordering;

use sidecar_proto::{Callback, CallbackReply, Log, callback, log, set_value};

use super::Spec;
use super::abi::{PluginContext, ValueType, bRC, bRC_Error};
use crate::daemon::{CoreHandler, Daemon, DaemonCore};
use crate::ffi::core::{Common, error_reply};
use crate::ffi::cstr::c_string;

pub struct Core<S: Spec> {
    common: Common,
    spec: PhantomData<S>,
}

impl<S: Spec> Core<S> {
    /// `None` before loadPlugin stored the table.
    pub fn new(ctx: *mut PluginContext) -> Option<Core<S>> {
        let table = S::table().load(Ordering::SeqCst);
        // SAFETY: the core guarantees the table outlives the process once
        // handed to loadPlugin; unloadPlugin clears the pointer first.
        let funcs = unsafe { table.as_ref() }?;
        Some(Core {
            common: Common { ctx, funcs },
            spec: PhantomData,
        })
    }

    pub fn register_events(&self, events: &[u32]) -> bRC {
        self.common.register_events(events)
    }

    fn set_value(&self, v: sidecar_proto::SetValue) -> bRC {
        let Some(g) = self.common.funcs.setBareosValue else {
            return bRC_Error;
        };
        let ctx = self.common.ctx;
        // SAFETY: each arm passes the pointer type the core reads for that
        // variable (dir-sd-api §2.5, §3.5), pointing to a local that
        // outlives the call.
        unsafe {
            match (S::write_type(v.var), v.value) {
                (Some(ValueType::Str), Some(set_value::Value::Text(t))) => {
                    let t = c_string(&t);
                    g(ctx, v.var, t.as_ptr().cast_mut().cast())
                }
                (Some(ValueType::Int), Some(set_value::Value::Number(n))) => {
                    let Ok(mut n) = c_int::try_from(n) else {
                        return bRC_Error;
                    };
                    g(ctx, v.var, (&mut n as *mut c_int).cast())
                }
                _ => bRC_Error,
            }
        }
    }
}

impl<S: Spec> DaemonCore for Core<S> {
    fn daemon(&self) -> Daemon {
        S::DAEMON
    }

    fn job_message(&self, msg_type: i32, text: &[u8]) {
        self.common.job_message(msg_type, text);
    }

    fn debug_message(&self, level: i32, text: &[u8]) {
        self.common.debug_message(level, text);
    }
}

impl<S: Spec> CoreHandler for Core<S> {
    fn callback(&mut self, callback: Callback) -> CallbackReply {
        use callback::Kind as K;
        let mut reply = match callback.kind {
            Some(K::GetValue(v)) => match S::read_type(v) {
                Some(out) => self.common.get_value(v, out),
                None => error_reply(),
            },
            Some(K::SetValue(v)) => CallbackReply {
                rc: self.set_value(v),
                ..Default::default()
            },
            Some(K::RegisterEvents(e)) => CallbackReply {
                rc: self.common.register_events(&e.events),
                ..Default::default()
            },
            Some(K::UnregisterEvents(e)) => CallbackReply {
                rc: self.common.unregister_events(&e.events),
                ..Default::default()
            },
            Some(K::GetInstanceCount(_)) => self.common.instance_count(),
            // The FD's FileSet and accurate functions do not exist here.
            _ => error_reply(),
        };
        reply.id = callback.id;
        reply
    }

    fn log(&mut self, l: Log) {
        match l.kind {
            Some(log::Kind::Job(m)) => self.common.job_message(m.r#type, &m.text),
            Some(log::Kind::Debug(m)) => self.common.debug_message(m.level, &m.text),
            None => {}
        }
    }
}
