//! The FD's plugin calls on top of the daemon-independent instance: the
//! core's packets become messages, the runner's results go back into the
//! packets, and the strings the core keeps pointing to stay alive.
//!
//! The runner is started lazily, at the first event that can make
//! python3-fd load a Python module (a plugin command or a restore object).
//! Until then python3-fd would not run any Python either, so jobs that
//! never use a Python plugin cost nothing and cannot be failed by a broken
//! Python setup.

use std::ffi::{CString, c_char};
use std::sync::Mutex;

use sidecar_proto::{self as pb, call, call_result, event};

use super::abi::{self, bRC, bRC_Error, bRC_OK, event as ev};
use super::core::Core;
use super::packets;
use crate::daemon::Daemon;
use crate::instance::{Instance, Kind, Runner, without_term};
use crate::options;

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

/// One FD plugin instance (= one job).
pub struct FdInstance {
    instance: Instance,
    /// Strings and object data the last save_pkt points to; they must stay
    /// valid until the next startBackupFile (ABI §8.2).
    saved: Mutex<Saved>,
}

#[derive(Default)]
struct Saved {
    strings: Vec<CString>,
    object: Vec<u8>,
}

impl FdInstance {
    /// newPlugin: register the events; the runner comes later.
    pub fn new(core: &Core, number: u32, api_version: u32) -> Option<FdInstance> {
        if core.register_events(&REGISTERED_EVENTS) != bRC_OK {
            return None;
        }
        Some(FdInstance {
            instance: Instance::new(Daemon::Fd, number, api_version),
            saved: Mutex::default(),
        })
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
            return self.instance.cancel(core);
        }
        let value_msg = match event_type {
            ev::Level | ev::Since => Some(event::Value::Number(packets::event_number(value))),
            e if e == ev::JobStart || options::command_events(Daemon::Fd).contains(&e) => {
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
        let mut state = self.instance.lock();
        let loads_module = options::command_events(Daemon::Fd).contains(&event_type)
            || (event_type == ev::RestoreObject && event.value.is_some());
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
        let Some(result) = self.instance.call(
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
        without_term(core, result.rc, "handle_plugin_event")
    }

    /// startBackupFile.
    pub fn start_backup_file(&self, core: &mut Core, sp: &mut abi::save_pkt) -> bRC {
        // SAFETY: cmd is NULL or the core's command string.
        let cmd = unsafe { packets::bytes_of(sp.cmd) }.unwrap_or_default();
        let req = pb::BackupRequest {
            cmd,
            flags: sp.flags.to_vec(),
        };
        let mut state = self.instance.lock();
        state.file = None; // the plugin has yet to name the next one
        let Some(result) = self.instance.call(
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
            let mut saved = self.saved.lock().unwrap_or_else(|e| e.into_inner());
            saved.strings.clear();
            let mut keep = |b: Option<Vec<u8>>| -> *mut c_char {
                b.map_or(std::ptr::null_mut(), |b| {
                    let s = packets::c_string(&b);
                    let p = s.as_ptr() as *mut c_char;
                    saved.strings.push(s);
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
            saved.object = back.object.unwrap_or_default();
            sp.object = if saved.object.is_empty() {
                std::ptr::null_mut()
            } else {
                saved.object.as_mut_ptr().cast()
            };
            sp.object_len = back.object_len.clamp(0, saved.object.len() as i32);
            sp.index = back.index;
        }
        result.rc
    }

    /// Calls without a packet to convert: endBackupFile, startRestoreFile, ...
    pub fn simple(&self, core: &mut Core, kind: call::Kind, name: &'static str) -> bRC {
        let mut state = self.instance.lock();
        self.instance
            .call(&mut state, core, kind, Kind::File, name)
            .map_or(bRC_Error, |r| r.rc)
    }

    /// checkFile: without a runner no module is loaded, and python3-fd then
    /// answers bRC_OK without Python.
    pub fn check_file(&self, core: &mut Core, fname: Vec<u8>) -> bRC {
        let mut state = self.instance.lock();
        if !matches!(state.runner, Runner::Running(_)) {
            return bRC_OK;
        }
        self.instance
            .call(
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
        let mut state = self.instance.lock();
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
        let result = self.instance.plugin_io(&mut state, core, req, buf);
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
            io.filedes = match self
                .instance
                .adopt_fd(&mut state, core, back.fd_token, back.filedes)
            {
                Some(fd) => fd,
                None => {
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
        let mut state = self.instance.lock();
        state.file = req
            .ofname
            .as_deref()
            .map(|f| String::from_utf8_lossy(f).into_owned());
        let Some(result) = self.instance.call(
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
                match self
                    .instance
                    .adopt_fd(&mut state, core, back.fd_token, back.filedes)
                {
                    Some(fd) => rp.filedes = fd,
                    None => return bRC_Error,
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
        let mut state = self.instance.lock();
        let Some(result) = self.instance.call(
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
        let mut state = self.instance.lock();
        let Some(result) = self.instance.call(
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

    /// freePlugin.
    pub fn free(self, core: &mut Core) {
        self.instance.free(core);
    }
}
