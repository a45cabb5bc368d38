//! The file daemon's core functions, called safely on behalf of the
//! runner: the shared ones through `ffi::core`, the FD's own (FileSet
//! editing, accurate mode) here. The table arrives once in `loadPlugin` and
//! stays valid for the life of the process.

use std::ffi::{CString, c_char};
use std::sync::atomic::{AtomicPtr, Ordering};

use sidecar_proto::{Callback, CallbackReply, Log, SavePacket, callback, log};

use super::abi::{self, CoreFunctions, PluginContext, bRC, bRC_Error, bRC_OK, event, var};
use super::packets;
use crate::daemon::{CoreHandler, Daemon, DaemonCore};
use crate::ffi::core::{Common, CommonFunctions, ValueType, error_reply};

static CORE_FUNCTIONS: AtomicPtr<CoreFunctions> = AtomicPtr::new(std::ptr::null_mut());

/// Remembers the core's table (loadPlugin).
pub fn set_table(table: &'static CoreFunctions) {
    CORE_FUNCTIONS.store((table as *const CoreFunctions).cast_mut(), Ordering::SeqCst);
}

/// Forgets it (unloadPlugin).
pub fn clear_table() {
    CORE_FUNCTIONS.store(std::ptr::null_mut(), Ordering::SeqCst);
}

/// The core's functions for one plugin context.
pub struct Core {
    ctx: *mut PluginContext,
    funcs: &'static CoreFunctions,
    common: Common,
}

impl Core {
    /// `None` before loadPlugin stored the table.
    pub fn new(ctx: *mut PluginContext) -> Option<Core> {
        let table = CORE_FUNCTIONS.load(Ordering::SeqCst);
        // SAFETY: the core guarantees the table outlives the process once
        // handed to loadPlugin; unloadPlugin clears the pointer first.
        let funcs = unsafe { table.as_ref() }?;
        // SAFETY: the FD's table begins with the fields of CommonFunctions,
        // in the same order and types (pinned by the layout test).
        let common = unsafe { &*(table as *const CommonFunctions) };
        Some(Core {
            ctx,
            funcs,
            common: Common { ctx, funcs: common },
        })
    }

    pub fn register_events(&self, events: &[u32]) -> bRC {
        self.common.register_events(events)
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
                        self.common.unregister_events(&events)
                    }
                }
                K::GetInstanceCount(_) => return self.common.instance_count(),
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
        let out = match v {
            var::JobId
            | var::Level
            | var::Type
            | var::JobStatus
            | var::SinceTime
            | var::Accurate
            | var::PrefixLinks => ValueType::Int,
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
            | var::PluginPath => ValueType::Str,
            var::CheckChanges => ValueType::Bool,
            var::AccurateOptions => ValueType::U64,
            // Write-only, Windows-only, removed or unknown: never handed to
            // the core, whose output type for them is undefined.
            _ => return error_reply(),
        };
        self.common.get_value(v, out)
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
                    let t = crate::ffi::cstr::c_string(&t);
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
        let name = b.fname.as_deref().map(crate::ffi::cstr::c_string);
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
            let s: CString = crate::ffi::cstr::c_string(s);
            call(g, s.as_ptr())
        }
        None => bRC_Error,
    }
}

impl DaemonCore for Core {
    fn daemon(&self) -> Daemon {
        Daemon::Fd
    }

    /// A job message as the core's JobMessage would log it.
    fn job_message(&self, msg_type: i32, text: &[u8]) {
        self.common.job_message(msg_type, text);
    }

    fn debug_message(&self, level: i32, text: &[u8]) {
        self.common.debug_message(level, text);
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
