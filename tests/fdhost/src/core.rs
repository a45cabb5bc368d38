//! The core side of the plugin ABI: the CoreFunctions table every plugin
//! gets from `loadPlugin`, the per-job state those callbacks act on, and
//! message output.
//!
//! Callbacks find their job through the plugin context. A context pointer
//! coming from a plugin is only trusted if it is in [`REGISTRY`] (the set of
//! live contexts, i.e. process-wide bookkeeping, not job state); the
//! registry hands out an `Arc` of the instance, which is also what
//! `ctx->core_private_context` points at. So a NULL, stale or garbage ctx
//! gives `bRC_Error`, never a crash, and a callback from another thread
//! keeps the job state alive while it runs.

use std::collections::BTreeMap;
use std::ffi::{CStr, CString, c_char, c_int, c_void};
use std::io::Write;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicBool, AtomicU8, AtomicU32, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use sidecar_shim::abi::{
    self, CoreFunctions, Ctx, PluginApiDefinition, PluginContext, bRC, bRC_Error, bRC_OK, bRC_Seen,
    bRC_Skip, fo, msg, save_pkt, utime_t, var,
};

use crate::accurate::{Accurate, Candidate};
use crate::archive::Stat;
use crate::fileset::{Edit, FileSet, bit};

/// The daemon name: prefix of every message line and bVarFDName.
pub const FD_NAME: &str = "fdhost";

/// Daemon-wide settings (the Client resource); set once in `main`.
pub struct Daemon {
    pub debug: i32,
    pub working_dir: CString,
    pub exe_path: CString,
    pub plugin_dir: CString,
    /// bVarUsedConfig (see `used_config`).
    pub used_config: CString,
}

static DAEMON: OnceLock<Daemon> = OnceLock::new();

pub fn init_daemon(d: Daemon) {
    let _ = DAEMON.set(d);
}

fn daemon() -> &'static Daemon {
    DAEMON.get_or_init(|| Daemon {
        debug: 0,
        working_dir: c"/tmp".into(),
        exe_path: c"/".into(),
        plugin_dir: c"".into(),
        used_config: c"".into(),
    })
}

/// Write one message line to stdout, adding the newline if missing.
fn out_line(prefix: &str, text: &str) {
    let nl = if text.ends_with('\n') { "" } else { "\n" };
    let mut out = std::io::stdout().lock();
    let _ = write!(out, "{prefix}{text}{nl}");
    let _ = out.flush();
}

fn type_prefix(typ: i32) -> &'static str {
    match typ {
        msg::FATAL | msg::ABORT | msg::ERROR_TERM => "Fatal error: ",
        msg::ERROR => "Error: ",
        msg::WARNING => "Warning: ",
        msg::SECURITY => "Security violation: ",
        _ => "",
    }
}

/// A message not bound to a job (plugin loading): `fdhost: Error: <text>`.
pub fn daemon_msg(typ: i32, text: &str) {
    out_line(&format!("{FD_NAME}: {}", type_prefix(typ)), text);
}

/// A debug line on stderr: `fdhost: <file>:<line>-<jobid> <text>`.
pub fn debug_line(jobid: u32, file: &str, line: u32, text: &str) {
    let base = file.rsplit('/').next().unwrap_or(file);
    let nl = if text.ends_with('\n') { "" } else { "\n" };
    let mut err = std::io::stderr().lock();
    let _ = write!(err, "{FD_NAME}: {base}:{line}-{jobid} {text}{nl}");
}

pub fn daemon_debug_wanted(level: i32) -> bool {
    daemon().debug >= level
}

/// Daemon-level debug message (job id 0), formatted lazily.
#[macro_export]
macro_rules! ddebug {
    ($level:expr, $($arg:tt)*) => {
        if $crate::core::daemon_debug_wanted($level) {
            $crate::core::debug_line(0, file!(), line!(), &format!($($arg)*));
        }
    };
}

/// Job-level debug message, formatted lazily.
#[macro_export]
macro_rules! jdebug {
    ($job:expr, $level:expr, $($arg:tt)*) => {
        if $job.debug >= $level {
            $crate::core::debug_line($job.params.jobid, file!(), line!(), &format!($($arg)*));
        }
    };
}

/// What the director told the FD about the job (immutable during the job).
#[derive(Debug, Clone)]
pub struct JobParams {
    pub jobid: u32,
    pub job_name: CString,
    /// Job type char code (`B`, `R`).
    pub job_type: u8,
    /// Level char code (`F`, `I`, `D`, ` ` for restores).
    pub level: u8,
    pub since: i64,
    pub accurate: bool,
    pub client: CString,
    /// bVarWhere and restore_pkt.where: restores with `where=` only.
    /// (bVarRegexWhere and restore_pkt.RegexWhere are always NULL:
    /// bareos-fd never sets jcr->RegexWhere.)
    pub where_: Option<CString>,
    pub prev_job: Option<CString>,
    pub prefix_links: bool,
    /// A FileSet was received (backup/estimate): include/exclude editing
    /// callbacks have a current block to work on.
    pub has_fileset: bool,
    /// The Include block's accurate options (bVarAccurateOptions).
    pub accurate_options: u64,
}

/// Who gets bEventCancelCommand: an instance's context and its
/// handlePluginEvent, registered while the instance lives.
#[derive(Clone, Copy)]
pub struct CancelTarget {
    pub ctx: *mut PluginContext,
    pub handle: unsafe extern "C" fn(Ctx, *mut abi::bEvent, *mut c_void) -> bRC,
    pub inst: *const Instance,
}

// SAFETY: the pointers are only used under JobShared::cancel_targets' lock,
// which Job::finish takes to clear the list before freePlugin; so they are
// live whenever they are used.
unsafe impl Send for CancelTarget {}

/// Per-job state shared by all instances of the job and the callbacks
/// (which may run on other threads, hence atomics and locks).
pub struct JobShared {
    pub params: JobParams,
    pub debug: i32,
    status: AtomicU8,
    fatal: AtomicBool,
    errors: AtomicU32,
    warnings: AtomicU32,
    /// Set by a cancel (`--cancel-after`): not a fatal error, but loops
    /// stop and events are suppressed as after one (SEQ §2.7).
    canceled: AtomicBool,
    pub fileset: Mutex<FileSet>,
    pub accurate: Accurate,
    /// None once the job is over (no cancel can reach it any more).
    pub cancel_targets: Mutex<Option<Vec<CancelTarget>>>,
}

impl JobShared {
    pub fn new(params: JobParams, debug: i32) -> Self {
        let options = params.accurate_options;
        JobShared {
            params,
            debug,
            status: AtomicU8::new(b'R'),
            fatal: AtomicBool::new(false),
            errors: AtomicU32::new(0),
            warnings: AtomicU32::new(0),
            canceled: AtomicBool::new(false),
            fileset: Mutex::new(FileSet::default()),
            accurate: Accurate::new(None, options),
            cancel_targets: Mutex::new(Some(Vec::new())),
        }
    }

    pub fn fileset(&self) -> std::sync::MutexGuard<'_, FileSet> {
        self.fileset.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The director's cancel, in the order of SEQ §11: bEventCancelCommand
    /// to every registered instance (on this, a non-job thread, while the
    /// job thread may be inside the plugin), then the job is marked
    /// cancelled.
    pub fn cancel(&self) {
        {
            let targets = self
                .cancel_targets
                .lock()
                .unwrap_or_else(|e| e.into_inner());
            let Some(targets) = targets.as_ref() else {
                return; // the job is over
            };
            for t in targets {
                // SAFETY: see CancelTarget: live while listed (lock held).
                let inst = unsafe { &*t.inst };
                if !inst.wants(abi::event::CancelCommand) {
                    continue;
                }
                let mut ev = abi::bEvent {
                    eventType: abi::event::CancelCommand,
                };
                // SAFETY: the instance's entry point with its live context.
                let rc = unsafe { (t.handle)(t.ctx, &mut ev, std::ptr::null_mut()) };
                jdebug!(
                    self,
                    100,
                    "{}: bEventCancelCommand -> {rc}",
                    inst.plugin_file
                );
            }
        }
        self.canceled.store(true, Ordering::SeqCst);
        self.status.store(b'A', Ordering::SeqCst);
        self.jmsg(msg::INFO, "Job canceled (--cancel-after).\n");
    }

    pub fn was_canceled(&self) -> bool {
        self.canceled.load(Ordering::SeqCst)
    }

    /// Issue a job message of type `typ` (an `M_*` value) with the core's
    /// side effects: fatal marks the job failed, error/warning count.
    pub fn jmsg(&self, typ: i32, text: &str) {
        match typ {
            msg::FATAL | msg::ABORT | msg::ERROR_TERM => {
                self.fatal.store(true, Ordering::SeqCst);
                self.status.store(b'f', Ordering::SeqCst);
            }
            msg::ERROR => {
                self.errors.fetch_add(1, Ordering::SeqCst);
            }
            msg::WARNING => {
                self.warnings.fetch_add(1, Ordering::SeqCst);
            }
            _ => {}
        }
        out_line(
            &format!(
                "{FD_NAME} JobId {}: {}",
                self.params.jobid,
                type_prefix(typ)
            ),
            text,
        );
    }

    /// Count an error without a message (e.g. M_NOTSAVED entries).
    pub fn count_error(&self) {
        self.errors.fetch_add(1, Ordering::SeqCst);
    }

    /// The core's "job canceled" test, which is also true after a fatal
    /// error: loops stop and events (but End*Job) are no longer delivered.
    pub fn is_canceled(&self) -> bool {
        self.fatal.load(Ordering::SeqCst) || self.canceled.load(Ordering::SeqCst)
    }

    /// A fatal error (not a cancel) happened.
    pub fn is_fatal(&self) -> bool {
        self.fatal.load(Ordering::SeqCst)
    }

    pub fn errors(&self) -> u32 {
        self.errors.load(Ordering::SeqCst)
    }

    pub fn warnings(&self) -> u32 {
        self.warnings.load(Ordering::SeqCst)
    }
}

/// One plugin instance of one job: what `core_private_context` points at.
pub struct Instance {
    pub job: Arc<JobShared>,
    /// The plugin's file name, e.g. `python3-fd.so` (debug prefix).
    pub plugin_file: String,
    events: AtomicU32,
    check_changes: AtomicBool,
}

impl Instance {
    pub fn new(job: Arc<JobShared>, plugin_file: String) -> Self {
        Instance {
            job,
            plugin_file,
            events: AtomicU32::new(0),
            check_changes: AtomicBool::new(true),
        }
    }

    /// Did the instance register event `ev`?
    pub fn wants(&self, ev: u32) -> bool {
        ev < 32 && self.events.load(Ordering::SeqCst) & (1 << ev) != 0
    }
}

/// Live contexts (address -> instance). See the module comment.
static REGISTRY: Mutex<BTreeMap<usize, Arc<Instance>>> = Mutex::new(BTreeMap::new());

fn registry() -> std::sync::MutexGuard<'static, BTreeMap<usize, Arc<Instance>>> {
    REGISTRY.lock().unwrap_or_else(|e| e.into_inner())
}

/// Make `ctx` known to the callbacks.
pub fn register(ctx: *mut PluginContext, inst: Arc<Instance>) {
    registry().insert(ctx as usize, inst);
}

/// Forget `ctx` (after freePlugin); callbacks with it fail from now on.
pub fn unregister(ctx: *mut PluginContext) {
    registry().remove(&(ctx as usize));
}

fn lookup(ctx: Ctx) -> Option<Arc<Instance>> {
    if ctx.is_null() {
        return None;
    }
    registry().get(&(ctx as usize)).cloned()
}

/// Run a callback body; a panic becomes `fallback` (never unwinds into C).
fn guard<T>(fallback: T, f: impl FnOnce() -> T) -> T {
    catch_unwind(AssertUnwindSafe(f)).unwrap_or(fallback)
}

/// Borrow a C string from a plugin (lossy UTF-8); None for NULL.
///
/// # Safety
/// `p` is NULL or a NUL-terminated string valid for the call.
pub unsafe fn cstr<'a>(p: *const c_char) -> Option<std::borrow::Cow<'a, str>> {
    // SAFETY: per the function contract.
    (!p.is_null()).then(|| unsafe { CStr::from_ptr(p) }.to_string_lossy())
}

// ---- the callbacks -------------------------------------------------------

unsafe extern "C" {
    fn fdhost_registerBareosEvents(ctx: Ctx, nr: c_int, ...) -> bRC;
    fn fdhost_unregisterBareosEvents(ctx: Ctx, nr: c_int, ...) -> bRC;
    fn fdhost_JobMessage(
        ctx: Ctx,
        file: *const c_char,
        line: c_int,
        typ: c_int,
        mtime: utime_t,
        fmt: *const c_char,
        ...
    ) -> bRC;
    fn fdhost_DebugMessage(
        ctx: Ctx,
        file: *const c_char,
        line: c_int,
        level: c_int,
        fmt: *const c_char,
        ...
    ) -> bRC;
}

/// (Un)register events; called by core_varargs.c with the collected values.
///
/// # Safety
/// `events` points to `read` values (or is NULL when `read` is 0).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fdhost_core_events(
    ctx: Ctx,
    set: c_int,
    nr: c_int,
    read: c_int,
    events: *const u32,
) -> bRC {
    guard(bRC_Error, || {
        let Some(inst) = lookup(ctx) else {
            return bRC_Error;
        };
        let evs: &[u32] = if events.is_null() || read <= 0 {
            &[]
        } else {
            // SAFETY: the C side filled `read` values.
            unsafe { std::slice::from_raw_parts(events, read as usize) }
        };
        for &ev in evs {
            if ev >= 32 {
                jdebug!(
                    inst.job,
                    1,
                    "{}: ignoring event number {ev} (>= 32)",
                    inst.plugin_file
                );
                continue;
            }
            if set != 0 {
                inst.events.fetch_or(1 << ev, Ordering::SeqCst);
            } else {
                inst.events.fetch_and(!(1 << ev), Ordering::SeqCst);
            }
        }
        if nr > read {
            jdebug!(
                inst.job,
                1,
                "{}: only {read} of {nr} event numbers read",
                inst.plugin_file
            );
        }
        jdebug!(
            inst.job,
            200,
            "{}: {}registered events {evs:?}",
            inst.plugin_file,
            if set != 0 { "" } else { "un" }
        );
        bRC_OK
    })
}

/// JobMessage after formatting (core_varargs.c).
///
/// # Safety
/// `text` is NULL or a valid C string.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fdhost_core_job_message(
    ctx: Ctx,
    _file: *const c_char,
    _line: c_int,
    typ: c_int,
    _mtime: i64,
    text: *const c_char,
) -> bRC {
    guard(bRC_OK, || {
        // SAFETY: per the function contract.
        let text = unsafe { cstr(text) }.unwrap_or_default();
        match lookup(ctx) {
            Some(inst) => inst.job.jmsg(typ, &text),
            None => daemon_msg(typ, &text),
        }
        bRC_OK
    })
}

/// Is a debug message at `level` shown (saves formatting)?
#[unsafe(no_mangle)]
pub extern "C" fn fdhost_core_debug_wanted(ctx: Ctx, level: c_int) -> c_int {
    guard(0, || match lookup(ctx) {
        Some(inst) => (inst.job.debug >= level) as c_int,
        None => daemon_debug_wanted(level) as c_int,
    })
}

/// DebugMessage after formatting (core_varargs.c).
///
/// # Safety
/// `file` and `text` are NULL or valid C strings.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fdhost_core_debug_message(
    ctx: Ctx,
    file: *const c_char,
    line: c_int,
    _level: c_int,
    text: *const c_char,
) -> bRC {
    guard(bRC_OK, || {
        // SAFETY: per the function contract.
        let (file, text) = unsafe { (cstr(file), cstr(text)) };
        let file = file.unwrap_or_default();
        let text = text.unwrap_or_default();
        let (jobid, plugin) = match lookup(ctx) {
            Some(inst) => (inst.job.params.jobid, inst.plugin_file.clone()),
            None => (0, "<unknown plugin>".to_string()),
        };
        debug_line(
            jobid,
            &file,
            line.max(0) as u32,
            &format!("{plugin}: {text}"),
        );
        bRC_OK
    })
}

unsafe extern "C" fn get_instance_count(ctx: Ctx, ret: *mut c_int) -> bRC {
    guard(bRC_Error, || {
        if ret.is_null() || lookup(ctx).is_none() {
            return bRC_Error;
        }
        // Like bareos-fd: effectively the number of jobs in the daemon.
        let jobs: std::collections::BTreeSet<usize> = registry()
            .values()
            .map(|i| Arc::as_ptr(&i.job) as usize)
            .collect();
        // SAFETY: non-NULL out pointer from the plugin.
        unsafe { ret.write_unaligned(jobs.len() as c_int) };
        bRC_OK
    })
}

/// `char*`-typed value: the pointer, or NULL.
fn opt_ptr(s: &Option<CString>) -> *const c_char {
    s.as_ref().map_or(std::ptr::null(), |s| s.as_ptr())
}

static VERSION: &CStr = c"26.0.0~fdhost (21 August 2026)";

unsafe extern "C" fn get_bareos_value(ctx: Ctx, variable: c_int, value: *mut c_void) -> bRC {
    guard(bRC_Error, || {
        if value.is_null() {
            return bRC_Error;
        }
        // SAFETY (all writes below): `value` is non-NULL and, per the ABI,
        // points to storage of the type documented for `variable`.
        let put_ptr =
            |p: *const c_char| unsafe { value.cast::<*const c_char>().write_unaligned(p) };
        let put_int = |v: c_int| unsafe { value.cast::<c_int>().write_unaligned(v) };
        let d = daemon();
        match variable {
            var::FDName => {
                put_ptr(c"fdhost".as_ptr());
                return bRC_OK;
            }
            var::WorkingDir => {
                put_ptr(d.working_dir.as_ptr());
                return bRC_OK;
            }
            var::ExePath => {
                put_ptr(d.exe_path.as_ptr());
                return bRC_OK;
            }
            var::Version => {
                put_ptr(VERSION.as_ptr());
                return bRC_OK;
            }
            var::UsedConfig => {
                put_ptr(d.used_config.as_ptr());
                return bRC_OK;
            }
            var::PluginPath => {
                put_ptr(d.plugin_dir.as_ptr());
                return bRC_OK;
            }
            var::DistName | var::VssClient => return bRC_Error,
            _ => {}
        }
        let Some(inst) = lookup(ctx) else {
            return bRC_Error;
        };
        let p = &inst.job.params;
        // The pointers handed out stay valid while the job lives.
        match variable {
            var::JobId => put_int(p.jobid as c_int),
            var::Level => put_int(p.level as c_int),
            var::Type => put_int(p.job_type as c_int),
            var::Client => put_ptr(p.client.as_ptr()),
            var::JobName => put_ptr(p.job_name.as_ptr()),
            var::JobStatus => put_int(inst.job.status.load(Ordering::SeqCst) as c_int),
            var::SinceTime => put_int(p.since as c_int),
            var::Accurate => put_int(p.accurate as c_int),
            var::Where => put_ptr(opt_ptr(&p.where_)),
            var::RegexWhere => put_ptr(std::ptr::null()),
            var::PrevJobName => put_ptr(opt_ptr(&p.prev_job)),
            var::PrefixLinks => put_int(p.prefix_links as c_int),
            // SAFETY: bool out-parameter.
            var::CheckChanges => unsafe {
                value
                    .cast::<bool>()
                    .write_unaligned(inst.check_changes.load(Ordering::SeqCst))
            },
            var::AccurateOptions => {
                if !p.has_fileset {
                    return bRC_Error;
                }
                // SAFETY: uint64_t out-parameter.
                unsafe { value.cast::<u64>().write_unaligned(p.accurate_options) }
            }
            _ => {}
        }
        bRC_OK
    })
}

unsafe extern "C" fn set_bareos_value(ctx: Ctx, variable: c_int, value: *const c_void) -> bRC {
    guard(bRC_Error, || {
        let Some(inst) = lookup(ctx) else {
            return bRC_Error;
        };
        if value.is_null() {
            return bRC_Error;
        }
        match variable {
            var::CheckChanges => {
                // SAFETY: `const bool*` per the ABI; read as a byte so a
                // non-0/1 value is not undefined behaviour.
                let v = unsafe { value.cast::<u8>().read() } != 0;
                inst.check_changes.store(v, Ordering::SeqCst);
                jdebug!(inst.job, 150, "{}: CheckChanges={v}", inst.plugin_file);
                bRC_OK
            }
            var::FileSeen => {
                // SAFETY: `const char*` per the ABI, checked non-NULL.
                let name = unsafe { cstr(value.cast()) }.unwrap_or_default();
                if inst.job.params.accurate && inst.job.accurate.mark(&name, true) {
                    jdebug!(inst.job, 150, "{}: FileSeen {name}", inst.plugin_file);
                    bRC_OK
                } else {
                    bRC_Error
                }
            }
            n => {
                inst.job.jmsg(
                    msg::ERROR,
                    &format!("Warning: bareosSetValue not implemented for var {n}.\n"),
                );
                bRC_OK
            }
        }
    })
}

unsafe extern "C" fn bareos_malloc(
    _ctx: Ctx,
    _file: *const c_char,
    _line: c_int,
    size: usize,
) -> *mut c_void {
    // SAFETY: plain malloc.
    unsafe { libc::malloc(size) }
}

unsafe extern "C" fn bareos_free(_ctx: Ctx, _file: *const c_char, _line: c_int, mem: *mut c_void) {
    // SAFETY: the plugin passes memory from bareosMalloc/malloc (or NULL).
    unsafe { libc::free(mem) }
}

/// Apply a FileSet edit; errors as bareos-fd (no job/FileSet, NULL item).
fn fileset_edit(ctx: Ctx, what: Edit, item: Option<String>, typ: c_int) -> bRC {
    let Some(inst) = lookup(ctx) else {
        return bRC_Error;
    };
    if !inst.job.params.has_fileset {
        return bRC_Error;
    }
    let r = inst.job.fileset().edit(what, item.as_deref(), typ);
    jdebug!(
        inst.job,
        100,
        "{}: {what:?} {} -> {r:?}",
        inst.plugin_file,
        item.as_deref().unwrap_or("")
    );
    match r {
        Ok(()) => bRC_OK,
        Err(_) => bRC_Error,
    }
}

/// A plugin's optional C string argument.
fn arg(p: *const c_char) -> Option<String> {
    // SAFETY: NULL or a C string from the plugin, valid for the call.
    unsafe { cstr(p) }.map(Into::into)
}

unsafe extern "C" fn add_exclude(ctx: Ctx, file: *const c_char) -> bRC {
    guard(bRC_Error, || {
        fileset_edit(ctx, Edit::AddExclude, arg(file), 0)
    })
}

unsafe extern "C" fn add_include(ctx: Ctx, file: *const c_char) -> bRC {
    guard(bRC_Error, || {
        fileset_edit(ctx, Edit::AddInclude, arg(file), 0)
    })
}

unsafe extern "C" fn add_options(ctx: Ctx, opts: *const c_char) -> bRC {
    guard(bRC_Error, || {
        fileset_edit(ctx, Edit::AddOptions, arg(opts), 0)
    })
}

unsafe extern "C" fn add_regex(ctx: Ctx, item: *const c_char, typ: c_int) -> bRC {
    guard(bRC_Error, || {
        fileset_edit(ctx, Edit::AddRegex, arg(item), typ)
    })
}

unsafe extern "C" fn add_wild(ctx: Ctx, item: *const c_char, typ: c_int) -> bRC {
    guard(bRC_Error, || {
        fileset_edit(ctx, Edit::AddWild, arg(item), typ)
    })
}

unsafe extern "C" fn new_options(ctx: Ctx) -> bRC {
    guard(bRC_Error, || fileset_edit(ctx, Edit::NewOptions, None, 0))
}

unsafe extern "C" fn new_include(ctx: Ctx) -> bRC {
    guard(bRC_Error, || fileset_edit(ctx, Edit::NewInclude, None, 0))
}

unsafe extern "C" fn new_pre_include(ctx: Ctx) -> bRC {
    guard(bRC_Error, || {
        fileset_edit(ctx, Edit::NewPreInclude, None, 0)
    })
}

unsafe extern "C" fn check_changes(ctx: Ctx, sp: *mut save_pkt) -> bRC {
    guard(bRC_Error, || {
        let Some(inst) = lookup(ctx) else {
            return bRC_Error;
        };
        // SAFETY: NULL or the plugin's save_pkt, valid for the call.
        let Some(sp) = (unsafe { sp.as_mut() }) else {
            return bRC_Error;
        };
        if sp.fname.is_null() {
            inst.job.jmsg(
                msg::FATAL,
                "Command plugin: no fname in bareosCheckChanges packet.\n",
            );
            return bRC_Error;
        }
        if !inst.check_changes.load(Ordering::SeqCst) {
            sp.delta_seq = 0;
            sp.accurate_found = false;
            return bRC_OK;
        }
        // SAFETY: fname checked non-NULL above; link NULL or a C string.
        let (name, link) = unsafe { (cstr(sp.fname), cstr(sp.link)) };
        let (name, link) = (name.unwrap_or_default(), link.unwrap_or_default());
        let p = &inst.job.params;
        let v = inst.job.accurate.check(
            p.accurate,
            p.level,
            p.since,
            &Candidate {
                fname: &name,
                link: &link,
                stat: Stat::from_libc(&sp.statp),
                save_time: sp.save_time,
                mtime_only: fo::is_set(&sp.flags, bit::MTIMEONLY),
            },
        );
        sp.delta_seq = v.delta_seq;
        sp.accurate_found = v.found;
        jdebug!(
            inst.job,
            150,
            "checkChanges {name}: {}",
            if v.changed { "changed" } else { "seen" }
        );
        if v.changed { bRC_OK } else { bRC_Seen }
    })
}

unsafe extern "C" fn accept_file(ctx: Ctx, sp: *mut save_pkt) -> bRC {
    guard(bRC_Error, || {
        let Some(inst) = lookup(ctx) else {
            return bRC_Error;
        };
        // SAFETY: NULL or the plugin's save_pkt, valid for the call.
        let Some(sp) = (unsafe { sp.as_ref() }) else {
            return bRC_Error;
        };
        // SAFETY: NULL or a C string owned by the plugin.
        let Some(name) = (unsafe { cstr(sp.fname) }) else {
            return bRC_Error;
        };
        let is_dir = sp.statp.st_mode & libc::S_IFMT == libc::S_IFDIR;
        let fs = inst.job.fileset();
        if fs.accepts(fs.current, &name, is_dir) {
            bRC_OK
        } else {
            bRC_Skip
        }
    })
}

fn seen_bitmap(ctx: Ctx, all: bool, fname: *mut c_char, seen: bool) -> bRC {
    let Some(inst) = lookup(ctx) else {
        return bRC_Error;
    };
    // Exactly one of `all` and `fname` must be given.
    if all != fname.is_null() || !inst.job.params.accurate {
        return bRC_Error;
    }
    if all {
        inst.job.accurate.mark_all(seen);
    } else {
        // SAFETY: non-NULL C string from the plugin.
        let name = unsafe { cstr(fname) }.unwrap_or_default();
        inst.job.accurate.mark(&name, seen);
    }
    bRC_OK
}

unsafe extern "C" fn set_seen_bitmap(ctx: Ctx, all: bool, fname: *mut c_char) -> bRC {
    guard(bRC_Error, || seen_bitmap(ctx, all, fname, true))
}

unsafe extern "C" fn clear_seen_bitmap(ctx: Ctx, all: bool, fname: *mut c_char) -> bRC {
    guard(bRC_Error, || seen_bitmap(ctx, all, fname, false))
}

/// The tables handed to `loadPlugin`. In writable memory (UnsafeCell): the
/// ABI passes them as non-const pointers, and a plugin scribbling on them
/// must not fault.
pub struct CoreTables {
    pub api: std::cell::UnsafeCell<PluginApiDefinition>,
    pub funcs: std::cell::UnsafeCell<CoreFunctions>,
}

// SAFETY: fdhost never writes the tables; plugins only read them.
unsafe impl Sync for CoreTables {}

pub static CORE_TABLES: CoreTables = CoreTables {
    api: std::cell::UnsafeCell::new(PluginApiDefinition {
        size: std::mem::size_of::<PluginApiDefinition>() as u32,
        version: abi::FD_PLUGIN_INTERFACE_VERSION,
    }),
    funcs: std::cell::UnsafeCell::new(CoreFunctions {
        size: std::mem::size_of::<CoreFunctions>() as u32,
        version: abi::FD_PLUGIN_INTERFACE_VERSION,
        registerBareosEvents: Some(fdhost_registerBareosEvents),
        unregisterBareosEvents: Some(fdhost_unregisterBareosEvents),
        getInstanceCount: Some(get_instance_count),
        getBareosValue: Some(get_bareos_value),
        setBareosValue: Some(set_bareos_value),
        JobMessage: Some(fdhost_JobMessage),
        DebugMessage: Some(fdhost_DebugMessage),
        bareosMalloc: Some(bareos_malloc),
        bareosFree: Some(bareos_free),
        AddExclude: Some(add_exclude),
        AddInclude: Some(add_include),
        AddOptions: Some(add_options),
        AddRegex: Some(add_regex),
        AddWild: Some(add_wild),
        NewOptions: Some(new_options),
        NewInclude: Some(new_include),
        NewPreInclude: Some(new_pre_include),
        checkChanges: Some(check_changes),
        AcceptFile: Some(accept_file),
        SetSeenBitmap: Some(set_seen_bitmap),
        ClearSeenBitmap: Some(clear_seen_bitmap),
    }),
};
