//! One plugin instance (= one job): its runner session and the state the
//! C ABI requires the plugin to keep between calls.
//!
//! The runner is started lazily, at the first event that can make python3-fd
//! load a Python module (a plugin command or a restore object). Until then
//! python3-fd would not run any Python either, so jobs that never use a
//! Python plugin cost nothing and cannot be failed by a broken Python setup.

use std::collections::HashMap;
use std::ffi::{CString, c_char};
use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::sync::Mutex;
use std::time::Duration;

use sidecar_proto::{self as pb, call, call_result, event};

use crate::abi::{self, bRC, bRC_Error, bRC_OK, bRC_Term, event as ev, msg};
use crate::backend::{self, Backend};
use crate::cancel::Canceller;
use crate::config::{Config, Deadlines};
use crate::core::Core;
use crate::limits;
use crate::packets;
use crate::session::{Failure, Session};

/// The events the shim registers in newPlugin: python3-fd's (python-api
/// §5.1) and the cancel, which bareos-fd only delivers to plugins that
/// registered it: the shim must learn of every cancel to release the job
/// thread, whether or not the Python plugin wants to see it.
const REGISTERED_EVENTS: [u32; 10] = [
    ev::CancelCommand,
    ev::Level,
    ev::Since,
    ev::NewPluginOptions,
    ev::PluginCommand,
    ev::JobStart,
    ev::RestoreCommand,
    ev::EstimateCommand,
    ev::BackupCommand,
    ev::RestoreObject,
];

pub struct Instance {
    number: u32,
    api_version: u32,
    state: Mutex<State>,
    /// Reaches the runner without the job thread's lock: the cancel event
    /// arrives on another daemon thread while the job thread may be inside
    /// a call.
    cancel: Mutex<Option<Canceller>>,
}

struct State {
    runner: Runner,
    /// Level/Since events that arrived before the runner; replayed to it.
    replay: Vec<pb::Event>,
    /// Descriptors handed to the core for "I/O in core": our copy, keyed by
    /// its number, and the runner's number for the same open file.
    fds: HashMap<RawFd, (OwnedFd, i32)>,
    /// Strings and object data the last save_pkt points to; they must stay
    /// valid until the next startBackupFile (ABI §8.2).
    saved: Vec<CString>,
    saved_object: Vec<u8>,
    /// The call deadlines of the running runner's configuration.
    deadlines: Deadlines,
    /// The file the job is at (startBackupFile's answer, IO_OPEN's and
    /// createFile's names), so a failure message can name it.
    file: Option<String>,
}

enum Runner {
    NotStarted,
    Running(Box<dyn Backend>),
    /// Failed or refused; the job has its fatal message already.
    Gone,
}

/// Which deadline applies to a call.
#[derive(Clone, Copy)]
enum Kind {
    Event,
    File,
    Io,
    Shutdown,
}

impl Instance {
    /// newPlugin: register python3-fd's events; the runner comes later.
    pub fn new(core: &Core, number: u32, api_version: u32) -> Result<Instance, ()> {
        if core.register_events(&REGISTERED_EVENTS) != bRC_OK {
            return Err(());
        }
        Ok(Instance {
            number,
            api_version,
            state: Mutex::new(State {
                runner: Runner::NotStarted,
                replay: Vec::new(),
                fds: HashMap::new(),
                saved: Vec::new(),
                saved_object: Vec::new(),
                deadlines: Deadlines::default(),
                file: None,
            }),
            cancel: Mutex::new(None),
        })
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// handlePluginEvent.
    ///
    /// # Safety
    /// `value` is the event's value as the core passes it (ABI §7.1).
    pub unsafe fn handle_event(
        &self,
        core: &mut Core,
        event_type: u32,
        value: *mut std::ffi::c_void,
    ) -> bRC {
        if event_type == ev::CancelCommand {
            return self.cancel(core);
        }
        let value_msg = match event_type {
            ev::Level | ev::Since => Some(event::Value::Number(packets::event_number(value))),
            ev::JobStart
            | ev::BackupCommand
            | ev::RestoreCommand
            | ev::EstimateCommand
            | ev::PluginCommand
            | ev::NewPluginOptions => {
                // SAFETY: these events carry a C string (or NULL).
                unsafe { packets::bytes_of(value as *const c_char) }.map(event::Value::Text)
            }
            // SAFETY: a restore_object_pkt or NULL.
            ev::RestoreObject => {
                unsafe { (value as *const abi::restore_object_pkt).as_ref() }.map(|rop| {
                    event::Value::RestoreObject(unsafe { packets::restore_object_to_proto(rop) })
                })
            }
            // SAFETY: a save_pkt.
            ev::HandleBackupFile => unsafe { (value as *const abi::save_pkt).as_ref() }
                .map(|sp| event::Value::Save(unsafe { packets::save_pkt_to_proto(sp) })),
            _ => None,
        };
        let event = pb::Event {
            event_type,
            value: value_msg,
        };
        let mut state = self.state();
        let loads_module = matches!(
            event_type,
            ev::BackupCommand
                | ev::RestoreCommand
                | ev::EstimateCommand
                | ev::PluginCommand
                | ev::NewPluginOptions
        ) || (event_type == ev::RestoreObject && event.value.is_some());
        if matches!(state.runner, Runner::NotStarted) && !loads_module {
            // No module can be loaded yet, so python3-fd would answer OK
            // without Python; remember what the runner must know later.
            if matches!(event_type, ev::Level | ev::Since) {
                state.replay.push(event);
            }
            return bRC_OK;
        }
        if event_type == ev::RestoreObject && event.value.is_none() {
            return bRC_OK; // python3-fd never shows the final NULL object to Python
        }
        let Some(result) = self.call(
            &mut state,
            core,
            call::Kind::HandlePluginEvent(event),
            Kind::Event,
            "handle_plugin_event",
        ) else {
            return bRC_Error;
        };
        if event_type == ev::HandleBackupFile
            && let (Some(call_result::Payload::Save(back)), false) =
                (&result.payload, value.is_null())
        {
            // SAFETY: checked non-NULL above; the core's save_pkt.
            let sp = unsafe { &mut *(value as *mut abi::save_pkt) };
            sp.no_read = back.no_read;
            sp.delta_seq = back.delta_seq;
            sp.save_time = back.save_time;
            packets::copy_flags(&mut sp.flags, &back.flags);
        }
        if result.rc == bRC_Term {
            // bRC_Term makes the core unload the plugin daemon-wide while
            // other jobs still use it (decision D5).
            core.shim_message(msg::WARNING, "handle_plugin_event returned bRC_Term (4), which would unload the plugin for the whole daemon; treated as bRC_OK");
            return bRC_OK;
        }
        result.rc
    }

    /// bEventCancelCommand, on a daemon thread other than the job's (see
    /// `cancel`): the plugin's handler runs now, its core functions on this
    /// thread; then the call in flight gets `cancel::CANCEL_GRACE`.
    fn cancel(&self, core: &mut Core) -> bRC {
        // A clone, so the job thread can end the session meanwhile.
        let canceller = self
            .cancel
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        let Some(canceller) = canceller else {
            return bRC_OK; // no runner: nothing runs that could be cancelled
        };
        match canceller.cancel(core) {
            Ok(Some(rc)) if rc == bRC_Term => bRC_OK, // decision D5
            Ok(Some(rc)) => rc,
            Ok(None) => bRC_OK,
            Err(failure) => {
                core.shim_message(msg::WARNING, &format!("cancel: {failure}"));
                bRC_OK
            }
        }
    }

    /// startBackupFile.
    pub fn start_backup_file(&self, core: &mut Core, sp: &mut abi::save_pkt) -> bRC {
        // SAFETY: cmd is NULL or the core's command string.
        let cmd = unsafe { packets::bytes_of(sp.cmd) }.unwrap_or_default();
        let req = pb::BackupRequest {
            cmd,
            flags: sp.flags.to_vec(),
        };
        let mut state = self.state();
        state.file = None; // the plugin has yet to name the next one
        let Some(result) = self.call(
            &mut state,
            core,
            call::Kind::StartBackupFile(req),
            Kind::File,
            "start_backup_file",
        ) else {
            return bRC_Error;
        };
        if let Some(call_result::Payload::Save(back)) = result.payload {
            state.file = back
                .fname
                .as_deref()
                .map(|f| String::from_utf8_lossy(f).into_owned());
            state.saved.clear();
            let mut keep = |b: Option<Vec<u8>>| -> *mut c_char {
                b.map_or(std::ptr::null_mut(), |b| {
                    let s = packets::c_string(&b);
                    let p = s.as_ptr() as *mut c_char;
                    state.saved.push(s);
                    p
                })
            };
            sp.fname = keep(back.fname);
            sp.link = keep(back.link);
            sp.object_name = keep(back.object_name);
            if let Some(st) = &back.statp {
                sp.statp = packets::stat_from_proto(st);
            }
            sp.type_ = back.r#type;
            packets::copy_flags(&mut sp.flags, &back.flags);
            sp.no_read = back.no_read;
            sp.accurate_found = back.accurate_found;
            sp.save_time = back.save_time;
            sp.delta_seq = back.delta_seq;
            state.saved_object = back.object.unwrap_or_default();
            sp.object = if state.saved_object.is_empty() {
                std::ptr::null_mut()
            } else {
                state.saved_object.as_mut_ptr().cast()
            };
            sp.object_len = back.object_len.clamp(0, state.saved_object.len() as i32);
            sp.index = back.index;
        }
        result.rc
    }

    /// Calls without a packet to convert: endBackupFile, startRestoreFile, ...
    pub fn simple(&self, core: &mut Core, kind: call::Kind, name: &'static str) -> bRC {
        let mut state = self.state();
        self.call(&mut state, core, kind, Kind::File, name)
            .map_or(bRC_Error, |r| r.rc)
    }

    /// checkFile: without a runner no module is loaded, and python3-fd then
    /// answers bRC_OK without Python.
    pub fn check_file(&self, core: &mut Core, fname: Vec<u8>) -> bRC {
        let mut state = self.state();
        if !matches!(state.runner, Runner::Running(_)) {
            return bRC_OK;
        }
        self.call(
            &mut state,
            core,
            call::Kind::CheckFile(fname),
            Kind::File,
            "check_file",
        )
        .map_or(bRC_Error, |r| r.rc)
    }

    /// pluginIO, translating descriptor numbers between core and runner.
    pub fn plugin_io(&self, core: &mut Core, io: &mut abi::io_pkt) -> bRC {
        let has_filedes = packets::io_pkt_has_filedes(io);
        // SAFETY: the core's packet; for IO_WRITE buf holds count bytes.
        let mut req = unsafe { packets::io_request(io) };
        let mut state = self.state();
        if let (abi::io::OPEN, Some(f)) = (io.func, &req.fname) {
            state.file = Some(String::from_utf8_lossy(f).into_owned());
        }
        let core_fd = if has_filedes { io.filedes } else { -1 };
        req.filedes = state
            .fds
            .get(&core_fd)
            .map_or(core_fd, |(_, theirs)| *theirs);
        let func = io.func;
        // SAFETY: the core's buffer holds `count` bytes and is the plugin's
        // for the duration of this call; `buf` is dropped before it ends.
        let buf = unsafe { packets::io_buffer(io) };
        let result = self.run(&mut state, core, Kind::Io, "plugin_io", |b, d, core| {
            b.plugin_io(req, buf, d, core)
        });
        if func == abi::io::CLOSE {
            // The core never closes a descriptor it got from a plugin (D10).
            state.fds.remove(&core_fd);
        }
        let Some((result, placed)) = result else {
            io.status = -1;
            io.io_errno = libc::EIO;
            return bRC_Error;
        };
        let Some(call_result::Payload::Io(back)) = result.payload else {
            io.status = -1;
            return result.rc;
        };
        io.status = back.status;
        io.io_errno = back.io_errno;
        io.lerror = back.lerror;
        io.win32 = back.win32;
        if func == abi::io::READ && back.status > 0 {
            // Never claim more than was placed in the core's buffer (at most
            // `count`), whatever the runner says.
            io.status = (back.status as usize).min(placed) as i32;
        }
        if has_filedes {
            io.filedes = match self.adopt_fd(&mut state, core, back.fd_token, back.filedes) {
                Ok(fd) => fd,
                Err(()) => {
                    io.status = -1;
                    return bRC_Error;
                }
            };
        }
        result.rc
    }

    /// createFile.
    pub fn create_file(&self, core: &mut Core, rp: &mut abi::restore_pkt) -> bRC {
        // SAFETY: the core's packet, valid for this call.
        let req = unsafe { packets::restore_pkt_to_proto(rp) };
        let mut state = self.state();
        state.file = req
            .ofname
            .as_deref()
            .map(|f| String::from_utf8_lossy(f).into_owned());
        let Some(result) = self.call(
            &mut state,
            core,
            call::Kind::CreateFile(req),
            Kind::File,
            "create_file",
        ) else {
            return bRC_Error;
        };
        if let Some(call_result::Payload::Create(back)) = result.payload {
            rp.create_status = back.create_status;
            if packets::restore_pkt_has_filedes(rp) {
                match self.adopt_fd(&mut state, core, back.fd_token, back.filedes) {
                    Ok(fd) => rp.filedes = fd,
                    Err(()) => return bRC_Error,
                }
            }
        }
        result.rc
    }

    /// setFileAttributes: python3-fd copies nothing back.
    pub fn set_file_attributes(&self, core: &mut Core, rp: &abi::restore_pkt) -> bRC {
        // SAFETY: the core's packet, valid for this call.
        let req = unsafe { packets::restore_pkt_to_proto(rp) };
        self.simple(
            core,
            call::Kind::SetFileAttributes(req),
            "set_file_attributes",
        )
    }

    /// getAcl: the core frees the content with free() (ABI §8.3).
    pub fn get_acl(&self, core: &mut Core, ap: &mut abi::acl_pkt) -> bRC {
        // SAFETY: fname is NULL or a C string.
        let fname = unsafe { packets::bytes_of(ap.fname) }.unwrap_or_default();
        let mut state = self.state();
        let Some(result) = self.call(
            &mut state,
            core,
            call::Kind::GetAcl(pb::AclPacket {
                fname,
                content: None,
            }),
            Kind::File,
            "get_acl",
        ) else {
            return bRC_Error;
        };
        if let Some(call_result::Payload::Acl(back)) = result.payload
            && let Some(content) = back.content.filter(|c| !c.is_empty())
        {
            ap.content = packets::malloc_copy(&content);
            ap.content_length = if ap.content.is_null() {
                0
            } else {
                content.len() as u32
            };
        }
        result.rc
    }

    /// setAcl: the content is borrowed.
    pub fn set_acl(&self, core: &mut Core, ap: &abi::acl_pkt) -> bRC {
        // SAFETY: fname is NULL or a C string; content holds content_length bytes.
        let (fname, content) = unsafe {
            let fname = packets::bytes_of(ap.fname).unwrap_or_default();
            let content = (!ap.content.is_null()).then(|| {
                std::slice::from_raw_parts(ap.content.cast::<u8>(), ap.content_length as usize)
                    .to_vec()
            });
            (fname, content)
        };
        self.simple(
            core,
            call::Kind::SetAcl(pb::AclPacket { fname, content }),
            "set_acl",
        )
    }

    /// getXattr: the core frees name and value with free() (ABI §8.4).
    pub fn get_xattr(&self, core: &mut Core, xp: &mut abi::xattr_pkt) -> bRC {
        // SAFETY: fname is NULL or a C string.
        let fname = unsafe { packets::bytes_of(xp.fname) }.unwrap_or_default();
        let req = pb::XattrPacket {
            fname,
            name: None,
            value: None,
        };
        let mut state = self.state();
        let Some(result) = self.call(
            &mut state,
            core,
            call::Kind::GetXattr(req),
            Kind::File,
            "get_xattr",
        ) else {
            return bRC_Error;
        };
        if let Some(call_result::Payload::Xattr(back)) = result.payload
            && let Some(name) = back.name.filter(|n| !n.is_empty())
        {
            xp.name = packets::malloc_copy(&name);
            xp.name_length = name.len() as u32;
            let value = back.value.unwrap_or_default();
            if !value.is_empty() {
                xp.value = packets::malloc_copy(&value);
                xp.value_length = value.len() as u32;
            }
        }
        result.rc
    }

    /// setXattr: name and value are borrowed.
    pub fn set_xattr(&self, core: &mut Core, xp: &abi::xattr_pkt) -> bRC {
        // SAFETY: name/value hold name_length/value_length bytes when non-NULL.
        let (fname, name, value) = unsafe {
            let slice = |p: *mut c_char, n: u32| {
                (!p.is_null())
                    .then(|| std::slice::from_raw_parts(p.cast::<u8>(), n as usize).to_vec())
            };
            (
                packets::bytes_of(xp.fname).unwrap_or_default(),
                slice(xp.name, xp.name_length),
                slice(xp.value, xp.value_length),
            )
        };
        self.simple(
            core,
            call::Kind::SetXattr(pb::XattrPacket { fname, name, value }),
            "set_xattr",
        )
    }

    /// freePlugin: let the plugin finish, end the runner, release everything.
    pub fn free(self, core: &mut Core) {
        let mut state = self.state();
        if matches!(state.runner, Runner::Running(_)) {
            self.call(
                &mut state,
                core,
                call::Kind::FreePlugin(pb::Empty {}),
                Kind::Shutdown,
                "free_plugin",
            );
        }
        *self.cancel.lock().unwrap_or_else(|e| e.into_inner()) = None;
        if let Runner::Running(session) = std::mem::replace(&mut state.runner, Runner::Gone) {
            let pid = session.pid();
            if let Some(complaint) = session.close(core) {
                core.shim_message(
                    msg::WARNING,
                    &format!("the runner (pid {pid}) {complaint} at the end of the job"),
                );
            }
        }
        state.fds.clear();
    }

    /// Takes the descriptor the runner sent for `token` and returns the
    /// number the core should use. Without a descriptor the answer is -1:
    /// a number from the runner's descriptor table means nothing here, and
    /// the core must never read or write one of the daemon's own
    /// descriptors because a plugin named it.
    fn adopt_fd(
        &self,
        state: &mut State,
        core: &mut Core,
        token: u64,
        filedes: i32,
    ) -> Result<i32, ()> {
        if token == 0 {
            return Ok(-1);
        }
        let Runner::Running(session) = &state.runner else {
            return Err(());
        };
        match session.receive_fd(token) {
            Ok(fd) => {
                let ours = fd.as_raw_fd();
                state.fds.insert(ours, (fd, filedes));
                Ok(ours)
            }
            Err(failure) => {
                core.shim_message(msg::FATAL, &failure.0);
                Err(())
            }
        }
    }

    /// Makes one call, starting the runner if needed. On any failure the
    /// runner is ended, the job gets a fatal message naming the cause, and
    /// `None` is returned.
    fn call(
        &self,
        state: &mut State,
        core: &mut Core,
        mut kind: call::Kind,
        deadline: Kind,
        name: &str,
    ) -> Option<pb::CallResult> {
        // Limits (limits.rs): the plugin string's sidecar.* options are
        // checked and removed before the runner sees the string; the
        // string that starts the runner decides its limits.
        let command = match limits::strip_call(&mut kind) {
            Ok(c) => c,
            Err(e) => {
                core.shim_message(msg::FATAL, &e);
                if matches!(state.runner, Runner::NotStarted) {
                    state.runner = Runner::Gone;
                }
                return None;
            }
        };
        if matches!(state.runner, Runner::NotStarted) {
            self.start(state, core, command.as_ref());
        }
        self.run(state, core, deadline, name, |b, d, core| {
            b.call(kind, d, core)
        })
    }

    /// Runs `op` on the running backend under the deadline of its kind. On
    /// failure the runner is ended, the job gets a fatal message naming the
    /// cause, and `None` is returned.
    fn run<R>(
        &self,
        state: &mut State,
        core: &mut Core,
        deadline: Kind,
        name: &str,
        op: impl FnOnce(&mut dyn Backend, Duration, &mut Core) -> Result<R, Failure>,
    ) -> Option<R> {
        let Runner::Running(session) = &mut state.runner else {
            return None;
        };
        let d = &state.deadlines;
        let secs = match deadline {
            Kind::Event => d.event,
            Kind::File => d.file,
            Kind::Io => d.io,
            Kind::Shutdown => d.shutdown,
        };
        match op(session.as_mut(), Deadlines::get(secs), core) {
            Ok(result) => Some(result),
            Err(failure) => {
                let Runner::Running(session) = std::mem::replace(&mut state.runner, Runner::Gone)
                else {
                    unreachable!("matched Running above")
                };
                *self.cancel.lock().unwrap_or_else(|e| e.into_inner()) = None;
                let why = session.kill(core);
                let file = state
                    .file
                    .as_deref()
                    .map(|f| format!(" (at file {f})"))
                    .unwrap_or_default();
                core.shim_message(
                    msg::FATAL,
                    &format!("{name} failed{file}: {failure}; {why}"),
                );
                None
            }
        }
    }

    /// Starts the runner and brings it to the state python3-fd would be in.
    /// `command`: the plugin string that starts it (decides its limits).
    fn start(&self, state: &mut State, core: &mut Core, command: Option<&limits::Command>) {
        state.runner = Runner::Gone;
        let config = match Config::load() {
            Ok(c) => c,
            Err(e) => {
                core.shim_message(msg::FATAL, &format!("bad configuration: {e}"));
                return;
            }
        };
        state.deadlines = config.deadlines.clone();
        if let Some(factory) = backend::factory() {
            // In-process hosting (the benchmark's python3-fd stand-in).
            match factory(&config.plugin_dir) {
                Ok(b) => {
                    *self.cancel.lock().unwrap_or_else(|e| e.into_inner()) = b.canceller();
                    state.runner = Runner::Running(b);
                }
                Err(failure) => {
                    core.shim_message(msg::FATAL, &failure.0);
                    return;
                }
            }
            self.bring_up(state, core);
            return;
        }
        // Limits and sandbox (limits.rs), resolved before the fork.
        let launch =
            match limits::prepare(&config.limits, command, &config.runner, &config.plugin_dir) {
                Ok(l) => l,
                Err(e) => {
                    core.shim_message(
                        msg::FATAL,
                        &format!("cannot apply the runner's limits: {e}"),
                    );
                    return;
                }
            };
        for warning in &launch.warnings {
            core.shim_message(msg::WARNING, warning);
        }
        let limits_summary = launch.limits.summary();
        let started = std::time::Instant::now();
        let session = match Session::start(&config, launch, "fd", self.api_version, self.number) {
            Ok(s) => s,
            Err(failure) => {
                core.shim_message(msg::FATAL, &failure.0);
                return;
            }
        };
        core.debug_message(
            10,
            format!(
                "python3-fd (sidecar): runner pid {} started (daemon pid {}), {}, config {}, handshake after {:.1} ms\n",
                session.pid(),
                std::process::id(),
                config.runner.display(),
                config.source.as_ref().map_or("defaults".into(), |p| p.display().to_string()),
                started.elapsed().as_secs_f64() * 1000.0
            )
            .as_bytes(),
        );
        core.debug_message(
            50,
            format!(
                "python3-fd (sidecar): runner limits: {limits_summary}; plugin string for the runner: {}\n",
                command.map_or_else(String::new, |c| limits::redact(&c.stripped))
            )
            .as_bytes(),
        );
        // Which Python runs the plugin is the first thing to know when an
        // import fails, so it is in every job log, not only at debug level.
        core.shim_message(
            msg::INFO,
            &format!(
                "plugin runs out of process in sidecar-runner pid {} with Python {}",
                session.pid(),
                session.python_version()
            ),
        );
        *self.cancel.lock().unwrap_or_else(|e| e.into_inner()) = Some(session.canceller());
        state.runner = Runner::Running(Box::new(session));
        self.bring_up(state, core);
    }

    /// newPlugin and the replayed Level/Since events for a fresh runner.
    fn bring_up(&self, state: &mut State, core: &mut Core) {
        if self
            .call(
                state,
                core,
                call::Kind::NewPlugin(pb::Empty {}),
                Kind::Event,
                "new_plugin",
            )
            .is_none()
        {
            return;
        }
        for event in std::mem::take(&mut state.replay) {
            if self
                .call(
                    state,
                    core,
                    call::Kind::HandlePluginEvent(event),
                    Kind::Event,
                    "handle_plugin_event",
                )
                .is_none()
            {
                return;
            }
        }
    }
}
