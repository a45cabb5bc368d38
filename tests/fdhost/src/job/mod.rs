//! One job: the plugin instances of the job (contexts), event delivery and
//! command routing (fd-call-sequences §2), and calls into the plugins.
//! The job kinds drive it: [`backup`], [`restore`], [`estimate`].

pub mod backup;
pub mod estimate;
pub mod native;
pub mod restore;

use std::ffi::{CStr, CString, c_void};
use std::sync::Arc;
use std::time::Instant;

use sidecar_shim::abi::{
    PluginContext, PluginFunctions, bEvent, bRC, bRC_Error, bRC_OK, bRC_Term, event, msg,
    restore_object_pkt,
};

use crate::catalog;
use crate::core::{self, CancelTarget, Instance, JobParams, JobShared};
use crate::jdebug;
use crate::loader::LoadedPlugin;

/// Call entry point `$f` of instance `$i`; a NULL entry point fails the job
/// instead of crashing.
macro_rules! call {
    ($job:expr, $i:expr, $f:ident $(, $arg:expr)*) => {{
        let i = $i;
        match $job.funcs(i).and_then(|f| f.$f) {
            // SAFETY: a plugin entry point called with the job's live
            // context and arguments valid for the call (fd-abi §5).
            Some(f) => unsafe { f($job.ctx(i) $(, $arg)*) },
            None => $job.missing(i, stringify!($f)),
        }
    }};
}
pub(crate) use call;

/// A job's instance of one loaded plugin.
pub struct Slot {
    /// From `Box::into_raw`; freed in [`Job::finish`]. Raw because the
    /// plugin writes `plugin_private_context` behind our back.
    ctx: *mut PluginContext,
    pub inst: Arc<Instance>,
    /// newPlugin failed: no events, commands to it do nothing.
    pub disabled: bool,
    /// startRestoreFile succeeded and endRestoreFile is still due.
    pub restore_started: bool,
}

/// Result of routing a command string to a plugin instance.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route {
    /// No plugin name could be extracted (already reported if malformed).
    NoName,
    NotFound,
    Disabled(usize),
    Found(usize),
}

/// What the report needs once the job is over.
#[derive(Debug, Clone)]
pub struct Totals {
    pub jobid: u32,
    pub job_name: String,
    pub level: u8,
    pub files: u64,
    pub bytes: u64,
    pub errors: u32,
    pub warnings: u32,
    pub fatal: bool,
    /// Canceled (`--cancel-after`).
    pub canceled: bool,
    /// Aborted without a fatal message (e.g. bEventBackupCommand != OK).
    pub aborted: bool,
    pub elapsed: std::time::Duration,
}

pub struct Job<'a> {
    plugins: &'a [LoadedPlugin],
    pub shared: Arc<JobShared>,
    pub slots: Vec<Slot>,
    /// JobFiles / JobBytes.
    pub files: u64,
    pub bytes: u64,
    /// The FileSet walk / restore was aborted by a plugin answer the core
    /// treats as fatal even without a message.
    pub walk_failed: bool,
    /// What the catalog records of a backup: saved entries, entries the
    /// deleted-file pass reported, restore objects.
    pub saved: Vec<catalog::FileEntry>,
    pub deleted: Vec<String>,
    pub objects: Vec<catalog::ObjectEntry>,
    started: Instant,
}

impl<'a> Job<'a> {
    /// Instance creation (`JobId` command): a context and newPlugin per
    /// loaded plugin in load order, then bEventJobStart.
    pub fn start(plugins: &'a [LoadedPlugin], params: JobParams, debug: i32) -> Self {
        let shared = Arc::new(JobShared::new(params, debug));
        let mut job = Job {
            plugins,
            shared: shared.clone(),
            slots: Vec::with_capacity(plugins.len()),
            files: 0,
            bytes: 0,
            walk_failed: false,
            saved: Vec::new(),
            deleted: Vec::new(),
            objects: Vec::new(),
            started: Instant::now(),
        };
        for p in plugins {
            let inst = Arc::new(Instance::new(shared.clone(), p.file().to_string()));
            let ctx = Box::into_raw(Box::new(PluginContext {
                instance: 0,
                plugin: p.record(),
                core_private_context: Arc::as_ptr(&inst).cast_mut().cast(),
                plugin_private_context: std::ptr::null_mut(),
            }));
            core::register(ctx, inst.clone());
            job.slots.push(Slot {
                ctx,
                inst,
                disabled: false,
                restore_started: false,
            });
        }
        for i in 0..job.slots.len() {
            let rc = call!(job, i, newPlugin);
            if rc != bRC_OK {
                jdebug!(
                    job.shared,
                    10,
                    "newPlugin of {} returned {rc}: disabled",
                    job.file(i)
                );
                job.slots[i].disabled = true;
            }
        }
        // Enabled instances can be cancelled from another thread (§11).
        let targets: Vec<CancelTarget> = (0..job.slots.len())
            .filter(|&i| !job.slots[i].disabled)
            .filter_map(|i| {
                let handle = job.funcs(i)?.handlePluginEvent?;
                Some(CancelTarget {
                    ctx: job.slots[i].ctx,
                    handle,
                    inst: Arc::as_ptr(&job.slots[i].inst),
                })
            })
            .collect();
        *job.shared
            .cancel_targets
            .lock()
            .unwrap_or_else(|e| e.into_inner()) = Some(targets);
        let p = &job.shared.params;
        let start = CString::new(format!(
            "JobId={} Job={}",
            p.jobid,
            p.job_name.to_string_lossy()
        ))
        .unwrap_or_default();
        job.broadcast(event::JobStart, start.as_ptr().cast_mut().cast());
        job
    }

    /// Job end: bEventJobEnd (unless canceled), freePlugin for every
    /// instance, contexts released.
    pub fn finish(mut self) -> Totals {
        self.broadcast(event::JobEnd, std::ptr::null_mut());
        // No cancel may reach an instance after freePlugin; taking the lock
        // also waits for a cancel in progress.
        self.shared
            .cancel_targets
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take();
        for i in 0..self.slots.len() {
            let rc = call!(self, i, freePlugin);
            jdebug!(
                self.shared,
                100,
                "freePlugin of {} returned {rc}",
                self.file(i)
            );
        }
        for s in self.slots.drain(..) {
            core::unregister(s.ctx);
            // SAFETY: from Box::into_raw in `start`; unregistered, so no
            // callback can reach it any more.
            drop(unsafe { Box::from_raw(s.ctx) });
        }
        let p = &self.shared.params;
        Totals {
            jobid: p.jobid,
            job_name: p.job_name.to_string_lossy().into_owned(),
            level: p.level,
            files: self.files,
            bytes: self.bytes,
            errors: self.shared.errors(),
            warnings: self.shared.warnings(),
            fatal: self.shared.is_fatal(),
            canceled: self.shared.was_canceled(),
            aborted: self.walk_failed,
            elapsed: self.started.elapsed(),
        }
    }

    pub fn ctx(&self, i: usize) -> *mut PluginContext {
        self.slots[i].ctx
    }

    /// The plugin's file name, e.g. `python3-fd.so`.
    pub fn file(&self, i: usize) -> &str {
        self.plugins[i].file()
    }

    pub fn funcs(&self, i: usize) -> Option<&PluginFunctions> {
        self.plugins[i].funcs()
    }

    /// A required entry point is NULL: bareos-fd would crash; we fail the job.
    pub fn missing(&self, i: usize, what: &str) -> bRC {
        self.shared.jmsg(
            msg::FATAL,
            &format!("Plugin {} has no {what} entry point.\n", self.file(i)),
        );
        bRC_Error
    }

    /// handlePluginEvent on instance `i` (no gating).
    pub fn event(&self, i: usize, ev: u32, value: *mut c_void) -> bRC {
        let mut e = bEvent { eventType: ev };
        let rc = call!(self, i, handlePluginEvent, &mut e, value);
        jdebug!(self.shared, 200, "{}: event {ev} -> {rc}", self.file(i));
        if rc == bRC_Term {
            // bareos-fd would unload the plugin while contexts still use it.
            self.shared.jmsg(
                msg::ERROR,
                &format!(
                    "Plugin {} returned bRC_Term from handlePluginEvent (event {ev}); \
                     bareos-fd would unload it while in use.\n",
                    self.file(i)
                ),
            );
        }
        rc
    }

    /// May event `ev` still be generated? (Not after cancel/fatal error,
    /// except the End*Job events.)
    fn gate(&self, ev: u32) -> bool {
        !self.shared.is_canceled()
            || matches!(
                ev,
                event::EndBackupJob | event::EndRestoreJob | event::EndVerifyJob
            )
    }

    /// Deliver `ev` to every enabled instance that registered it.
    pub fn broadcast(&self, ev: u32, value: *mut c_void) {
        if !self.gate(ev) {
            return;
        }
        for i in 0..self.slots.len() {
            if !self.slots[i].disabled && self.slots[i].inst.wants(ev) {
                self.event(i, ev, value);
            }
        }
    }

    /// Route a command string for event `ev` (§2.4).
    pub fn route(&self, cmd: &str, ev: u32) -> Route {
        let name = match cmd.find(':') {
            Some(0) => return Route::NoName,
            Some(p) => &cmd[..p],
            None if cmd.is_empty() => return Route::NoName,
            None if !cmd.contains(' ') => cmd,
            None => {
                self.shared
                    .jmsg(msg::ERROR, &format!("Malformed plugin command: {cmd}\n"));
                return Route::NoName;
            }
        };
        for (i, s) in self.slots.iter().enumerate() {
            if self.plugins[i].matches(name) && s.inst.wants(ev) {
                return if s.disabled {
                    Route::Disabled(i)
                } else {
                    Route::Found(i)
                };
            }
        }
        Route::NotFound
    }

    /// A named event: to the first matching instance that registered it.
    /// Unmatched names are dropped. Returns the instance and its answer.
    pub fn named_event(&self, cmd: &CStr, ev: u32, value: *mut c_void) -> Option<(usize, bRC)> {
        if !self.gate(ev) {
            return None;
        }
        match self.route(&cmd.to_string_lossy(), ev) {
            Route::Found(i) => Some((i, self.event(i, ev, value))),
            _ => None,
        }
    }

    /// The bEventLevel/bEventSince part of the `level` command (§3.1.2).
    pub fn level_events(&self) {
        let p = &self.shared.params;
        if matches!(p.level, b'I' | b'D') {
            self.broadcast(event::Since, p.since as isize as *mut c_void);
        }
        self.broadcast(event::Level, p.level as isize as *mut c_void);
    }

    /// FileSet transfer: bEventPluginCommand per `Plugin =` line, then one
    /// per Options block with an option plugin, then bEventEndFileSet.
    pub fn fileset_events(&self, cmds: &[CString]) {
        let option_plugins: Vec<CString> = {
            let fs = self.shared.fileset();
            fs.includes
                .iter()
                .flat_map(|inc| inc.options.iter().filter_map(|o| o.plugin.as_deref()))
                .map(|p| CString::new(p).unwrap_or_default())
                .collect()
        };
        for c in cmds.iter().chain(&option_plugins) {
            self.named_event(c, event::PluginCommand, c.as_ptr().cast_mut().cast());
        }
        self.broadcast(event::EndFileSet, std::ptr::null_mut());
    }

    /// `pluginoptions` commands (§3.1.4, §3.3.3): bEventNewPluginOptions,
    /// named if a plugin name can be extracted, else broadcast (§2.5).
    pub fn plugin_options_events(&self, opts: &[CString]) {
        for o in opts {
            let text = o.to_string_lossy();
            let value = o.as_ptr().cast_mut().cast();
            if text.contains(':') || !text.contains(' ') && !text.is_empty() {
                self.named_event(o, event::NewPluginOptions, value);
            } else {
                self.broadcast(event::NewPluginOptions, value);
            }
        }
    }

    /// `restoreobject` commands (§9.2): each object named by its plugin
    /// name (broadcast if empty), then one broadcast NULL; nothing if there
    /// are none.
    pub fn restore_object_events(&self, objects: &[crate::archive::Object]) {
        for o in objects {
            let name = CString::new(o.object_name.clone()).unwrap_or_default();
            let plugin = CString::new(o.plugin_name.clone()).unwrap_or_default();
            let mut data = o.data.clone();
            data.push(0); // a NUL past the end, for plugins that treat it as text
            let mut rop = restore_object_pkt {
                pkt_size: std::mem::size_of::<restore_object_pkt>() as i32,
                object_name: name.as_ptr().cast_mut(),
                object: data.as_mut_ptr().cast(),
                plugin_name: plugin.as_ptr().cast_mut(),
                object_type: o.object_type,
                object_len: o.data.len() as i32,
                object_full_len: o.full_len,
                object_index: o.index,
                object_compression: o.compression,
                stream: 0,
                JobId: o.jobid,
                pkt_end: std::mem::size_of::<restore_object_pkt>() as i32,
            };
            let value = (&mut rop as *mut restore_object_pkt).cast();
            if plugin.is_empty() {
                self.broadcast(event::RestoreObject, value);
            } else {
                self.named_event(&plugin, event::RestoreObject, value);
            }
        }
        if !objects.is_empty() {
            self.broadcast(event::RestoreObject, std::ptr::null_mut());
        }
    }
}

/// A unique job name like bareos's `name.YYYY-MM-DD_hh.mm.ss_NN`.
pub fn job_name(base: &str, jobid: u32) -> CString {
    let t = crate::report::strftime(now_secs(), c"%Y-%m-%d_%H.%M.%S");
    CString::new(format!("{base}.{t}_{:02}", jobid % 100)).unwrap_or_default()
}

pub fn now_secs() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}
