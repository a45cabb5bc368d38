//! The core side of the version-4 plugin ABI: the CoreFunctions tables the
//! director (64 bytes) and the storage daemon (120 bytes, with the device
//! helpers) hand to `loadPlugin`, the per-job state their callbacks act on,
//! and message output.
//!
//! As in fdhost, a context pointer coming from a plugin is only trusted if
//! it is in [`REGISTRY`] (live contexts → instance), so a NULL, stale or
//! garbage ctx gives `bRC_Error`, never a crash.

use std::collections::BTreeMap;
use std::ffi::{CStr, CString, c_char, c_int, c_void};
use std::io::Write;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};

use sidecar_shim::dir::abi::{
    CoreFunctions, Ctx, PluginApiDefinition, PluginContext, bRC, bRC_Error, bRC_OK, msg, utime_t,
};
use sidecar_shim::{dir, sd};

/// Which daemon this process stands in for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Dir,
    Sd,
}

const DIR_EVENTS: [&str; 11] = [
    "bDirEventJobStart",
    "bDirEventJobEnd",
    "bDirEventJobInit",
    "bDirEventJobRun",
    "bDirEventVolumePurged",
    "bDirEventNewVolume",
    "bDirEventNeedVolume",
    "bDirEventVolumeFull",
    "bDirEventRecyle",
    "bDirEventGetScratch",
    "bDirEventNewPluginOptions",
];

const SD_EVENTS: [&str; 24] = [
    "bSdEventJobStart",
    "bSdEventJobEnd",
    "bSdEventDeviceInit",
    "bSdEventDeviceMount",
    "bSdEventVolumeLoad",
    "bSdEventDeviceReserve",
    "bSdEventDeviceOpen",
    "bSdEventLabelRead",
    "bSdEventLabelVerified",
    "bSdEventLabelWrite",
    "bSdEventDeviceClose",
    "bSdEventVolumeUnload",
    "bSdEventDeviceUnmount",
    "bSdEventReadError",
    "bSdEventWriteError",
    "bSdEventDriveStatus",
    "bSdEventVolumeStatus",
    "bSdEventSetupRecordTranslation",
    "bSdEventReadRecordTranslation",
    "bSdEventWriteRecordTranslation",
    "bSdEventDeviceRelease",
    "bSdEventNewPluginOptions",
    "bSdEventChangerLock",
    "bSdEventChangerUnlock",
];

impl Kind {
    /// The daemon name: prefix of every message line.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Dir => "dirhost",
            Kind::Sd => "sdhost",
        }
    }
    pub fn suffix(self) -> &'static str {
        match self {
            Kind::Dir => "-dir.so",
            Kind::Sd => "-sd.so",
        }
    }
    pub fn magic(self) -> &'static str {
        match self {
            Kind::Dir => dir::abi::DIR_PLUGIN_MAGIC,
            Kind::Sd => sd::abi::SD_PLUGIN_MAGIC,
        }
    }
    /// `DIR` / `SD` in the plugin options messages.
    pub fn label(self) -> &'static str {
        match self {
            Kind::Dir => "DIR",
            Kind::Sd => "SD",
        }
    }
    pub fn options_event(self) -> u32 {
        match self {
            Kind::Dir => 11,
            Kind::Sd => 22,
        }
    }
    /// The daemon's plugin debug level (dir_plugins.cc: 150, sd_plugins.cc:
    /// 250): event tracing is shown from this `-d` level on.
    pub fn trace_level(self) -> i32 {
        match self {
            Kind::Dir => 150,
            Kind::Sd => 250,
        }
    }
    pub fn event_name(self, ev: u32) -> &'static str {
        let names: &[&str] = match self {
            Kind::Dir => &DIR_EVENTS,
            Kind::Sd => &SD_EVENTS,
        };
        (ev as usize)
            .checked_sub(1)
            .and_then(|i| names.get(i))
            .copied()
            .unwrap_or("(unknown event)")
    }
}

/// Daemon-wide settings; set once in `cli::main`.
pub struct Daemon {
    pub kind: Kind,
    pub debug: i32,
    pub plugin_dir: CString,
}

static DAEMON: OnceLock<Daemon> = OnceLock::new();

pub fn init_daemon(d: Daemon) {
    let _ = DAEMON.set(d);
}

pub fn daemon() -> &'static Daemon {
    DAEMON.get_or_init(|| Daemon {
        kind: Kind::Dir,
        debug: 0,
        plugin_dir: c"".into(),
    })
}

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

/// A message not bound to a job: `dirhost: Error: <text>`.
pub fn daemon_msg(typ: i32, text: &str) {
    out_line(
        &format!("{}: {}", daemon().kind.name(), type_prefix(typ)),
        text,
    );
}

/// A debug line on stderr: `dirhost: <file>:<line>-<jobid> <text>`.
pub fn debug_line(jobid: u32, file: &str, line: u32, text: &str) {
    let base = file.rsplit('/').next().unwrap_or(file);
    let nl = if text.ends_with('\n') { "" } else { "\n" };
    let mut err = std::io::stderr().lock();
    let _ = write!(
        err,
        "{}: {base}:{line}-{jobid} {text}{nl}",
        daemon().kind.name()
    );
}

pub fn debug_wanted(level: i32) -> bool {
    daemon().debug >= level
}

/// Debug message, formatted lazily: `debug!(jobid, level, fmt, ...)`.
#[macro_export]
macro_rules! debug {
    ($jobid:expr, $level:expr, $($arg:tt)*) => {
        if $crate::core::debug_wanted($level) {
            $crate::core::debug_line($jobid, file!(), line!(), &format!($($arg)*));
        }
    };
}

/// What the command line says about the job (the Job, Client, Pool,
/// Storage and Catalog resources and what the director sent).
#[derive(Debug, Clone)]
pub struct JobDesc {
    pub jobid: u32,
    /// Job resource name (bDirVarJob / bsdVarJob).
    pub job: CString,
    /// Unique job name (bDirVarJobName / bsdVarJobName).
    pub job_name: CString,
    /// `B`, `R`, ...
    pub job_type: u8,
    pub level: u8,
    pub status: u8,
    pub client: CString,
    pub pool: CString,
    pub pool_type: CString,
    pub storage: CString,
    pub catalog: CString,
    pub media_type: CString,
    pub volume: CString,
    pub priority: i32,
    pub files: u32,
    pub bytes: u64,
    pub num_vols: i32,
}

impl JobDesc {
    pub fn reads(&self) -> bool {
        self.job_type == b'R'
    }
}

/// The job's mutable core state (the jcr fields plugins can see).
#[derive(Debug)]
pub struct JobVars {
    pub status: u8,
    pub level: u8,
    pub priority: i32,
    /// jcr->VolumeName (SetValue VolumeName; the director's
    /// bDirVarVolumeName).
    pub volume: CString,
    /// The storage daemon's device record (jcr->sd_impl->dcr): None until
    /// a device is reserved. Holds dcr->VolumeName (bsdVarVolumeName).
    pub dcr_volume: Option<CString>,
    pub errors: u32,
    pub warnings: u32,
    pub fatal: bool,
    pub canceled: bool,
    pub files: u32,
    pub bytes: u64,
    pub read_bytes: u64,
    pub sd_files: u32,
    pub sd_errors: u32,
    pub fd_status: u8,
    pub sd_status: u8,
    pub last_rate: i32,
    pub num_vols: i32,
    /// SetValue calls in order, for the report.
    pub set_values: Vec<String>,
}

/// Per-job state shared by all instances of the job and the callbacks.
pub struct JobState {
    pub desc: JobDesc,
    vars: Mutex<JobVars>,
}

impl JobState {
    pub fn new(desc: JobDesc) -> Self {
        let vars = JobVars {
            status: desc.status,
            level: desc.level,
            priority: desc.priority,
            volume: CString::default(),
            dcr_volume: None,
            errors: 0,
            warnings: 0,
            fatal: false,
            canceled: false,
            files: 0,
            bytes: 0,
            read_bytes: 0,
            sd_files: 0,
            sd_errors: 0,
            fd_status: 0,
            sd_status: 0,
            last_rate: 0,
            num_vols: desc.num_vols,
            set_values: Vec::new(),
        };
        JobState {
            desc,
            vars: Mutex::new(vars),
        }
    }

    pub fn vars(&self) -> MutexGuard<'_, JobVars> {
        self.vars.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A job message with the core's side effects (message.cc): fatal
    /// sets the status to `f` and JobErrors to at least 1, error counts an
    /// error, warning a warning.
    pub fn jmsg(&self, typ: i32, text: &str) {
        let name = daemon().kind.name();
        {
            let mut v = self.vars();
            match typ {
                msg::FATAL | msg::ABORT | msg::ERROR_TERM => {
                    v.fatal = true;
                    v.set_status(b'f');
                    v.errors = v.errors.max(1);
                }
                msg::ERROR => v.errors += 1,
                msg::WARNING => v.warnings += 1,
                _ => {}
            }
        }
        if matches!(typ, msg::ABORT | msg::ERROR_TERM) {
            // The real daemon exits here; the test bed fails the job.
            out_line(
                &format!("{name}: "),
                &format!(
                    "{name} {} (the real daemon would exit now; {name} fails the job)\n",
                    if typ == msg::ABORT {
                        "ABORTING due to ERROR"
                    } else {
                        "ERROR TERMINATION"
                    }
                ),
            );
        }
        out_line(
            &format!("{name} JobId {}: {}", self.desc.jobid, type_prefix(typ)),
            text,
        );
    }

    /// The core's "job canceled" test (JobCanceled: canceled, fatal or
    /// error-terminated).
    pub fn is_canceled(&self) -> bool {
        let v = self.vars();
        v.canceled || v.fatal || matches!(v.status, b'A' | b'E' | b'f')
    }

    pub fn failed(&self) -> bool {
        let v = self.vars();
        v.fatal || matches!(v.status, b'E' | b'f' | b'A')
    }
}

impl JobVars {
    /// setJobStatusWithPriorityCheck: a failure status is not replaced by
    /// a "better" one (T, R, C over f/E/A).
    pub fn set_status(&mut self, s: u8) {
        let prio = |c: u8| match c {
            b'f' | b'E' => 3,
            b'A' => 2,
            _ => 0,
        };
        if prio(s) >= prio(self.status) {
            self.status = s;
        }
    }
}

/// One plugin instance of one job: what `core_private_context` points at.
pub struct Instance {
    pub job: Arc<JobState>,
    /// Index into the loaded plugin list.
    pub plugin: usize,
    pub plugin_file: String,
    events: AtomicU32,
    /// newPlugin failed (the instance gets no events).
    pub disabled: AtomicBool,
}

impl Instance {
    pub fn new(job: Arc<JobState>, plugin: usize, plugin_file: String) -> Self {
        Instance {
            job,
            plugin,
            plugin_file,
            events: AtomicU32::new(0),
            disabled: AtomicBool::new(false),
        }
    }

    /// IsEventEnabled.
    pub fn wants(&self, ev: u32) -> bool {
        ev < 32 && self.events.load(Ordering::SeqCst) & (1 << ev) != 0
    }

    pub fn events(&self) -> u32 {
        self.events.load(Ordering::SeqCst)
    }
}

static REGISTRY: Mutex<BTreeMap<usize, Arc<Instance>>> = Mutex::new(BTreeMap::new());

fn registry() -> MutexGuard<'static, BTreeMap<usize, Arc<Instance>>> {
    REGISTRY.lock().unwrap_or_else(|e| e.into_inner())
}

pub fn register(ctx: *mut PluginContext, inst: Arc<Instance>) {
    registry().insert(ctx as usize, inst);
}

pub fn unregister(ctx: *mut PluginContext) {
    registry().remove(&(ctx as usize));
}

fn lookup(ctx: Ctx) -> Option<Arc<Instance>> {
    if ctx.is_null() {
        return None;
    }
    registry().get(&(ctx as usize)).cloned()
}

/// The job running now (for the storage daemon's device helpers, which get
/// no context).
static CURRENT_JOB: Mutex<Option<Arc<JobState>>> = Mutex::new(None);

pub fn set_current_job(job: Option<Arc<JobState>>) {
    *CURRENT_JOB.lock().unwrap_or_else(|e| e.into_inner()) = job;
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
    fn v4host_registerBareosEvents(ctx: Ctx, nr: c_int, ...) -> bRC;
    fn v4host_unregisterBareosEvents(ctx: Ctx, nr: c_int, ...) -> bRC;
    fn v4host_JobMessage(
        ctx: Ctx,
        file: *const c_char,
        line: c_int,
        typ: c_int,
        mtime: utime_t,
        fmt: *const c_char,
        ...
    ) -> bRC;
    fn v4host_DebugMessage(
        ctx: Ctx,
        file: *const c_char,
        line: c_int,
        level: c_int,
        fmt: *const c_char,
        ...
    ) -> bRC;
}

/// (Un)register events; called by core_varargs.c with the collected values.
/// The director's mask holds 16 events (NbytesForBits(DIR_NR_EVENTS + 1)
/// bytes): a number ≥ 16 is a fatal job message and bRC_Error, the events
/// before it stay (un)registered. The storage daemon checks nothing; its
/// mask holds 32 bits, and a number ≥ 32 (which would write outside it) is
/// ignored with a debug line.
///
/// # Safety
/// `events` points to `read` values (or is NULL when `read` is 0).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn v4host_core_events(
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
        let jobid = inst.job.desc.jobid;
        let kind = daemon().kind;
        for &ev in evs {
            debug!(
                jobid,
                kind.trace_level(),
                "{}: Plugin {}registered event={ev}",
                inst.plugin_file,
                if set != 0 { "" } else { "un" }
            );
            if kind == Kind::Dir && ev >= 16 {
                inst.job.jmsg(
                    msg::FATAL,
                    &format!(
                        "Cannot {} event unknown event {} (out of bounds)\n",
                        if set != 0 { "set" } else { "unset" },
                        ev as i32
                    ),
                );
                return bRC_Error;
            }
            if ev >= 32 {
                debug!(
                    jobid,
                    1,
                    "{}: event number {ev} ignored (bareos-sd would write past its event mask)",
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
            debug!(
                jobid,
                1, "{}: only {read} of {nr} event numbers read", inst.plugin_file
            );
        }
        bRC_OK
    })
}

/// JobMessage after formatting (core_varargs.c).
///
/// # Safety
/// `text` is NULL or a valid C string.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn v4host_core_job_message(
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
pub extern "C" fn v4host_core_debug_wanted(level: c_int) -> c_int {
    guard(0, || debug_wanted(level) as c_int)
}

/// DebugMessage after formatting (core_varargs.c). Like the daemons'
/// d_msg: no plugin-name prefix.
///
/// # Safety
/// `file` and `text` are NULL or valid C strings.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn v4host_core_debug_message(
    ctx: Ctx,
    file: *const c_char,
    line: c_int,
    _level: c_int,
    text: *const c_char,
) -> bRC {
    guard(bRC_OK, || {
        // SAFETY: per the function contract.
        let (file, text) = unsafe { (cstr(file), cstr(text)) };
        let jobid = lookup(ctx).map_or(0, |i| i.job.desc.jobid);
        debug_line(
            jobid,
            &file.unwrap_or_default(),
            line.max(0) as u32,
            &text.unwrap_or_default(),
        );
        bRC_OK
    })
}

/// Both daemons count, for every running job, the instances of the
/// caller's plugin in the *caller's* job (the loop variable is not used):
/// (jobs in the daemon) × (instances of this plugin in this job).
unsafe extern "C" fn get_instance_count(ctx: Ctx, ret: *mut c_int) -> bRC {
    guard(bRC_Error, || {
        let Some(me) = lookup(ctx) else {
            return bRC_Error;
        };
        if ret.is_null() {
            return bRC_Error;
        }
        let reg = registry();
        let jobs: std::collections::BTreeSet<usize> =
            reg.values().map(|i| Arc::as_ptr(&i.job) as usize).collect();
        let mine = reg
            .values()
            .filter(|i| Arc::ptr_eq(&i.job, &me.job) && i.plugin == me.plugin)
            .count();
        // SAFETY: non-NULL out pointer from the plugin.
        unsafe { ret.write_unaligned((jobs.len() * mine) as c_int) };
        bRC_OK
    })
}

/// Where getBareosValue writes (the type is the variable's, §2.4/§3.4).
struct Out(*mut c_void);

impl Out {
    fn ptr(&self, p: *const c_char) {
        // SAFETY: `value` is non-NULL and points to a `char*` per the ABI.
        unsafe { self.0.cast::<*const c_char>().write_unaligned(p) }
    }
    fn int(&self, v: i32) {
        // SAFETY: as above, an `int`.
        unsafe { self.0.cast::<c_int>().write_unaligned(v) }
    }
    fn u64(&self, v: u64) {
        // SAFETY: as above, a `uint64_t`.
        unsafe { self.0.cast::<u64>().write_unaligned(v) }
    }
}

unsafe extern "C" fn dir_get_value(ctx: Ctx, variable: c_int, value: *mut c_void) -> bRC {
    use dir::abi::var;
    guard(bRC_Error, || {
        if value.is_null() {
            return bRC_Error;
        }
        let out = Out(value);
        if variable == var::PluginDir {
            out.ptr(daemon().plugin_dir.as_ptr());
            return bRC_OK;
        }
        let Some(inst) = lookup(ctx) else {
            return bRC_Error;
        };
        let d = &inst.job.desc;
        let v = inst.job.vars();
        // Backups have a write storage, restores a read storage.
        let (write, read) = if d.reads() {
            (None, Some(&d.storage))
        } else {
            (Some(&d.storage), None)
        };
        let either = write.or(read);
        let mut rc = bRC_OK;
        let mut opt = |s: Option<&CString>| match s {
            Some(s) => out.ptr(s.as_ptr()),
            None => {
                out.ptr(std::ptr::null());
                rc = bRC_Error;
            }
        };
        // The pointers handed out stay valid while the job lives (or until
        // a SetValue replaces the string, as in the daemon).
        match variable {
            var::JobId => out.int(d.jobid as i32),
            var::JobName => out.ptr(d.job_name.as_ptr()),
            var::Job => out.ptr(d.job.as_ptr()),
            var::Level => out.int(v.level as i32),
            var::Type => out.int(d.job_type as i32),
            var::Client => out.ptr(d.client.as_ptr()),
            var::NumVols => out.int(v.num_vols),
            var::Pool => out.ptr(d.pool.as_ptr()),
            var::Storage => opt(either),
            var::WriteStorage => opt(write),
            var::ReadStorage => opt(read),
            var::Catalog => out.ptr(d.catalog.as_ptr()),
            var::MediaType => opt(either.map(|_| &d.media_type)),
            var::JobStatus => out.int(v.status as i32),
            var::Priority => out.int(v.priority),
            var::VolumeName => out.ptr(v.volume.as_ptr()),
            var::CatalogRes => rc = bRC_Error,
            var::JobErrors => out.int(v.errors as i32),
            var::JobFiles => out.int(v.files as i32),
            var::SDJobFiles => out.int(v.sd_files as i32),
            var::SDErrors => out.int(v.sd_errors as i32),
            var::FDJobStatus => out.int(v.fd_status as i32),
            var::SDJobStatus => out.int(v.sd_status as i32),
            var::LastRate => out.int(v.last_rate),
            var::JobBytes => out.u64(v.bytes),
            var::ReadBytes => out.u64(v.read_bytes),
            // Unknown: nothing written, bRC_OK (as the director).
            _ => {}
        }
        rc
    })
}

unsafe extern "C" fn sd_get_value(ctx: Ctx, variable: c_int, value: *mut c_void) -> bRC {
    use sd::abi::var;
    guard(bRC_Error, || {
        if value.is_null() {
            return bRC_Error;
        }
        let out = Out(value);
        if variable == var::PluginDir {
            out.ptr(daemon().plugin_dir.as_ptr());
            return bRC_OK;
        }
        let Some(inst) = lookup(ctx) else {
            return bRC_Error;
        };
        let d = &inst.job.desc;
        let v = inst.job.vars();
        // Pool, pool type, storage, media type and volume come from the
        // job's device record: bRC_Error (nothing written) without one.
        let with_dcr = |s: *const c_char| {
            if v.dcr_volume.is_some() {
                out.ptr(s);
                bRC_OK
            } else {
                bRC_Error
            }
        };
        match variable {
            var::Job => out.ptr(d.job.as_ptr()),
            var::Level => out.int(v.level as i32),
            var::Type => out.int(d.job_type as i32),
            var::JobId => out.int(d.jobid as i32),
            var::Client => out.ptr(d.client.as_ptr()),
            var::Pool => return with_dcr(d.pool.as_ptr()),
            var::PoolType => return with_dcr(d.pool_type.as_ptr()),
            var::Storage => return with_dcr(d.storage.as_ptr()),
            var::MediaType => return with_dcr(d.media_type.as_ptr()),
            var::VolumeName => {
                let p = v.dcr_volume.as_ref().map(|s| s.as_ptr());
                return with_dcr(p.unwrap_or(std::ptr::null()));
            }
            var::JobName => out.ptr(d.job_name.as_ptr()),
            var::JobStatus => out.int(v.status as i32),
            var::JobErrors => out.int(v.errors as i32),
            var::JobFiles => out.int(v.files as i32),
            var::JobBytes => out.u64(v.bytes),
            _ => {}
        }
        bRC_OK
    })
}

/// setBareosValue of both daemons (same numbers, §2.5/§3.5): VolumeName
/// (char*), Priority and JobLevel (int*) are stored in the job and
/// printed; JobReport and unknown variables are accepted and ignored.
unsafe extern "C" fn set_value(ctx: Ctx, variable: c_int, value: *mut c_void) -> bRC {
    use dir::abi::wvar;
    guard(bRC_Error, || {
        let Some(inst) = lookup(ctx) else {
            return bRC_Error;
        };
        if value.is_null() {
            return bRC_Error;
        }
        let what = {
            let mut v = inst.job.vars();
            let what = match variable {
                wvar::VolumeName => {
                    // SAFETY: a C string per the ABI, checked non-NULL.
                    let s = unsafe { CStr::from_ptr(value.cast()) }.to_owned();
                    let shown = format!("VolumeName=\"{}\"", s.to_string_lossy());
                    v.volume = s;
                    shown
                }
                wvar::Priority => {
                    // SAFETY: an `int*` per the ABI.
                    v.priority = unsafe { value.cast::<c_int>().read_unaligned() };
                    format!("Priority={}", v.priority)
                }
                wvar::JobLevel => {
                    // SAFETY: an `int*` per the ABI.
                    let l = unsafe { value.cast::<c_int>().read_unaligned() };
                    v.level = l as u8;
                    format!("JobLevel={}", l as u8 as char)
                }
                wvar::JobReport => "JobReport (ignored)".to_string(),
                n => format!("variable {n} (unknown, ignored)"),
            };
            v.set_values.push(what.clone());
            what
        };
        out_line(
            &format!("{} JobId {}: ", daemon().kind.name(), inst.job.desc.jobid),
            &format!("[core] SetValue by {} instance: {what}\n", inst.plugin_file),
        );
        bRC_OK
    })
}

// ---- the storage daemon's device helpers (stubs) --------------------------

fn helper_called(name: &str) {
    let job = CURRENT_JOB
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .clone();
    let text =
        format!("sdhost has no devices: core function {name} is not available; job aborted\n");
    match job {
        Some(j) => j.jmsg(msg::FATAL, &text),
        None => daemon_msg(msg::ERROR, &text),
    }
}

unsafe extern "C" fn edit_device_codes(
    _dcr: *mut c_void,
    _omsg: *mut *mut c_char,
    _imsg: *const c_char,
    _cmd: *const c_char,
) -> *mut c_char {
    guard(std::ptr::null_mut(), || {
        helper_called("EditDeviceCodes");
        std::ptr::null_mut()
    })
}

unsafe extern "C" fn lookup_crypto_key(_volume: *const c_char) -> *mut c_char {
    guard(std::ptr::null_mut(), || {
        helper_called("LookupCryptoKey");
        std::ptr::null_mut()
    })
}

unsafe extern "C" fn update_volume_info(_dcr: *mut c_void) -> bool {
    guard(false, || {
        helper_called("UpdateVolumeInfo");
        false
    })
}

unsafe extern "C" fn update_tape_alert(_dcr: *mut c_void, _flags: u64) {
    guard((), || helper_called("UpdateTapeAlert"))
}

unsafe extern "C" fn new_record(_with_data: bool) -> *mut c_void {
    guard(std::ptr::null_mut(), || {
        helper_called("new_record");
        std::ptr::null_mut()
    })
}

unsafe extern "C" fn copy_record_state(_dst: *mut c_void, _src: *mut c_void) {
    guard((), || helper_called("CopyRecordState"))
}

unsafe extern "C" fn free_record(_rec: *mut c_void) {
    guard((), || helper_called("FreeRecord"))
}

/// The storage daemon's CoreFunctions: the shared part plus the device
/// helpers (dir-sd-api §3.1).
#[repr(C)]
#[allow(non_snake_case)]
pub struct SdCoreFunctions {
    pub common: CoreFunctions,
    pub EditDeviceCodes: Option<
        unsafe extern "C" fn(
            *mut c_void,
            *mut *mut c_char,
            *const c_char,
            *const c_char,
        ) -> *mut c_char,
    >,
    pub LookupCryptoKey: Option<unsafe extern "C" fn(*const c_char) -> *mut c_char>,
    pub UpdateVolumeInfo: Option<unsafe extern "C" fn(*mut c_void) -> bool>,
    pub UpdateTapeAlert: Option<unsafe extern "C" fn(*mut c_void, u64)>,
    pub new_record: Option<unsafe extern "C" fn(bool) -> *mut c_void>,
    pub CopyRecordState: Option<unsafe extern "C" fn(*mut c_void, *mut c_void)>,
    pub FreeRecord: Option<unsafe extern "C" fn(*mut c_void)>,
}

/// The tables handed to `loadPlugin`, in writable memory (the ABI passes
/// non-const pointers; a plugin scribbling on them must not fault).
pub struct CoreTables {
    pub dir_api: std::cell::UnsafeCell<PluginApiDefinition>,
    pub dir_funcs: std::cell::UnsafeCell<CoreFunctions>,
    pub sd_api: std::cell::UnsafeCell<PluginApiDefinition>,
    pub sd_funcs: std::cell::UnsafeCell<SdCoreFunctions>,
}

// SAFETY: v4host never writes the tables; plugins only read them.
unsafe impl Sync for CoreTables {}

const fn common(
    size: usize,
    get: unsafe extern "C" fn(Ctx, c_int, *mut c_void) -> bRC,
) -> CoreFunctions {
    CoreFunctions {
        size: size as u32,
        version: 4,
        registerBareosEvents: Some(v4host_registerBareosEvents),
        unregisterBareosEvents: Some(v4host_unregisterBareosEvents),
        getInstanceCount: Some(get_instance_count),
        getBareosValue: Some(get),
        setBareosValue: Some(set_value),
        JobMessage: Some(v4host_JobMessage),
        DebugMessage: Some(v4host_DebugMessage),
    }
}

/// `PluginApiDefinition.size` is not 8 in either daemon (§1.3): the
/// director passes sizeof(CoreFunctions) = 64, the storage daemon
/// sizeof(PluginFunctions) = 48.
pub static CORE_TABLES: CoreTables = CoreTables {
    dir_api: std::cell::UnsafeCell::new(PluginApiDefinition {
        size: 64,
        version: 4,
    }),
    dir_funcs: std::cell::UnsafeCell::new(common(
        std::mem::size_of::<CoreFunctions>(),
        dir_get_value,
    )),
    sd_api: std::cell::UnsafeCell::new(PluginApiDefinition {
        size: 48,
        version: 4,
    }),
    sd_funcs: std::cell::UnsafeCell::new(SdCoreFunctions {
        common: common(std::mem::size_of::<SdCoreFunctions>(), sd_get_value),
        EditDeviceCodes: Some(edit_device_codes),
        LookupCryptoKey: Some(lookup_crypto_key),
        UpdateVolumeInfo: Some(update_volume_info),
        UpdateTapeAlert: Some(update_tape_alert),
        new_record: Some(new_record),
        CopyRecordState: Some(copy_record_state),
        FreeRecord: Some(free_record),
    }),
};

/// (api, core table) for `loadPlugin` of this daemon.
pub fn tables(kind: Kind) -> (*mut PluginApiDefinition, *mut c_void) {
    match kind {
        Kind::Dir => (
            CORE_TABLES.dir_api.get(),
            CORE_TABLES.dir_funcs.get().cast(),
        ),
        Kind::Sd => (CORE_TABLES.sd_api.get(), CORE_TABLES.sd_funcs.get().cast()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::mem::{offset_of, size_of};

    #[test]
    fn tables_have_the_daemons_sizes() {
        assert_eq!(size_of::<CoreFunctions>(), 64);
        assert_eq!(size_of::<SdCoreFunctions>(), 120);
        assert_eq!(offset_of!(SdCoreFunctions, EditDeviceCodes), 64);
        assert_eq!(offset_of!(SdCoreFunctions, FreeRecord), 112);
    }

    #[test]
    fn status_priority() {
        let mut v = JobState::new(JobDesc {
            jobid: 1,
            job: c"j".into(),
            job_name: c"j.1".into(),
            job_type: b'B',
            level: b'F',
            status: b'C',
            client: c"c".into(),
            pool: c"p".into(),
            pool_type: c"Backup".into(),
            storage: c"s".into(),
            catalog: c"c".into(),
            media_type: c"File".into(),
            volume: c"v".into(),
            priority: 10,
            files: 0,
            bytes: 0,
            num_vols: 0,
        });
        let v = v.vars.get_mut().unwrap();
        v.set_status(b'R');
        assert_eq!(v.status, b'R');
        v.set_status(b'f');
        v.set_status(b'T');
        assert_eq!(v.status, b'f');
    }

    #[test]
    fn event_names() {
        assert_eq!(Kind::Dir.event_name(11), "bDirEventNewPluginOptions");
        assert_eq!(Kind::Sd.event_name(22), "bSdEventNewPluginOptions");
        assert_eq!(Kind::Sd.event_name(0), "(unknown event)");
    }
}
