//! python3-fd's semantics on the runner side: which Python entry point each
//! plugin call becomes (python-api §5, §6), module loading (§4), and how
//! results and packets travel back.
//!
//! Runs on the main thread with the GIL held; one plugin instance per
//! process, so the module lives in the main interpreter (no
//! sub-interpreters, so C extensions work).

use std::os::fd::BorrowedFd;
use std::sync::{Mutex, OnceLock};

use pyo3::prelude::*;
use sidecar_proto::events::fd as ev;
use sidecar_proto::{self as pb, call, call_result, callback, event};

use crate::bareosfd::constants::{
    BRC_ERROR, BRC_OK, BRC_SEEN, BRC_SKIP, FT_DIRBEGIN, FT_DIRNOCHG, FT_NOCHG, IO_OPEN,
    IOSTAT_DO_IN_CORE, M_ERROR, M_FATAL,
};
use crate::definition::{Definition, Parsed};
use crate::hosting::{self, FD, Loader, entry_point, return_code};
use crate::{bareosfd, core, stdio};

pub use crate::hosting::{set_default_module_dir, set_private_modules};

/// The loaded module, for the one call that does not run on the main
/// thread: the cancel event (set once, when the module is loaded).
static LOADED: OnceLock<Py<PyModule>> = OnceLock::new();

/// Held while the plugin's cancel handler runs: freePlugin waits for it,
/// so what the handler logs reaches the job and the process does not end
/// under it.
static CANCEL_HANDLER: Mutex<()> = Mutex::new(());

/// Runs the plugin's bEventCancelCommand handler on the calling thread, as
/// python3-fd does on bareos-fd's director thread (fd-call-sequences §11,
/// python-api §2.6): concurrently with whatever the main thread is running
/// in Python (they interleave under the GIL). Only if a module is loaded
/// and the plugin registered the event; `None` otherwise.
pub fn run_cancel_handler() -> Option<i32> {
    if LOADED.get().is_none() || !bareosfd::state::registered(ev::CancelCommand) {
        tracing::info!("cancel: the plugin did not register bEventCancelCommand");
        return None;
    }
    let _running = CANCEL_HANDLER.lock().unwrap_or_else(|e| e.into_inner());
    Python::with_gil(|py| {
        let module = LOADED.get()?;
        let f = entry_point(module.bind(py), "handle_plugin_event")?;
        let rc = match f.call1((ev::CancelCommand,)) {
            Ok(r) => return_code(&FD, "handle_plugin_event", &r),
            Err(e) => report(py, &e),
        };
        tracing::info!(rc, "cancel delivered to the plugin");
        stdio::flush(py);
        Some(rc)
    })
}

type Outcome = (i32, Option<call_result::Payload>);

/// What python3-fd's `Py_EndInterpreter` at freePlugin does before the
/// modules go (python-api §2.4; `hosting::end_interpreter`), after a cancel
/// handler still running has finished.
fn end_interpreter(py: Python<'_>) {
    py.allow_threads(|| drop(CANCEL_HANDLER.lock()));
    hosting::end_interpreter(py, &FD);
}

pub struct Plugin {
    definition: Definition,
    loader: Loader,
}

impl Plugin {
    pub fn new(py: Python<'_>) -> Plugin {
        hosting::capture_stdio(py);
        Plugin {
            definition: Definition::default(),
            loader: Loader::default(),
        }
    }

    /// Executes one plugin call; returns the bRC and what goes back into the
    /// core's packet.
    pub fn dispatch(&mut self, py: Python<'_>, kind: call::Kind) -> Outcome {
        let outcome = match kind {
            call::Kind::NewPlugin(_) => (BRC_OK, None),
            call::Kind::FreePlugin(_) => {
                // Hosted in the daemon, the interpreter is everybody's:
                // other jobs' threads and handlers are not this job's to end.
                if !core::direct() {
                    end_interpreter(py);
                }
                (BRC_OK, None)
            }
            call::Kind::HandlePluginEvent(e) => self.event(py, e),
            call::Kind::StartBackupFile(req) => self.start_backup_file(py, &req),
            call::Kind::EndBackupFile(_) => (self.call(py, "end_backup_file", ()), None),
            call::Kind::StartRestoreFile(cmd) => match text(&cmd, "the restore command") {
                Ok(cmd) => (self.call(py, "start_restore_file", (cmd,)), None),
                Err(rc) => (rc, None),
            },
            call::Kind::EndRestoreFile(_) => (self.call(py, "end_restore_file", ()), None),
            call::Kind::PluginIo(req) => self.plugin_io(py, &req),
            call::Kind::CreateFile(rp) => self.create_file(py, &rp),
            call::Kind::SetFileAttributes(rp) => {
                let rc = match bareosfd::restore_packet_from_proto(py, &rp) {
                    Ok(pkt) => self.call(py, "set_file_attributes", (pkt,)),
                    Err(e) => report(py, &e),
                };
                (rc, None)
            }
            call::Kind::CheckFile(fname) => {
                // Without a module python3-fd answers OK (the file is kept).
                if !self.loader.loaded() {
                    (BRC_OK, None)
                } else {
                    match text(&fname, "the file name") {
                        Ok(f) => (self.call(py, "check_file", (f,)), None),
                        Err(rc) => (rc, None),
                    }
                }
            }
            call::Kind::GetAcl(ap) => self.get_acl(py, &ap),
            call::Kind::SetAcl(ap) => {
                let rc = match bareosfd::acl_packet(py, &ap) {
                    Ok(pkt) => self.call(py, "set_acl", (pkt,)),
                    Err(e) => report(py, &e),
                };
                (rc, None)
            }
            call::Kind::GetXattr(xp) => self.get_xattr(py, &xp),
            call::Kind::SetXattr(xp) => {
                let rc = match bareosfd::xattr_packet(py, &xp) {
                    Ok(pkt) => self.call(py, "set_xattr", (pkt,)),
                    Err(e) => report(py, &e),
                };
                (rc, None)
            }
        };
        stdio::flush(py);
        outcome
    }

    /// handlePluginEvent (python-api §5.2).
    fn event(&mut self, py: Python<'_>, e: pb::Event) -> Outcome {
        let number = match &e.value {
            Some(event::Value::Number(n)) => Some(*n),
            _ => None,
        };
        match e.event_type {
            ev::Level => {
                bareosfd::state::set_level(number.unwrap_or(0));
                (self.other_event(py, e.event_type), None)
            }
            ev::Since => {
                bareosfd::state::set_since(number.unwrap_or(0));
                (self.other_event(py, e.event_type), None)
            }
            command if sidecar_proto::events::FD_COMMANDS.contains(&command) => {
                let Some(event::Value::Text(cmd)) = e.value else {
                    return (BRC_ERROR, None);
                };
                let cmd = match text(&cmd, "the plugin definition") {
                    Ok(c) => c,
                    Err(rc) => return (rc, None),
                };
                if e.event_type == ev::NewPluginOptions {
                    self.definition.override_opts = None;
                }
                let parsed = self.definition.parse(&cmd, self.loader.loaded());
                if e.event_type == ev::NewPluginOptions {
                    self.definition.override_opts = Some(cmd);
                }
                (self.command(py, parsed), None)
            }
            ev::RestoreObject => {
                let Some(event::Value::RestoreObject(ro)) = e.value else {
                    return (BRC_OK, None);
                };
                let name = String::from_utf8_lossy(ro.plugin_name.as_deref().unwrap_or_default())
                    .into_owned();
                if !self.loader.loaded() && !name.is_empty() {
                    let parsed = self.definition.parse(&name, false);
                    let rc = self.command(py, parsed);
                    if rc != BRC_OK {
                        return (rc, None);
                    }
                }
                let rc = match bareosfd::restore_object(py, &ro) {
                    Ok(rop) => self.call(py, "restore_object_data", (rop,)),
                    Err(e) => report(py, &e),
                };
                (rc, None)
            }
            ev::HandleBackupFile => {
                let Some(event::Value::Save(sp)) = e.value else {
                    return (BRC_ERROR, None);
                };
                let pkt = match bareosfd::save_packet_from_proto(py, &sp) {
                    Ok(p) => p,
                    Err(e) => return (report(py, &e), None),
                };
                let rc = self.call(py, "handle_backup_file", (pkt.clone(),));
                // Copied back whatever the plugin returned (python-api §9.4).
                match bareosfd::save_packet_back_handled(&pkt) {
                    Ok(back) => (rc, Some(call_result::Payload::Save(back))),
                    Err(e) => (report(py, &e), None),
                }
            }
            other => (self.other_event(py, other), None),
        }
    }

    fn other_event(&mut self, py: Python<'_>, number: u32) -> i32 {
        if !self.loader.loaded() {
            return BRC_OK;
        }
        self.call(py, "handle_plugin_event", (number,))
    }

    /// A command event whose definition was parsed: load the module if
    /// needed, then hand the options to the plugin (python-api §4.1).
    fn command(&mut self, py: Python<'_>, parsed: Parsed) -> i32 {
        let opts = match parsed {
            Parsed::Options(o) => o,
            Parsed::Skip => return BRC_SKIP,
            Parsed::Illegal(msg) => {
                let _ = core::job_message(M_FATAL, format!("{msg}\n"));
                return BRC_ERROR;
            }
        };
        if self.loader.loaded() {
            return self.call(py, "parse_plugin_definition", (opts,));
        }
        match self.load(py, &opts) {
            Ok(BRC_OK) => self.call(py, "parse_plugin_definition", (opts,)),
            Ok(rc) => rc,
            Err(rc) => rc,
        }
    }

    /// Imports the module and calls `load_bareos_plugin`; `Ok(rc)` once the
    /// module counts as loaded.
    fn load(&mut self, py: Python<'_>, opts: &str) -> Result<i32, i32> {
        let rc = self.loader.load(
            py,
            &FD,
            self.definition.module_path.as_deref(),
            self.definition.module_name.as_deref(),
            opts,
        )?;
        if let Some(module) = self.loader.module() {
            let _ = LOADED.set(module.clone_ref(py));
        }
        Ok(rc)
    }

    /// Calls an entry point of the loaded module and converts its return
    /// value.
    fn call<'py>(
        &self,
        py: Python<'py>,
        name: &str,
        args: impl pyo3::call::PyCallArgs<'py>,
    ) -> i32 {
        self.loader.call(py, &FD, name, args)
    }

    fn start_backup_file(&mut self, py: Python<'_>, req: &pb::BackupRequest) -> Outcome {
        let pkt = match bareosfd::save_packet_for_backup(py, req) {
            Ok(p) => p,
            Err(e) => return (report(py, &e), None),
        };
        let rc = self.call(py, "start_backup_file", (pkt.clone(),));
        if rc != BRC_OK {
            return (rc, None);
        }
        let mut back = match bareosfd::save_packet_back(&pkt) {
            Ok(b) => b,
            Err(e) => return (report(py, &e), None),
        };
        if let Err(rc) = detect_changes(py, &mut back) {
            return (rc, None);
        }
        (rc, Some(call_result::Payload::Save(back)))
    }

    fn plugin_io(&mut self, py: Python<'_>, req: &pb::IoRequest) -> Outcome {
        let failed = |rc| {
            let io = pb::IoResult {
                status: -1,
                ..Default::default()
            };
            (rc, Some(call_result::Payload::Io(io)))
        };
        if !self.loader.loaded() {
            return failed(BRC_ERROR);
        }
        let pkt = match bareosfd::io_packet_from_request(py, req) {
            Ok(p) => p,
            Err(e) => return failed(report(py, &e)),
        };
        let rc = self.call(py, "plugin_io", (pkt.clone(),));
        let mut back = bareosfd::io_packet_back(&pkt, req.func, req.count);
        if req.func == IO_OPEN && back.status == IOSTAT_DO_IN_CORE && rc != BRC_ERROR {
            match pass_descriptor(back.filedes, "plugin_io(IO_OPEN) with iostat_do_in_core") {
                Ok(token) => back.fd_token = token,
                Err(()) => return failed(BRC_ERROR),
            }
        }
        (rc, Some(call_result::Payload::Io(back)))
    }

    fn create_file(&mut self, py: Python<'_>, rp: &pb::RestorePacket) -> Outcome {
        let pkt = match bareosfd::restore_packet_from_proto(py, rp) {
            Ok(p) => p,
            Err(e) => return (report(py, &e), None),
        };
        let rc = self.call(py, "create_file", (pkt.clone(),));
        // Copied back whatever the plugin returned (python-api §6.4).
        let (create_status, filedes) = bareosfd::restore_packet_back(&pkt);
        let mut back = pb::CreateResult {
            create_status,
            filedes,
            fd_token: 0,
        };
        if filedes >= 0 {
            match pass_descriptor(filedes, "create_file's restorepkt.filedes") {
                Ok(token) => back.fd_token = token,
                Err(()) => back.filedes = -1,
            }
        }
        (rc, Some(call_result::Payload::Create(back)))
    }

    fn get_acl(&mut self, py: Python<'_>, ap: &pb::AclPacket) -> Outcome {
        let pkt = match bareosfd::acl_packet(py, ap) {
            Ok(p) => p,
            Err(e) => return (report(py, &e), None),
        };
        let rc = self.call(py, "get_acl", (pkt.clone(),));
        match bareosfd::acl_packet_back(&pkt) {
            Ok(content) => {
                let back = pb::AclPacket {
                    fname: ap.fname.clone(),
                    content,
                };
                (rc, Some(call_result::Payload::Acl(back)))
            }
            Err(e) => (report(py, &e), None),
        }
    }

    fn get_xattr(&mut self, py: Python<'_>, xp: &pb::XattrPacket) -> Outcome {
        let pkt = match bareosfd::xattr_packet(py, xp) {
            Ok(p) => p,
            Err(e) => return (report(py, &e), None),
        };
        let rc = self.call(py, "get_xattr", (pkt.clone(),));
        let (name, value) = bareosfd::xattr_packet_back(&pkt);
        let back = pb::XattrPacket {
            fname: xp.fname.clone(),
            name,
            value,
        };
        (rc, Some(call_result::Payload::Xattr(back)))
    }
}

/// python3-fd's automatic change detection after `start_backup_file`
/// (python-api §6.5): in Incremental/Differential jobs ask the core whether
/// the file changed and mark unchanged ones so the core skips them.
fn detect_changes(py: Python<'_>, sp: &mut pb::SavePacket) -> Result<(), i32> {
    if !matches!(bareosfd::state::level(), Some(b'I' | b'D')) || !bareosfd::state::check_changes() {
        return Ok(());
    }
    let since = bareosfd::state::since();
    if sp.save_time == 0 && since != 0 {
        sp.save_time = since;
    }
    let request = callback::Kind::CheckChanges(sp.clone());
    match py.allow_threads(|| core::call(request)) {
        Ok(reply) => {
            sp.delta_seq = reply.delta_seq;
            sp.accurate_found = reply.accurate_found;
            if reply.rc == BRC_SEEN {
                sp.r#type = if sp.r#type == FT_DIRBEGIN {
                    FT_DIRNOCHG
                } else {
                    FT_NOCHG
                };
            }
            Ok(())
        }
        Err(e) => {
            let _ = core::job_message(
                M_FATAL,
                format!("python3-fd (sidecar): checkChanges failed: {e}\n"),
            );
            Err(BRC_ERROR)
        }
    }
}

/// Sends a descriptor the plugin opened to the shim; the core gets its own
/// copy. A number that is not an open descriptor is refused: the daemon must
/// never read or write one of its own descriptors by accident.
fn pass_descriptor(fd: i32, what: &str) -> Result<u64, ()> {
    // SAFETY: F_GETFD only queries the flags of a descriptor number.
    if fd < 0 || unsafe { libc::fcntl(fd, libc::F_GETFD) } < 0 {
        let _ = core::job_message(
            M_ERROR,
            format!(
                "python3-fd (sidecar): {what}: filedes {fd} is not an open descriptor of the plugin\n"
            ),
        );
        return Err(());
    }
    // SAFETY: checked open just above; borrowed only for the send.
    let borrowed = unsafe { BorrowedFd::borrow_raw(fd) };
    core::pass_fd(borrowed).map_err(|e| {
        let _ = core::job_message(
            M_ERROR,
            format!("python3-fd (sidecar): cannot hand descriptor {fd} to the daemon: {e}\n"),
        );
    })
}

/// Reports a Python exception the way python3-fd does (python-api §6.2).
fn report(py: Python<'_>, err: &PyErr) -> i32 {
    hosting::report(py, &FD, err)
}

/// Daemon strings are bytes; Python wants strict UTF-8 `str`.
fn text(bytes: &[u8], what: &str) -> Result<String, i32> {
    hosting::text(&FD, bytes, what)
}
