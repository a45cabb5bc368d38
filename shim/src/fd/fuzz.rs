//! Fuzzing the shim's half of the conversation: whatever the runner answers
//! (an arbitrary `CallResult`, arbitrary callbacks and logs, descriptors that
//! do or do not arrive), the packets the daemon gets back must be sound.
//!
//! A fake [`Backend`] (installed with `backend::set_factory`, the in-process
//! host's path) plays a hostile runner from a proptest-generated script; a
//! fake core function table (installed with `loadPlugin`, as the daemon does)
//! records what the shim tells the core. The instance is driven only through
//! the `extern "C"` entry points of `entry::PLUGIN_FUNCTIONS`, with real
//! packets and buffers, so the FFI edge is under test as well.
//!
//! The variadic core functions (registerBareosEvents, JobMessage,
//! DebugMessage) are stubbed by non-variadic functions with the same leading
//! parameters: on x86_64 SysV a variadic call of integer/pointer arguments
//! is made exactly like a fixed-argument one, so the stubs see what the shim
//! passed (the ABI module is x86_64-only anyway).

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::ffi::{CStr, c_char, c_int, c_void};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::path::Path;
use std::time::Duration;

use proptest::prelude::*;
use sidecar_proto::{self as pb, call, call_result};

use super::abi::{self, Ctx, bRC, bRC_Error, bRC_OK, event as ev, msg};
use crate::backend::{self, Backend, Canceller, CoreHandler, Error};

// ---------------------------------------------------------- the fake runner

/// One answer of the fake runner to one plugin call.
#[derive(Debug, Clone)]
struct Answer {
    /// Callbacks and logs it sends before the result.
    before: Vec<Before>,
    /// `None`: the call fails (the session broke).
    result: Option<pb::CallResult>,
    /// Replace the payload by the one of `fitting` that suits the call
    /// (mismatched and missing payloads stay common).
    fit: bool,
    fitting: Fitting,
    /// Whether a descriptor really arrives for a non-zero `fd_token`.
    sends_fd: bool,
}

/// A payload of each type, for answers that suit the call.
#[derive(Debug, Clone)]
struct Fitting {
    save: pb::SavePacket,
    io: pb::IoResult,
    create: pb::CreateResult,
    acl: pb::AclPacket,
    xattr: pb::XattrPacket,
}

impl Fitting {
    fn payload(&self, kind: &call::Kind) -> Option<call_result::Payload> {
        use call_result::Payload;
        Some(match kind {
            call::Kind::StartBackupFile(_) | call::Kind::HandlePluginEvent(_) => {
                Payload::Save(self.save.clone())
            }
            call::Kind::PluginIo(_) => Payload::Io(self.io.clone()),
            call::Kind::CreateFile(_) => Payload::Create(self.create),
            call::Kind::GetAcl(_) => Payload::Acl(self.acl.clone()),
            call::Kind::GetXattr(_) => Payload::Xattr(self.xattr.clone()),
            _ => return None,
        })
    }
}

#[derive(Debug, Clone)]
#[allow(clippy::large_enum_variant)] // test data
enum Before {
    Callback(pb::Callback),
    Log(pb::Log),
}

thread_local! {
    static SCRIPT: RefCell<VecDeque<Answer>> = const { RefCell::new(VecDeque::new()) };
    /// Whether the answer of the call in progress sends a descriptor.
    static SENDS_FD: Cell<bool> = const { Cell::new(false) };
    /// The descriptor (a dup of this) the fake runner passes.
    static PROBE: Cell<RawFd> = const { Cell::new(-1) };
    /// Descriptors handed to the shim during the current entry-point call.
    static RECEIVED: RefCell<Vec<RawFd>> = const { RefCell::new(Vec::new()) };
    /// The result the fake runner gave last.
    static LAST: RefCell<Option<pb::CallResult>> = const { RefCell::new(None) };
    /// Job messages the shim sent the core: (type, text).
    static MESSAGES: RefCell<Vec<(c_int, Vec<u8>)>> = const { RefCell::new(Vec::new()) };
    /// Panics on this thread (counted by the hook installed in `install`).
    static PANICS: Cell<usize> = const { Cell::new(0) };
}

struct FakeRunner;

impl Backend for FakeRunner {
    fn call(
        &mut self,
        kind: call::Kind,
        _deadline: Duration,
        core: &mut dyn CoreHandler,
    ) -> Result<pb::CallResult, Error> {
        let Some(mut answer) = SCRIPT.with_borrow_mut(|s| s.pop_front()) else {
            return Ok(pb::CallResult::default());
        };
        if let (Some(r), true) = (&mut answer.result, answer.fit) {
            r.payload = answer.fitting.payload(&kind).or(r.payload.take());
        }
        for b in answer.before {
            match b {
                Before::Callback(cb) => {
                    let id = cb.id;
                    assert_eq!(core.callback(cb).id, id);
                }
                Before::Log(l) => core.log(l),
            }
        }
        SENDS_FD.set(answer.sends_fd);
        LAST.set(answer.result.clone());
        answer
            .result
            .ok_or_else(|| Error::RunnerGone("the fake runner hung up".into()))
    }

    fn receive_fd(&self, _token: u64) -> Result<OwnedFd, Error> {
        if !SENDS_FD.get() {
            return Err(Error::Protocol("no descriptor arrived".into()));
        }
        // SAFETY: dup of our live probe; the result is owned by nobody else.
        let fd = unsafe { libc::fcntl(PROBE.get(), libc::F_DUPFD_CLOEXEC, 3) };
        assert!(fd >= 0);
        RECEIVED.with_borrow_mut(|r| r.push(fd));
        // SAFETY: just created above.
        Ok(unsafe { OwnedFd::from_raw_fd(fd) })
    }

    fn close(self: Box<Self>, _core: &mut dyn CoreHandler) -> Option<String> {
        None
    }

    fn kill(self: Box<Self>, _core: &mut dyn CoreHandler) -> String {
        "the fake runner was stopped".into()
    }

    fn pid(&self) -> u32 {
        1
    }

    fn canceller(&self) -> Option<Canceller> {
        None
    }

    fn python_version(&self) -> String {
        "3.fuzz".into()
    }
}

fn fake_factory(_module_dir: &Path) -> Result<Box<dyn Backend>, Error> {
    Ok(Box::new(FakeRunner))
}

// ------------------------------------------------------------ the fake core

/// Reads a C string the shim passed, which must be NUL-terminated.
unsafe fn c_bytes(p: *const c_char) -> Vec<u8> {
    assert!(!p.is_null(), "the shim passed a NULL string");
    // SAFETY: per the ABI the shim passes NUL-terminated strings.
    unsafe { CStr::from_ptr(p) }.to_bytes().to_vec()
}

unsafe extern "C" fn register_events(_ctx: Ctx, n: c_int, event: c_int) -> bRC {
    assert_eq!(n, 1);
    assert!((1..=abi::event::MAX as c_int).contains(&event));
    bRC_OK
}

#[allow(clippy::too_many_arguments)]
unsafe extern "C" fn job_message(
    _ctx: Ctx,
    file: *const c_char,
    _line: c_int,
    msg_type: c_int,
    _mtime: abi::utime_t,
    fmt: *const c_char,
    text: *const c_char,
) -> bRC {
    // SAFETY: the shim passes C strings.
    unsafe {
        c_bytes(file);
        assert_eq!(c_bytes(fmt), b"%s");
        let text = c_bytes(text);
        MESSAGES.with_borrow_mut(|m| m.push((msg_type, text)));
    }
    bRC_OK
}

unsafe extern "C" fn debug_message(
    _ctx: Ctx,
    file: *const c_char,
    _line: c_int,
    _level: c_int,
    fmt: *const c_char,
    text: *const c_char,
) -> bRC {
    // SAFETY: the shim passes C strings.
    unsafe {
        c_bytes(file);
        assert_eq!(c_bytes(fmt), b"%s");
        c_bytes(text);
    }
    bRC_OK
}

unsafe extern "C" fn get_instance_count(_ctx: Ctx, n: *mut c_int) -> bRC {
    // SAFETY: the shim passes a valid out-pointer.
    unsafe { *n = 1 };
    bRC_OK
}

unsafe extern "C" fn get_value(_ctx: Ctx, var: c_int, out: *mut c_void) -> bRC {
    use abi::var;
    // SAFETY: the shim passes a slot big enough for the variable's type.
    unsafe {
        match var {
            var::FDName | var::Client | var::JobName | var::WorkingDir | var::Where => {
                *out.cast::<*const c_char>() = c"fuzz-fd".as_ptr()
            }
            var::RegexWhere => *out.cast::<*const c_char>() = std::ptr::null(),
            var::CheckChanges => *out.cast::<bool>() = true,
            var::AccurateOptions => *out.cast::<u64>() = u64::MAX,
            var::JobId | var::Level | var::Type => *out.cast::<c_int>() = -7,
            _ => return bRC_Error,
        }
    }
    bRC_OK
}

unsafe extern "C" fn set_value(_ctx: Ctx, _var: c_int, value: *const c_void) -> bRC {
    assert!(!value.is_null());
    bRC_OK
}

unsafe extern "C" fn with_string(_ctx: Ctx, s: *const c_char) -> bRC {
    // SAFETY: the shim passes a C string.
    unsafe { c_bytes(s) };
    bRC_OK
}

unsafe extern "C" fn with_pattern(_ctx: Ctx, s: *const c_char, _type: c_int) -> bRC {
    // SAFETY: the shim passes a C string.
    unsafe { c_bytes(s) };
    bRC_OK
}

unsafe extern "C" fn no_args(_ctx: Ctx) -> bRC {
    bRC_OK
}

unsafe extern "C" fn with_save_pkt(_ctx: Ctx, sp: *mut abi::save_pkt) -> bRC {
    // SAFETY: the shim passes a packet whose strings are NULL or C strings
    // and whose object holds object_len bytes.
    unsafe {
        let sp = &mut *sp;
        assert_eq!(sp.pkt_size, std::mem::size_of::<abi::save_pkt>() as i32);
        for p in [sp.fname, sp.link, sp.cmd, sp.object_name] {
            if !p.is_null() {
                c_bytes(p);
            }
        }
        assert!(sp.object_len >= 0);
        if sp.object_len > 0 {
            assert!(!sp.object.is_null());
            std::slice::from_raw_parts(sp.object.cast::<u8>(), sp.object_len as usize).to_vec();
        }
        sp.delta_seq = sp.delta_seq.wrapping_add(1);
        sp.accurate_found = !sp.accurate_found;
    }
    bRC_OK
}

unsafe extern "C" fn seen_bitmap(_ctx: Ctx, _all: bool, fname: *mut c_char) -> bRC {
    if !fname.is_null() {
        // SAFETY: the shim passes NULL or a C string.
        unsafe { c_bytes(fname) };
    }
    bRC_OK
}

/// Installs the fake core (through loadPlugin) and the fake runner, once.
fn install() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        type Variadic2 = unsafe extern "C" fn(Ctx, c_int, ...) -> bRC;
        type JobMsg = unsafe extern "C" fn(
            Ctx,
            *const c_char,
            c_int,
            c_int,
            abi::utime_t,
            *const c_char,
            ...
        ) -> bRC;
        type DebugMsg =
            unsafe extern "C" fn(Ctx, *const c_char, c_int, c_int, *const c_char, ...) -> bRC;
        // SAFETY: see the module comment: same leading parameters, and the
        // x86_64 SysV convention passes them identically to a variadic
        // callee; the shim always passes exactly the arguments stubbed here.
        let (reg, job, dbg) = unsafe {
            (
                std::mem::transmute::<unsafe extern "C" fn(Ctx, c_int, c_int) -> bRC, Variadic2>(
                    register_events,
                ),
                std::mem::transmute::<
                    unsafe extern "C" fn(
                        Ctx,
                        *const c_char,
                        c_int,
                        c_int,
                        abi::utime_t,
                        *const c_char,
                        *const c_char,
                    ) -> bRC,
                    JobMsg,
                >(job_message),
                std::mem::transmute::<
                    unsafe extern "C" fn(
                        Ctx,
                        *const c_char,
                        c_int,
                        c_int,
                        *const c_char,
                        *const c_char,
                    ) -> bRC,
                    DebugMsg,
                >(debug_message),
            )
        };
        let table = Box::leak(Box::new(abi::CoreFunctions {
            size: std::mem::size_of::<abi::CoreFunctions>() as u32,
            version: abi::FD_PLUGIN_INTERFACE_VERSION,
            registerBareosEvents: Some(reg),
            unregisterBareosEvents: Some(reg),
            getInstanceCount: Some(get_instance_count),
            getBareosValue: Some(get_value),
            setBareosValue: Some(set_value),
            JobMessage: Some(job),
            DebugMessage: Some(dbg),
            bareosMalloc: None,
            bareosFree: None,
            AddExclude: Some(with_string),
            AddInclude: Some(with_string),
            AddOptions: Some(with_string),
            AddRegex: Some(with_pattern),
            AddWild: Some(with_pattern),
            NewOptions: Some(no_args),
            NewInclude: Some(no_args),
            NewPreInclude: None, // missing functions must be coped with
            checkChanges: Some(with_save_pkt),
            AcceptFile: Some(with_save_pkt),
            SetSeenBitmap: Some(seen_bitmap),
            ClearSeenBitmap: Some(seen_bitmap),
        }));
        let mut info = abi::PluginApiDefinition {
            size: 8,
            version: abi::FD_PLUGIN_INTERFACE_VERSION,
        };
        let mut out_info = std::ptr::null_mut();
        let mut out_funcs = std::ptr::null_mut();
        // SAFETY: valid pointers; the table lives for the process.
        let table: *mut abi::CoreFunctions = table;
        let rc =
            unsafe { crate::loadPlugin(&mut info, table.cast(), &mut out_info, &mut out_funcs) };
        assert_eq!(rc, bRC_OK);
        assert!(std::ptr::eq(
            out_funcs.cast::<abi::PluginFunctions>(),
            &super::entry::PLUGIN_FUNCTIONS
        ));
        backend::set_factory(fake_factory);
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            PANICS.set(PANICS.get() + 1);
            previous(info);
        }));
    });
}

// ------------------------------------------------------------ the driver

/// One call of the core into the plugin.
#[derive(Debug, Clone)]
enum Op {
    StartBackupFile {
        cmd: Option<Vec<u8>>,
    },
    EndBackupFile,
    StartRestoreFile,
    EndRestoreFile,
    Io {
        func: i32,
        count: i32,
        old_pkt: bool,
        reuse_fd: bool,
    },
    CreateFile {
        pkt_size: i32,
    },
    SetFileAttributes,
    CheckFile,
    GetAcl,
    SetAcl,
    GetXattr,
    SetXattr,
    HandleBackupFile,
    RestoreObject {
        plugin_name: bool,
    },
    Event {
        event_type: u32,
    },
}

const PLUGIN: &CStr = c"python3:module_name=fuzz:extra=1";

fn f() -> &'static abi::PluginFunctions {
    &super::entry::PLUGIN_FUNCTIONS
}

struct Job {
    ctx: Box<abi::PluginContext>,
    /// A descriptor the core got from the shim earlier (for IO on it).
    last_fd: RawFd,
}

impl Job {
    fn ctx(&mut self) -> Ctx {
        &mut *self.ctx
    }

    /// Runs one entry point, with the per-call bookkeeping reset.
    fn run(&mut self, op: impl FnOnce(Ctx) -> bRC) -> bRC {
        RECEIVED.with_borrow_mut(Vec::clear);
        LAST.set(None);
        let ctx = self.ctx();
        op(ctx)
    }

    fn check_fd(&self, before: c_int, after: c_int) -> Result<(), TestCaseError> {
        let received = RECEIVED.with_borrow(Clone::clone);
        prop_assert!(
            after == -1 || after == before || received.contains(&after),
            "descriptor {} was neither the core's ({}) nor received ({:?})",
            after,
            before,
            received
        );
        if received.is_empty() {
            prop_assert!(after == -1 || after == before);
        }
        Ok(())
    }

    fn op(&mut self, op: &Op) -> Result<(), TestCaseError> {
        match *op {
            Op::StartBackupFile { ref cmd } => {
                let cmd = cmd.as_deref().map(crate::ffi::cstr::c_string);
                // SAFETY: save_pkt is plain old data.
                let mut sp: Box<abi::save_pkt> = Box::new(unsafe { std::mem::zeroed() });
                sp.pkt_size = std::mem::size_of::<abi::save_pkt>() as i32;
                sp.pkt_end = sp.pkt_size;
                sp.cmd = cmd
                    .as_ref()
                    .map_or(std::ptr::null_mut(), |c| c.as_ptr() as *mut c_char);
                sp.flags = [0xff, 0, 1, 2, 3];
                let spp: *mut abi::save_pkt = &mut *sp;
                self.run(|ctx| unsafe { f().startBackupFile.unwrap()(ctx, spp) });
                self.check_save_pkt(&sp)?;
            }
            Op::EndBackupFile => {
                self.run(|ctx| unsafe { f().endBackupFile.unwrap()(ctx) });
            }
            Op::StartRestoreFile => {
                self.run(|ctx| unsafe { f().startRestoreFile.unwrap()(ctx, PLUGIN.as_ptr()) });
            }
            Op::EndRestoreFile => {
                self.run(|ctx| unsafe { f().endRestoreFile.unwrap()(ctx) });
            }
            Op::Io {
                func,
                count,
                old_pkt,
                reuse_fd,
            } => self.io(func, count, old_pkt, reuse_fd)?,
            Op::CreateFile { pkt_size } => {
                let mut rp = restore_pkt(pkt_size);
                let sentinel = rp.filedes;
                let rpp: *mut abi::restore_pkt = &mut *rp;
                let rc = self.run(|ctx| unsafe { f().createFile.unwrap()(ctx, rpp) });
                if pkt_size < abi::RESTORE_PKT_SIZE_V22 {
                    prop_assert_eq!(rp.filedes, sentinel, "field beyond pkt_size written");
                } else {
                    self.check_fd(sentinel, rp.filedes)?;
                }
                prop_assert_eq!(rp.pkt_end, 0x5a5a5a5a);
                if rc == bRC_OK && rp.filedes >= 0 {
                    self.last_fd = rp.filedes;
                }
            }
            Op::SetFileAttributes => {
                let mut rp = restore_pkt(std::mem::size_of::<abi::restore_pkt>() as i32);
                let rpp: *mut abi::restore_pkt = &mut *rp;
                self.run(|ctx| unsafe { f().setFileAttributes.unwrap()(ctx, rpp) });
            }
            Op::CheckFile => {
                self.run(|ctx| unsafe { f().checkFile.unwrap()(ctx, c"/f".as_ptr() as *mut _) });
            }
            Op::GetAcl => {
                let mut ap = abi::acl_pkt {
                    pkt_size: std::mem::size_of::<abi::acl_pkt>() as i32,
                    fname: c"/f".as_ptr(),
                    content_length: 0,
                    content: std::ptr::null_mut(),
                    pkt_end: 0,
                };
                self.run(|ctx| unsafe { f().getAcl.unwrap()(ctx, &mut ap) });
                let want = match last_payload() {
                    Some(call_result::Payload::Acl(a)) => a.content.unwrap_or_default(),
                    _ => Vec::new(),
                };
                // SAFETY: checked against the answer; freed like the core does.
                unsafe { check_malloced(ap.content, ap.content_length, &want)? };
            }
            Op::SetAcl => {
                let mut content = *b"user::rwx\0junk";
                let mut ap = abi::acl_pkt {
                    pkt_size: std::mem::size_of::<abi::acl_pkt>() as i32,
                    fname: c"/f".as_ptr(),
                    content_length: content.len() as u32,
                    content: content.as_mut_ptr().cast(),
                    pkt_end: 0,
                };
                self.run(|ctx| unsafe { f().setAcl.unwrap()(ctx, &mut ap) });
            }
            Op::GetXattr => {
                let mut xp = xattr_pkt();
                self.run(|ctx| unsafe { f().getXattr.unwrap()(ctx, &mut xp) });
                let (name, value) = match last_payload() {
                    Some(call_result::Payload::Xattr(x)) => {
                        let name = x.name.unwrap_or_default();
                        let value = if name.is_empty() {
                            Vec::new()
                        } else {
                            x.value.unwrap_or_default()
                        };
                        (name, value)
                    }
                    _ => (Vec::new(), Vec::new()),
                };
                // SAFETY: checked against the answer; freed like the core does.
                unsafe {
                    check_malloced(xp.name, xp.name_length, &name)?;
                    check_malloced(xp.value, xp.value_length, &value)?;
                }
            }
            Op::SetXattr => {
                let mut name = *b"user.a\0b";
                let mut xp = xattr_pkt();
                xp.name = name.as_mut_ptr().cast();
                xp.name_length = name.len() as u32;
                self.run(|ctx| unsafe { f().setXattr.unwrap()(ctx, &mut xp) });
            }
            Op::HandleBackupFile => {
                // SAFETY: save_pkt is plain old data.
                let mut sp: Box<abi::save_pkt> = Box::new(unsafe { std::mem::zeroed() });
                sp.pkt_size = std::mem::size_of::<abi::save_pkt>() as i32;
                sp.fname = c"/etc/fuzz".as_ptr() as *mut c_char;
                let spp: *mut abi::save_pkt = &mut *sp;
                let mut event = abi::bEvent {
                    eventType: ev::HandleBackupFile,
                };
                self.run(|ctx| unsafe {
                    f().handlePluginEvent.unwrap()(ctx, &mut event, spp.cast())
                });
                prop_assert_eq!(sp.fname.cast_const(), c"/etc/fuzz".as_ptr());
            }
            Op::RestoreObject { plugin_name } => {
                let mut object = *b"obj\0ect";
                let mut rop = abi::restore_object_pkt {
                    pkt_size: std::mem::size_of::<abi::restore_object_pkt>() as i32,
                    object_name: c"name".as_ptr() as *mut c_char,
                    object: object.as_mut_ptr().cast(),
                    plugin_name: if plugin_name {
                        PLUGIN.as_ptr() as *mut c_char
                    } else {
                        std::ptr::null_mut()
                    },
                    object_type: 27,
                    object_len: object.len() as i32,
                    object_full_len: object.len() as i32,
                    object_index: 1,
                    object_compression: 0,
                    stream: 26,
                    JobId: 1,
                    pkt_end: 0,
                };
                let mut event = abi::bEvent {
                    eventType: ev::RestoreObject,
                };
                let p: *mut abi::restore_object_pkt = &mut rop;
                self.run(|ctx| unsafe {
                    f().handlePluginEvent.unwrap()(ctx, &mut event, p.cast())
                });
            }
            Op::Event { event_type } => {
                let mut event = abi::bEvent {
                    eventType: event_type,
                };
                let value: *mut c_void = match event_type {
                    ev::Level => b'F' as usize as *mut c_void,
                    ev::Since => 1_700_000_000usize as *mut c_void,
                    ev::HandleBackupFile | ev::RestoreObject => std::ptr::null_mut(),
                    _ if event_type <= ev::MAX => PLUGIN.as_ptr() as *mut c_void,
                    _ => std::ptr::null_mut(),
                };
                self.run(|ctx| unsafe { f().handlePluginEvent.unwrap()(ctx, &mut event, value) });
            }
        }
        Ok(())
    }

    fn io(
        &mut self,
        func: i32,
        count: i32,
        old_pkt: bool,
        reuse_fd: bool,
    ) -> Result<(), TestCaseError> {
        const GUARD: usize = 64;
        let len = count.max(0) as usize;
        let mut buf = vec![0x11u8; len + GUARD];
        buf[len..].fill(0xA5);
        let filedes = if func == abi::io::OPEN || !reuse_fd {
            -1
        } else {
            self.last_fd
        };
        let mut io = abi::io_pkt {
            pkt_size: if old_pkt {
                72
            } else {
                std::mem::size_of::<abi::io_pkt>() as i32
            },
            func,
            count,
            flags: libc::O_RDONLY,
            mode: 0o600,
            buf: buf.as_mut_ptr().cast(),
            fname: c"/f".as_ptr(),
            status: 0x5eed,
            io_errno: 0,
            lerror: 0,
            whence: 0,
            offset: 0,
            win32: false,
            filedes,
            pkt_end: 0x5a5a5a5a,
        };
        let rc = self.run(|ctx| unsafe { f().pluginIO.unwrap()(ctx, &mut io) });
        prop_assert!(
            buf[len..].iter().all(|&b| b == 0xA5),
            "wrote past the buffer"
        );
        prop_assert_eq!(io.pkt_end, 0x5a5a5a5a);
        if func == abi::io::READ {
            prop_assert!(
                io.status <= count.max(0),
                "status {} > count {}",
                io.status,
                count
            );
            if io.status > 0 {
                let Some(call_result::Payload::Io(back)) = last_payload() else {
                    return Err(TestCaseError::fail("read data from nowhere"));
                };
                prop_assert_eq!(&buf[..io.status as usize], &back.buf[..io.status as usize]);
            }
        }
        if old_pkt {
            prop_assert_eq!(io.filedes, filedes, "field beyond pkt_size written");
        } else {
            self.check_fd(filedes, io.filedes)?;
            if rc == bRC_OK && func == abi::io::OPEN && io.filedes >= 0 {
                self.last_fd = io.filedes;
            }
        }
        Ok(())
    }

    fn check_save_pkt(&self, sp: &abi::save_pkt) -> Result<(), TestCaseError> {
        let Some(call_result::Payload::Save(back)) = last_payload() else {
            return Ok(());
        };
        let cut = |b: &Option<Vec<u8>>| {
            b.as_ref()
                .map(|b| crate::ffi::cstr::c_string(b).as_bytes().to_vec())
        };
        // SAFETY: NULL or strings the shim keeps until the next startBackupFile.
        let got = |p: *mut c_char| unsafe { crate::ffi::cstr::bytes_of(p) };
        prop_assert_eq!(got(sp.fname), cut(&back.fname));
        prop_assert_eq!(got(sp.link), cut(&back.link));
        prop_assert_eq!(got(sp.object_name), cut(&back.object_name));
        let object = back.object.unwrap_or_default();
        prop_assert!(sp.object_len >= 0 && sp.object_len as usize <= object.len());
        if sp.object_len > 0 {
            // SAFETY: the shim keeps the object alive; object_len bytes.
            let data = unsafe {
                std::slice::from_raw_parts(sp.object.cast::<u8>(), sp.object_len as usize)
            };
            prop_assert_eq!(data, &object[..sp.object_len as usize]);
        }
        Ok(())
    }
}

fn last_payload() -> Option<call_result::Payload> {
    LAST.with_borrow(|l| l.as_ref().and_then(|r| r.payload.clone()))
}

fn restore_pkt(pkt_size: i32) -> Box<abi::restore_pkt> {
    // SAFETY: restore_pkt is plain old data.
    let mut rp: Box<abi::restore_pkt> = Box::new(unsafe { std::mem::zeroed() });
    rp.pkt_size = pkt_size;
    rp.ofname = c"/tmp/restore/f".as_ptr();
    rp.where_ = c"/tmp/restore".as_ptr();
    rp.filedes = -1;
    rp.pkt_end = 0x5a5a5a5a;
    if pkt_size < abi::RESTORE_PKT_SIZE_V22 {
        rp.filedes = 4242; // not part of an old packet: must stay untouched
    }
    rp
}

fn xattr_pkt() -> abi::xattr_pkt {
    abi::xattr_pkt {
        pkt_size: std::mem::size_of::<abi::xattr_pkt>() as i32,
        fname: c"/f".as_ptr(),
        name_length: 0,
        name: std::ptr::null_mut(),
        value_length: 0,
        value: std::ptr::null_mut(),
        pkt_end: 0,
    }
}

/// `p`/`len` is NULL/0 for empty `want`, otherwise a malloc'ed copy of
/// `want` (NUL-terminated like python3-fd's); frees it as the core would.
unsafe fn check_malloced(p: *mut c_char, len: u32, want: &[u8]) -> Result<(), TestCaseError> {
    if want.is_empty() {
        prop_assert!(p.is_null());
        prop_assert_eq!(len, 0);
        return Ok(());
    }
    prop_assert!(!p.is_null());
    prop_assert_eq!(len as usize, want.len());
    // SAFETY: the shim malloc'ed len + 1 bytes.
    unsafe {
        prop_assert_eq!(std::slice::from_raw_parts(p.cast::<u8>(), want.len()), want);
        prop_assert_eq!(*p.add(want.len()), 0);
        libc::free(p.cast());
    }
    Ok(())
}

/// How many entries of our descriptor table are copies of `fd` (by
/// /proc/self/fd link target, unaffected by other tests' descriptors).
fn copies_of(fd: RawFd) -> usize {
    let target = std::fs::read_link(format!("/proc/self/fd/{fd}")).unwrap();
    std::fs::read_dir("/proc/self/fd")
        .unwrap()
        .filter_map(|e| std::fs::read_link(e.ok()?.path()).ok())
        .filter(|t| *t == target)
        .count()
}

// ------------------------------------------------------------ strategies

fn bytes(max: usize) -> impl Strategy<Value = Vec<u8>> {
    // Interior NULs are common on purpose.
    prop::collection::vec(prop_oneof![3 => any::<u8>(), 1 => Just(0u8)], 0..max)
}

fn opt_bytes(max: usize) -> impl Strategy<Value = Option<Vec<u8>>> {
    prop::option::of(bytes(max))
}

fn int() -> impl Strategy<Value = i32> {
    prop_oneof![-3..80i32, any::<i32>(), Just(i32::MIN), Just(i32::MAX)]
}

fn save_packet() -> BoxedStrategy<pb::SavePacket> {
    (
        (opt_bytes(24), opt_bytes(24), any::<bool>(), int(), bytes(9)),
        (
            any::<[bool; 3]>(),
            opt_bytes(24),
            any::<i64>(),
            any::<u32>(),
        ),
        (opt_bytes(24), opt_bytes(40), int(), int()),
    )
        .prop_map(
            |(
                (fname, link, has_stat, r#type, flags),
                ([no_read, portable, accurate_found], cmd, save_time, delta_seq),
                (object_name, object, object_len, index),
            )| pb::SavePacket {
                fname,
                link,
                statp: has_stat.then(|| pb::Stat {
                    mode: 0o100644,
                    size: -1,
                    ..Default::default()
                }),
                r#type,
                flags,
                no_read,
                portable,
                accurate_found,
                cmd,
                save_time,
                delta_seq,
                object_name,
                object,
                object_len,
                index,
            },
        )
        .boxed()
}

fn token() -> impl Strategy<Value = u64> {
    prop_oneof![Just(0u64), 1..4u64, any::<u64>()]
}

fn io_result() -> BoxedStrategy<pb::IoResult> {
    (
        int(),
        int(),
        int(),
        any::<bool>(),
        int(),
        bytes(100),
        token(),
    )
        .prop_map(
            |(status, io_errno, lerror, win32, filedes, buf, fd_token)| pb::IoResult {
                status,
                io_errno,
                lerror,
                win32,
                filedes,
                buf,
                fd_token,
                // The I/O area is the session's business, below `Backend`
                // (see `channel::tests`); hashes only exist in recordings.
                area_len: None,
                buf_hash: None,
                buf_len: 0,
            },
        )
        .boxed()
}

fn create_result() -> impl Strategy<Value = pb::CreateResult> {
    (int(), int(), token()).prop_map(|(create_status, filedes, fd_token)| pb::CreateResult {
        create_status,
        filedes,
        fd_token,
    })
}

fn acl() -> impl Strategy<Value = pb::AclPacket> {
    (bytes(8), opt_bytes(40)).prop_map(|(fname, content)| pb::AclPacket { fname, content })
}

fn xattr() -> impl Strategy<Value = pb::XattrPacket> {
    (bytes(8), opt_bytes(16), opt_bytes(40)).prop_map(|(fname, name, value)| pb::XattrPacket {
        fname,
        name,
        value,
    })
}

fn payload() -> BoxedStrategy<call_result::Payload> {
    use call_result::Payload;
    prop_oneof![
        save_packet().prop_map(Payload::Save),
        io_result().prop_map(Payload::Io),
        create_result().prop_map(Payload::Create),
        acl().prop_map(Payload::Acl),
        xattr().prop_map(Payload::Xattr),
    ]
    .boxed()
}

fn fitting() -> BoxedStrategy<Fitting> {
    (save_packet(), io_result(), create_result(), acl(), xattr())
        .prop_map(|(save, io, create, acl, xattr)| Fitting {
            save,
            io,
            create,
            acl,
            xattr,
        })
        .boxed()
}

fn callback() -> BoxedStrategy<pb::Callback> {
    use pb::callback::Kind;
    let seen =
        || (any::<bool>(), opt_bytes(16)).prop_map(|(all, fname)| pb::SeenBitmap { all, fname });
    let events = || prop::collection::vec(0..40u32, 0..5).prop_map(|events| pb::Events { events });
    let kind = prop_oneof![
        (-2..30i32).prop_map(Kind::GetValue),
        (
            -2..30i32,
            prop::option::of(prop_oneof![
                any::<bool>().prop_map(pb::set_value::Value::Flag),
                bytes(16).prop_map(pb::set_value::Value::Text),
            ])
        )
            .prop_map(|(var, value)| Kind::SetValue(pb::SetValue { var, value })),
        events().prop_map(Kind::RegisterEvents),
        events().prop_map(Kind::UnregisterEvents),
        Just(Kind::GetInstanceCount(pb::Empty {})),
        bytes(16).prop_map(Kind::AddExclude),
        bytes(16).prop_map(Kind::AddOptions),
        (bytes(16), int()).prop_map(|(item, r#type)| Kind::AddWild(pb::Pattern { item, r#type })),
        Just(Kind::NewPreInclude(pb::Empty {})),
        save_packet().prop_map(Kind::CheckChanges),
        save_packet().prop_map(Kind::AcceptFile),
        seen().prop_map(Kind::SetSeenBitmap),
    ];
    (any::<u64>(), prop::option::of(kind))
        .prop_map(|(id, kind)| pb::Callback { id, kind })
        .boxed()
}

fn before() -> BoxedStrategy<Before> {
    prop_oneof![
        callback().prop_map(Before::Callback),
        (int(), bytes(32)).prop_map(|(r#type, text)| Before::Log(pb::Log {
            kind: Some(pb::log::Kind::Job(pb::JobMessage {
                r#type,
                mtime: 0,
                text,
            })),
        })),
        (int(), bytes(32)).prop_map(|(level, text)| Before::Log(pb::Log {
            kind: Some(pb::log::Kind::Debug(pb::DebugMessage { level, text })),
        })),
    ]
    .boxed()
}

fn answer() -> BoxedStrategy<Answer> {
    let rc = prop_oneof![4 => Just(0), 3 => 0..9i32, 1 => any::<i32>()];
    let result = (any::<u64>(), rc, prop::option::of(payload()))
        .prop_map(|(id, rc, payload)| pb::CallResult { id, rc, payload });
    (
        prop::collection::vec(before(), 0..3),
        prop_oneof![30 => result.prop_map(Some), 1 => Just(None)],
        prop::bool::weighted(0.7),
        fitting(),
        prop::bool::weighted(0.7),
    )
        .prop_map(|(before, result, fit, fitting, sends_fd)| Answer {
            before,
            result,
            fit,
            fitting,
            sends_fd,
        })
        .boxed()
}

fn op() -> BoxedStrategy<Op> {
    use abi::io;
    prop_oneof![
        1 => opt_bytes(24).prop_map(|cmd| Op::StartBackupFile { cmd }),
        1 => Just(Op::EndBackupFile),
        1 => Just(Op::StartRestoreFile),
        1 => Just(Op::EndRestoreFile),
        4 => (
            prop_oneof![Just(io::OPEN), Just(io::READ), Just(io::WRITE), Just(io::CLOSE), Just(io::SEEK), -1..9],
            prop_oneof![-2..80i32, Just(0)],
            prop::bool::weighted(0.1),
            any::<bool>()
        )
            .prop_map(|(func, count, old_pkt, reuse_fd)| Op::Io {
                func,
                count,
                old_pkt,
                reuse_fd
            }),
        1 => prop_oneof![Just(232), Just(abi::RESTORE_PKT_SIZE_V22), Just(256)]
            .prop_map(|pkt_size| Op::CreateFile { pkt_size }),
        1 => Just(Op::SetFileAttributes),
        1 => Just(Op::CheckFile),
        2 => Just(Op::GetAcl),
        1 => Just(Op::SetAcl),
        2 => Just(Op::GetXattr),
        1 => Just(Op::SetXattr),
        1 => Just(Op::HandleBackupFile),
        1 => any::<bool>().prop_map(|plugin_name| Op::RestoreObject { plugin_name }),
        1 => (0..40u32).prop_map(|event_type| Op::Event { event_type }),
    ]
    .boxed()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// A job driven through the C entry points against a runner answering
    /// arbitrary things: the daemon's packets stay sound.
    #[test]
    fn hostile_runner_answers_keep_the_daemon_safe(
        answers in prop::collection::vec(answer(), 0..24),
        ops in prop::collection::vec(op(), 1..12),
    ) {
        install();
        let (probe_r, probe_w) = {
            let mut fds = [0; 2];
            // SAFETY: valid out-array.
            prop_assert_eq!(unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) }, 0);
            // SAFETY: just created.
            unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) }
        };
        PROBE.set(probe_w.as_raw_fd());
        SCRIPT.set(answers.into());
        MESSAGES.with_borrow_mut(Vec::clear);
        PANICS.set(0);

        let mut job = Job {
            ctx: Box::new(abi::PluginContext {
                instance: 0,
                plugin: std::ptr::null_mut(),
                core_private_context: std::ptr::null_mut(),
                plugin_private_context: std::ptr::null_mut(),
            }),
            last_fd: -1,
        };
        prop_assert_eq!(job.run(|ctx| unsafe { f().newPlugin.unwrap()(ctx) }), bRC_OK);
        job.op(&Op::Event { event_type: ev::Level })?;
        job.op(&Op::Event { event_type: ev::BackupCommand })?;
        for op in &ops {
            job.op(op)?;
            prop_assert_eq!(PANICS.get(), 0, "a panic in the shim at {:?}", op);
        }
        prop_assert_eq!(job.run(|ctx| unsafe { f().freePlugin.unwrap()(ctx) }), bRC_OK);
        prop_assert!(job.ctx.plugin_private_context.is_null());

        prop_assert_eq!(PANICS.get(), 0);
        for (t, text) in MESSAGES.with_borrow(Clone::clone) {
            prop_assert!(t != msg::ABORT && t != msg::ERROR_TERM, "message type {} reached the core", t);
            let text = String::from_utf8_lossy(&text);
            prop_assert!(!text.contains("internal error"), "{}", text);
        }
        // Every descriptor the shim received is closed again.
        prop_assert_eq!(copies_of(probe_r.as_raw_fd()), 2, "the shim leaked a descriptor");
        PROBE.set(-1);
    }
}
