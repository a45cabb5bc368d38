//! The daemon's core functions, called safely on behalf of the runner.
//!
//! The table arrives once in `loadPlugin` and stays valid for the life of the
//! process. Every request from the runner is checked here before it reaches
//! the core: unknown variables are never passed to `getBareosValue` (the
//! output type depends on the variable), event numbers are limited to 1..31
//! (the core does no bounds check), message types that would terminate the
//! daemon are downgraded.

use std::ffi::{CString, c_char, c_int, c_void};
use std::sync::atomic::{AtomicPtr, Ordering};

use sidecar_proto::{Callback, CallbackReply, Log, SavePacket, callback, callback_reply, log};

use crate::abi::{self, CoreFunctions, PluginContext, bRC, bRC_Error, bRC_OK, event, msg, var};
use crate::packets;
use crate::session::CoreHandler;

static CORE_FUNCTIONS: AtomicPtr<CoreFunctions> = AtomicPtr::new(std::ptr::null_mut());

/// Remembers the core's table (loadPlugin) or forgets it (unloadPlugin).
pub fn set_table(table: *mut CoreFunctions) {
    CORE_FUNCTIONS.store(table, Ordering::SeqCst);
}

/// The core's functions for one plugin context.
pub struct Core {
    ctx: *mut PluginContext,
    funcs: &'static CoreFunctions,
}

/// Prefix of every message the shim itself writes to the job log.
pub const PREFIX: &str = "python3-fd (sidecar): ";

impl Core {
    /// `None` before loadPlugin stored the table.
    pub fn new(ctx: *mut PluginContext) -> Option<Core> {
        let table = CORE_FUNCTIONS.load(Ordering::SeqCst);
        // SAFETY: the core guarantees the table outlives the process once
        // handed to loadPlugin; unloadPlugin clears the pointer first.
        unsafe { table.as_ref() }.map(|funcs| Core { ctx, funcs })
    }

    /// A job message as the core's JobMessage would log it.
    pub fn job_message(&self, msg_type: i32, text: &[u8]) {
        // A plugin must not be able to stop the daemon: M_ABORT and
        // M_ERROR_TERM would, so they are logged as fatal job errors instead.
        let msg_type = match msg_type {
            msg::ABORT | msg::ERROR_TERM => msg::FATAL,
            t => t,
        };
        if let Some(f) = self.funcs.JobMessage {
            let text = packets::c_string(text);
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
            let text = packets::c_string(text);
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

    /// A message of the shim's own, prefixed so admins see who speaks.
    pub fn shim_message(&self, msg_type: i32, text: &str) {
        self.job_message(msg_type, format!("{PREFIX}{text}\n").as_bytes());
    }

    pub fn register_events(&self, events: &[u32]) -> bRC {
        let Some(f) = self.funcs.registerBareosEvents else {
            return bRC_Error;
        };
        let mut rc = bRC_Error;
        for &e in events
            .iter()
            .filter(|&&e| (1..=abi::event::MAX).contains(&e))
        {
            // SAFETY: one variadic int argument, as the core expects.
            rc = unsafe { f(self.ctx, 1, e as c_int) };
            if rc != bRC_OK {
                break;
            }
        }
        rc
    }

    fn unregister_events(&self, events: &[u32]) -> bRC {
        let Some(f) = self.funcs.unregisterBareosEvents else {
            return bRC_Error;
        };
        let mut rc = bRC_Error;
        for &e in events
            .iter()
            .filter(|&&e| (1..=abi::event::MAX).contains(&e))
        {
            // SAFETY: as in register_events.
            rc = unsafe { f(self.ctx, 1, e as c_int) };
        }
        rc
    }

    /// Executes one callback from the runner.
    pub fn execute(&self, kind: Option<callback::Kind>) -> CallbackReply {
        use callback::Kind as K;
        let mut reply = CallbackReply {
            rc: bRC_Error,
            ..Default::default()
        };
        let f = self.funcs;
        let Some(kind) = kind else { return reply };
        // SAFETY (all calls below): ctx is the context of the call in
        // progress; every pointer argument points to a local that lives
        // until the core function returns.
        reply.rc = unsafe {
            match kind {
                K::GetValue(v) => return self.get_value(v),
                K::SetValue(v) => self.set_value(v),
                K::RegisterEvents(e) => self.register_events(&e.events),
                // The shim keeps the cancel for itself (see instance.rs);
                // the runner knows the plugin no longer wants it.
                K::UnregisterEvents(e) => {
                    let events: Vec<u32> = e
                        .events
                        .into_iter()
                        .filter(|&e| e != event::CancelCommand)
                        .collect();
                    if events.is_empty() {
                        bRC_OK
                    } else {
                        self.unregister_events(&events)
                    }
                }
                K::GetInstanceCount(_) => match f.getInstanceCount {
                    Some(g) => {
                        let mut n: c_int = 0;
                        let rc = g(self.ctx, &mut n);
                        reply.value = Some(callback_reply::Value::Number(n.into()));
                        rc
                    }
                    None => bRC_Error,
                },
                K::AddExclude(s) => with_str(f.AddExclude, &s, |g, p| g(self.ctx, p)),
                K::AddInclude(s) => with_str(f.AddInclude, &s, |g, p| g(self.ctx, p)),
                K::AddOptions(s) => with_str(f.AddOptions, &s, |g, p| g(self.ctx, p)),
                K::AddRegex(p) => with_str(f.AddRegex, &p.item, |g, s| g(self.ctx, s, p.r#type)),
                K::AddWild(p) => with_str(f.AddWild, &p.item, |g, s| g(self.ctx, s, p.r#type)),
                K::NewOptions(_) => f.NewOptions.map_or(bRC_Error, |g| g(self.ctx)),
                K::NewInclude(_) => f.NewInclude.map_or(bRC_Error, |g| g(self.ctx)),
                K::NewPreInclude(_) => f.NewPreInclude.map_or(bRC_Error, |g| g(self.ctx)),
                K::CheckChanges(sp) => {
                    let (rc, delta_seq, found) = self.with_save_pkt(f.checkChanges, &sp);
                    reply.delta_seq = delta_seq;
                    reply.accurate_found = found;
                    rc
                }
                K::AcceptFile(sp) => self.with_save_pkt(f.AcceptFile, &sp).0,
                K::SetSeenBitmap(b) => self.seen_bitmap(f.SetSeenBitmap, b),
                K::ClearSeenBitmap(b) => self.seen_bitmap(f.ClearSeenBitmap, b),
            }
        };
        reply
    }

    fn get_value(&self, v: i32) -> CallbackReply {
        use callback_reply::Value;
        enum Out {
            Int,
            Str,
            Bool,
            U64,
        }
        let out = match v {
            var::JobId
            | var::Level
            | var::Type
            | var::JobStatus
            | var::SinceTime
            | var::Accurate
            | var::PrefixLinks => Out::Int,
            var::FDName
            | var::Client
            | var::JobName
            | var::WorkingDir
            | var::Where
            | var::RegexWhere
            | var::ExePath
            | var::Version
            | var::PrevJobName
            | var::UsedConfig
            | var::PluginPath => Out::Str,
            var::CheckChanges => Out::Bool,
            var::AccurateOptions => Out::U64,
            // Write-only, Windows-only, removed or unknown: never handed to
            // the core, whose output type for them is undefined.
            _ => {
                return CallbackReply {
                    rc: bRC_Error,
                    ..Default::default()
                };
            }
        };
        let Some(g) = self.funcs.getBareosValue else {
            return CallbackReply {
                rc: bRC_Error,
                ..Default::default()
            };
        };
        // Eight zeroed, aligned bytes hold any of the four output types.
        let mut slot: u64 = 0;
        // SAFETY: `slot` is large and aligned enough for int, char*, bool and
        // uint64_t, which are the only types the core writes for these
        // variables (ABI §7.3).
        let rc = unsafe { g(self.ctx, v, (&mut slot as *mut u64).cast::<c_void>()) };
        let value = if rc != bRC_OK {
            None
        } else {
            match out {
                Out::Int => Some(Value::Number((slot as u32 as i32).into())),
                Out::Bool => Some(Value::Flag(slot as u8 != 0)),
                Out::U64 => Some(Value::Bits(slot)),
                // SAFETY: the core wrote a char* (possibly NULL) into slot.
                Out::Str => {
                    unsafe { packets::bytes_of(slot as usize as *const c_char) }.map(Value::Text)
                }
            }
        };
        CallbackReply {
            rc,
            value,
            ..Default::default()
        }
    }

    fn set_value(&self, v: sidecar_proto::SetValue) -> bRC {
        use sidecar_proto::set_value::Value;
        let Some(g) = self.funcs.setBareosValue else {
            return bRC_Error;
        };
        // SAFETY: each arm passes the pointer type the core expects for that
        // variable, pointing to a local that outlives the call.
        unsafe {
            match (v.var, v.value) {
                (var::CheckChanges, Some(Value::Flag(b))) => {
                    g(self.ctx, v.var, (&b as *const bool).cast())
                }
                (var::FileSeen, Some(Value::Text(t))) => {
                    let t = packets::c_string(&t);
                    g(self.ctx, v.var, t.as_ptr().cast())
                }
                _ => bRC_Error,
            }
        }
    }

    fn with_save_pkt(
        &self,
        f: Option<unsafe extern "C" fn(abi::Ctx, *mut abi::save_pkt) -> bRC>,
        sp: &SavePacket,
    ) -> (bRC, u32, bool) {
        let Some(f) = f else {
            return (bRC_Error, 0, false);
        };
        let mut owned = packets::OwnedSavePkt::from_proto(sp);
        // SAFETY: `owned` keeps every string the packet points to alive.
        let rc = unsafe { f(self.ctx, owned.as_mut_ptr()) };
        let pkt = owned.pkt();
        (rc, pkt.delta_seq, pkt.accurate_found)
    }

    fn seen_bitmap(
        &self,
        f: Option<unsafe extern "C" fn(abi::Ctx, bool, *mut c_char) -> bRC>,
        b: sidecar_proto::SeenBitmap,
    ) -> bRC {
        let Some(f) = f else { return bRC_Error };
        let name = b.fname.as_deref().map(packets::c_string);
        let ptr = name
            .as_ref()
            .map_or(std::ptr::null_mut(), |n| n.as_ptr() as *mut c_char);
        // SAFETY: `ptr` is NULL or points into `name`, alive until return.
        unsafe { f(self.ctx, b.all, ptr) }
    }
}

/// Calls `f` with `s` as a C string; bRC_Error if the core lacks `f`.
fn with_str<F: Copy>(f: Option<F>, s: &[u8], call: impl FnOnce(F, *const c_char) -> bRC) -> bRC {
    match f {
        Some(g) => {
            let s: CString = packets::c_string(s);
            call(g, s.as_ptr())
        }
        None => bRC_Error,
    }
}

impl CoreHandler for Core {
    fn callback(&mut self, callback: Callback) -> CallbackReply {
        let mut reply = self.execute(callback.kind);
        reply.id = callback.id;
        reply
    }

    fn log(&mut self, l: Log) {
        match l.kind {
            Some(log::Kind::Job(m)) => self.job_message(m.r#type, &m.text),
            Some(log::Kind::Debug(m)) => self.debug_message(m.level, &m.text),
            None => {}
        }
    }
}
