//! A job's plugin instances, as both daemons keep them (the jcr's
//! plugin_ctx_list): creation (NewPlugins, instantiate_plugin), the plugin
//! options dispatch (DispatchNewPluginOptions, dir-sd-api §2.6, §3.3), the
//! event broadcast (GeneratePluginEvent, §2.3) and freePlugin.

use std::ffi::{CString, c_void};
use std::sync::Arc;
use std::sync::atomic::Ordering;

use sidecar_shim::dir::abi::{
    PluginContext, bEvent, bRC, bRC_Cancel, bRC_Error, bRC_OK, bRC_Skip, bRC_Stop, bRC_Term, msg,
};

use crate::core::{self, Instance, JobState, Kind, daemon};
use crate::debug;
use crate::loader::LoadedPlugin;

/// HIGHEST_PLUGIN_INSTANCE.
const HIGHEST_PLUGIN_INSTANCE: u32 = 127;

/// One entry of the plugin_ctx_list.
struct Entry {
    ctx: Box<PluginContext>,
    inst: Arc<Instance>,
}

pub struct Job<'a> {
    pub kind: Kind,
    pub plugins: &'a [LoadedPlugin],
    pub state: Arc<JobState>,
    list: Vec<Entry>,
    /// The list exists (NewPlugins ran with at least one plugin loaded).
    have_list: bool,
}

impl<'a> Job<'a> {
    pub fn new(kind: Kind, plugins: &'a [LoadedPlugin], state: Arc<JobState>) -> Self {
        core::set_current_job(Some(state.clone()));
        Job {
            kind,
            plugins,
            state,
            list: Vec::new(),
            have_list: false,
        }
    }

    pub fn jobid(&self) -> u32 {
        self.state.desc.jobid
    }

    /// NewPlugins: instance 0 of every loaded plugin (nothing if the job is
    /// already canceled).
    pub fn new_plugins(&mut self) {
        if self.plugins.is_empty() || self.state.is_canceled() {
            return;
        }
        self.have_list = true;
        for p in 0..self.plugins.len() {
            if !self.plugins[p].is_unloaded() {
                self.instantiate(p, 0);
            }
        }
    }

    /// instantiate_plugin: append a context and call newPlugin; an instance
    /// whose newPlugin fails is disabled.
    fn instantiate(&mut self, plugin: usize, instance: u32) -> usize {
        let p = &self.plugins[plugin];
        let inst = Arc::new(Instance::new(
            self.state.clone(),
            plugin,
            p.file().to_string(),
        ));
        let mut ctx = Box::new(PluginContext {
            instance,
            plugin: p.record(),
            core_private_context: Arc::as_ptr(&inst).cast_mut().cast(),
            plugin_private_context: std::ptr::null_mut(),
        });
        core::register(&mut *ctx, inst.clone());
        let ctxp: *mut PluginContext = &mut *ctx;
        self.list.push(Entry { ctx, inst });
        let idx = self.list.len() - 1;
        let rc = match p.funcs().and_then(|f| f.newPlugin) {
            // SAFETY: the plugin's entry point with a live, registered ctx.
            Some(f) => unsafe { f(ctxp) },
            None => bRC_Error,
        };
        debug!(
            self.jobid(),
            self.kind.trace_level(),
            "newPlugin {} instance {instance} -> {rc}",
            p.file()
        );
        if rc != bRC_OK {
            self.list[idx].inst.disabled.store(true, Ordering::SeqCst);
        }
        idx
    }

    /// DispatchNewPluginOptions over `entries` (the Job's `Dir Plugin
    /// Options` / the director's `pluginoptions` for the storage daemon).
    pub fn dispatch_options(&mut self, entries: &[String]) {
        if self.plugins.is_empty() {
            return;
        }
        let label = self.kind.label();
        for entry in entries {
            let Some((name, rest)) = entry.split_once(':') else {
                self.state.jmsg(
                    msg::ERROR,
                    &format!("Illegal {label} plugin options encountered, {entry} skipping\n"),
                );
                continue;
            };
            let instance = rest
                .split(':')
                .find(|o| o.len() >= 9 && o.as_bytes()[..9].eq_ignore_ascii_case(b"instance="))
                .map_or(0, |o| str_to_int64(&o[9..]) as u32);
            if instance > HIGHEST_PLUGIN_INSTANCE {
                self.state.jmsg(
                    msg::ERROR,
                    &format!(
                        "Illegal {label} plugin options encountered, {entry} instance {instance} skipping\n"
                    ),
                );
                continue;
            }
            if !self.have_list {
                continue;
            }
            let found = self.list.iter().position(|e| {
                e.ctx.instance == instance && self.plugins[e.inst.plugin].matches(name)
            });
            let found = found.or_else(|| {
                let p = self
                    .plugins
                    .iter()
                    .position(|p| p.matches(name) && !p.is_unloaded())?;
                Some(self.instantiate(p, instance))
            });
            match found {
                Some(i) => {
                    let value = CString::new(entry.as_str()).unwrap_or_default();
                    // The return value is ignored.
                    self.trigger(i, self.kind.options_event(), value.as_ptr() as *mut c_void);
                }
                None => debug!(
                    self.jobid(),
                    self.kind.trace_level(),
                    "no plugin named {name:?} for options {entry:?}"
                ),
            }
        }
    }

    /// trigger_plugin_event for list entry `i`: None if the event was not
    /// delivered (not registered, instance disabled, plugin unloaded).
    fn trigger(&self, i: usize, ev: u32, value: *mut c_void) -> Option<bRC> {
        let e = &self.list[i];
        let p = &self.plugins[e.inst.plugin];
        let name = self.kind.event_name(ev);
        if !e.inst.wants(ev) {
            debug!(
                self.jobid(),
                self.kind.trace_level() + 50,
                "Event {ev} disabled for {} instance {}.",
                p.file(),
                e.ctx.instance
            );
            return None;
        }
        if e.inst.disabled.load(Ordering::SeqCst) || p.is_unloaded() {
            debug!(self.jobid(), self.kind.trace_level(), "Plugin disabled.");
            return None;
        }
        let f = p.funcs().and_then(|f| f.handlePluginEvent)?;
        let mut event = bEvent { eventType: ev };
        let ctx: *const PluginContext = &*e.ctx;
        // SAFETY: the plugin's entry point with a live, registered ctx.
        let rc = unsafe { f(ctx.cast_mut(), &mut event, value) };
        debug!(
            self.jobid(),
            self.kind.trace_level(),
            "{name} ({ev}) -> {} instance {}: rc {rc}",
            p.file(),
            e.ctx.instance
        );
        Some(rc)
    }

    /// GeneratePluginEvent: deliver `ev` to the instances in list order
    /// (reverse order if `reverse`), stopping at the first that returns
    /// bRC_Stop, bRC_Error or bRC_Skip. bRC_Term: the daemon unloads that
    /// plugin (UnloadPlugin) while its instances stay in the list; v4host
    /// marks it unloaded instead, so none of its instances is called again
    /// in this run (freePlugin included). The result is the last return
    /// code (bRC_OK if nobody got the event), bRC_Cancel if the job is
    /// canceled by then.
    #[allow(non_upper_case_globals)]
    pub fn generate(&mut self, ev: u32, value: *mut c_void, reverse: bool) -> bRC {
        let mut rc = bRC_OK;
        if self.have_list {
            let order: Vec<usize> = if reverse {
                (0..self.list.len()).rev().collect()
            } else {
                (0..self.list.len()).collect()
            };
            for i in order {
                let Some(r) = self.trigger(i, ev, value) else {
                    continue;
                };
                rc = r;
                match r {
                    bRC_Stop | bRC_Error | bRC_Skip => break,
                    bRC_Term => {
                        let p = &self.plugins[self.list[i].inst.plugin];
                        p.unloaded.store(true, Ordering::SeqCst);
                        core::daemon_msg(
                            msg::INFO,
                            &format!(
                                "plugin {} returned bRC_Term: unloaded (no more calls to it)\n",
                                p.file()
                            ),
                        );
                    }
                    _ => {}
                }
            }
        }
        if self.state.is_canceled() {
            debug!(
                self.jobid(),
                self.kind.trace_level(),
                "Cancel return from GeneratePluginEvent"
            );
            rc = bRC_Cancel;
        }
        rc
    }

    /// The instances, for the report: `file:instance` (`!` if disabled).
    pub fn instances(&self) -> Vec<String> {
        self.list
            .iter()
            .map(|e| {
                format!(
                    "{}:{}{}",
                    e.inst.plugin_file,
                    e.ctx.instance,
                    if e.inst.disabled.load(Ordering::SeqCst) {
                        " (disabled)"
                    } else {
                        ""
                    }
                )
            })
            .collect()
    }

    /// FreePlugins: freePlugin for every instance, in list order.
    pub fn free_plugins(&mut self) {
        for mut e in std::mem::take(&mut self.list) {
            let p = &self.plugins[e.inst.plugin];
            if !p.is_unloaded()
                && let Some(f) = p.funcs().and_then(|f| f.freePlugin)
            {
                // SAFETY: the plugin's entry point with its live ctx.
                let rc = unsafe { f(&mut *e.ctx) };
                debug!(
                    self.jobid(),
                    self.kind.trace_level(),
                    "freePlugin {} instance {} -> {rc}",
                    p.file(),
                    e.ctx.instance
                );
            }
            core::unregister(&mut *e.ctx);
        }
        self.have_list = false;
    }
}

impl Drop for Job<'_> {
    fn drop(&mut self) {
        self.free_plugins();
        core::set_current_job(None);
        let _ = daemon();
    }
}

/// Bareos's str_to_int64: leading blanks, an optional sign, then digits
/// (anything after them ignored; no digits gives 0).
pub fn str_to_int64(s: &str) -> i64 {
    let s = s.trim_start_matches([' ', '\t', '\n', '\r', '\x0b', '\x0c']);
    let (neg, digits) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    let mut v: i64 = 0;
    for b in digits.bytes().take_while(u8::is_ascii_digit) {
        v = v.wrapping_mul(10).wrapping_add((b - b'0') as i64);
    }
    if neg { v.wrapping_neg() } else { v }
}

#[cfg(test)]
mod tests {
    use super::str_to_int64;

    #[test]
    fn instance_numbers_parse_like_bareos() {
        assert_eq!(str_to_int64("1"), 1);
        assert_eq!(str_to_int64(" +12abc"), 12);
        assert_eq!(str_to_int64("abc"), 0);
        assert_eq!(str_to_int64("-1") as u32, u32::MAX);
        assert_eq!(str_to_int64("128"), 128);
    }
}
