//! How Python code reaches the daemon's core functions.
//!
//! A runner hosts exactly one plugin instance, so the link to the core is a
//! process-wide singleton. It is installed once the session with the shim is
//! up; without it (`sidecar-runner python`, unit tests) every core function
//! fails with [`CoreError::Unset`], which `bareosfd` turns into the same
//! `RuntimeError` python3-fd raises outside a daemon.
//!
//! Core functions that answer (GetValue, CheckChanges, ...) are only valid
//! while the shim is waiting for a call result: the shim executes them on the
//! daemon thread that made the plugin call. Job and debug messages are
//! one-way and may be sent at any time from any thread; the shim emits them
//! in order with everything else.

use std::cell::Cell;
use std::collections::HashMap;
use std::io;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use sidecar_proto::area::Area;
use sidecar_proto::frames::{Channel, Writer};
use sidecar_proto::{
    Call, CallResult, Callback, CallbackReply, Log, RunnerMessage, ShimMessage, callback, log,
    runner_message, shim_message,
};

use crate::colocation;

/// How long a core function may take before the runner gives up on the shim.
const CALLBACK_DEADLINE: Duration = Duration::from_secs(600);

/// How long a core function of the cancel handler may take: the shim's
/// cancel thread gives the whole handler less than this.
const CANCEL_CALLBACK_DEADLINE: Duration = Duration::from_secs(10);

#[derive(Debug, PartialEq, Eq)]
pub enum CoreError {
    /// No daemon attached (the runner is used as a plain interpreter).
    Unset,
    /// Not inside a plugin call: the core cannot run it now.
    NotInCall,
    /// The session with the shim is gone or did not answer in time.
    Disconnected,
}

impl std::fmt::Display for CoreError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            CoreError::Unset => "bareos_core_functions is unset (no daemon attached)",
            CoreError::NotInCall => "plugin_ctx is unset (core functions are only available while the daemon calls the plugin)",
            CoreError::Disconnected => "the session with the daemon is gone",
        })
    }
}

/// The runner's end of the call channel (`sidecar_proto::frames`).
///
/// Two locks, because any Python thread may log at any time but only one
/// request may wait for its answer: `writer` is held for one frame,
/// `reader` for a whole exchange (the main thread waiting for the next call,
/// or one callback waiting for its reply). `in_call` changes only under
/// `reader`, so a callback never starts after the result of its call went
/// out.
struct Link {
    reader: Mutex<Channel>,
    writer: Mutex<Writer>,
    in_call: AtomicBool,
    next_id: AtomicU64,
    fd_socket: OwnedFd,
    next_token: AtomicU64,
    /// IO_READ/IO_WRITE data (`sidecar_proto::area`).
    area: Area,
}

static LINK: OnceLock<Link> = OnceLock::new();

/// The runner's end of the cancel channel: the daemon's cancel thread is
/// waiting on the other end while the plugin's cancel handler runs, and
/// serves the handler's core functions there.
struct CancelLink {
    reader: Mutex<Channel>,
    writer: Mutex<Writer>,
    next_id: AtomicU64,
}

static CANCEL_LINK: OnceLock<CancelLink> = OnceLock::new();

thread_local! {
    /// Set on the thread that runs the plugin's cancel handler, for the
    /// time it runs: its core functions go to the cancel channel.
    static IN_CANCEL: Cell<bool> = const { Cell::new(false) };
}

fn lock_reader(link: &Link) -> std::sync::MutexGuard<'_, Channel> {
    link.reader.lock().unwrap_or_else(|e| e.into_inner())
}

/// Installs the link to the shim; done once by the session.
pub(crate) fn install(channel: Channel, fd_socket: OwnedFd, area: Area) -> io::Result<()> {
    let link = Link {
        area,
        writer: Mutex::new(channel.writer()?),
        reader: Mutex::new(channel),
        in_call: AtomicBool::new(false),
        next_id: AtomicU64::new(1),
        fd_socket,
        next_token: AtomicU64::new(1),
    };
    if LINK.set(link).is_err() {
        panic!("core link installed twice");
    }
    Ok(())
}

/// Installs the cancel channel; done once by the session.
pub(crate) fn install_cancel(channel: Channel) -> io::Result<()> {
    let link = CancelLink {
        writer: Mutex::new(channel.writer()?),
        reader: Mutex::new(channel),
        next_id: AtomicU64::new(1),
    };
    if CANCEL_LINK.set(link).is_err() {
        panic!("cancel link installed twice");
    }
    Ok(())
}

/// Waits for the next cancel from the shim (blocks, without the GIL).
/// `UnexpectedEof`: the shim closed the session.
pub(crate) fn next_cancel() -> io::Result<()> {
    let link = CANCEL_LINK
        .get()
        .ok_or_else(|| io::Error::other(CoreError::Unset.to_string()))?;
    let mut reader = link.reader.lock().unwrap_or_else(|e| e.into_inner());
    loop {
        match reader.read::<ShimMessage>(Duration::ZERO, None)?.kind {
            Some(shim_message::Kind::Cancel(_)) => return Ok(()),
            Some(shim_message::Kind::CallbackReply(r)) => {
                tracing::warn!(
                    id = r.id,
                    "dropping a late callback reply of a cancel handler"
                );
            }
            _ => {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    "protocol violation: the shim sent something other than a cancel",
                ));
            }
        }
    }
}

/// Runs `handler` (the plugin's cancel handler) with its core functions on
/// the cancel channel, then ends the exchange with its outcome (`None`: the
/// plugin did not register the event).
pub(crate) fn serve_cancel(handler: impl FnOnce() -> Option<i32>) -> io::Result<()> {
    let link = CANCEL_LINK
        .get()
        .ok_or_else(|| io::Error::other(CoreError::Unset.to_string()))?;
    IN_CANCEL.with(|c| c.set(true));
    let outcome = handler();
    IN_CANCEL.with(|c| c.set(false));
    let result = sidecar_proto::CancelResult {
        delivered: outcome.is_some(),
        rc: outcome.unwrap_or(0),
    };
    send_cancel(link, runner_message::Kind::CancelResult(result))
}

fn in_cancel() -> Option<&'static CancelLink> {
    if IN_CANCEL.with(|c| c.get()) {
        CANCEL_LINK.get()
    } else {
        None
    }
}

fn send_cancel(link: &CancelLink, kind: runner_message::Kind) -> io::Result<()> {
    let msg = RunnerMessage { kind: Some(kind) };
    link.writer
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .send(&msg)
}

/// A core function of the cancel handler: asked and answered on the
/// cancel channel, while the call channel may be busy with the job thread's
/// call.
fn cancel_call(link: &CancelLink, kind: callback::Kind) -> Result<CallbackReply, CoreError> {
    let mut reader = link.reader.lock().unwrap_or_else(|e| e.into_inner());
    let id = link.next_id.fetch_add(1, Ordering::Relaxed);
    let request = runner_message::Kind::Callback(Callback {
        id,
        kind: Some(kind),
    });
    send_cancel(link, request).map_err(|_| CoreError::Disconnected)?;
    await_reply(&mut reader, id, Duration::ZERO, CANCEL_CALLBACK_DEADLINE)
}

/// Reads the shim's answer to callback `id` (stale answers are dropped;
/// anything else is a protocol violation).
fn await_reply(
    reader: &mut Channel,
    id: u64,
    busy: Duration,
    deadline: Duration,
) -> Result<CallbackReply, CoreError> {
    loop {
        let msg = reader
            .read::<ShimMessage>(busy, Some(deadline))
            .map_err(|e| {
                tracing::warn!(id, "waiting for a callback reply: {e}");
                CoreError::Disconnected
            })?;
        match msg.kind {
            Some(shim_message::Kind::CallbackReply(reply)) if reply.id == id => return Ok(reply),
            Some(shim_message::Kind::CallbackReply(reply)) => {
                tracing::warn!(got = reply.id, want = id, "dropping stale callback reply");
            }
            _ => {
                tracing::warn!(
                    id,
                    "protocol violation: another message while a callback waits"
                );
                return Err(CoreError::Disconnected);
            }
        }
    }
}

fn send(link: &Link, kind: runner_message::Kind) -> io::Result<()> {
    let msg = RunnerMessage { kind: Some(kind) };
    link.writer
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .send(&msg)
}

/// Waits for the shim's next call (blocks: call it with the GIL released);
/// from then on, core functions are possible. `UnexpectedEof`: the shim
/// closed the session.
pub(crate) fn next_call() -> io::Result<Call> {
    let link = LINK
        .get()
        .ok_or_else(|| io::Error::other(CoreError::Unset.to_string()))?;
    let mut reader = lock_reader(link);
    loop {
        let msg = colocation::paced(|busy| reader.read::<ShimMessage>(busy, None))?;
        match msg.kind {
            Some(shim_message::Kind::Call(call)) => {
                colocation::follow(call.cpu);
                link.in_call.store(true, Ordering::SeqCst);
                return Ok(call);
            }
            Some(shim_message::Kind::CallbackReply(r)) => {
                tracing::warn!(id = r.id, "dropping a callback reply outside a call");
            }
            _ => {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    "protocol violation: the shim sent something other than a call",
                ));
            }
        }
    }
}

/// Puts IO_READ data where the shim takes it from: the I/O area. Returns
/// its length for the result's `area_len`, or `None` when it must travel in
/// the message (no session, or too big). Only for the call in progress.
pub fn stage_read_data(data: &[u8]) -> Option<u32> {
    let link = LINK.get()?;
    link.area.put(data).then_some(data.len() as u32)
}

/// The IO_WRITE data the shim left in the I/O area (`len` from the call's
/// `area_len`); `None` if `len` exceeds the area.
pub(crate) fn written_data(len: u32) -> Option<Vec<u8>> {
    LINK.get()?.area.get(len as usize)
}

/// Sends the result of the call in progress; core functions end with it.
pub(crate) fn finish_call(result: CallResult) -> io::Result<()> {
    let link = LINK
        .get()
        .ok_or_else(|| io::Error::other(CoreError::Unset.to_string()))?;
    let _exchange = lock_reader(link);
    link.in_call.store(false, Ordering::SeqCst);
    send(link, runner_message::Kind::Result(result))
}

// ------------------------------------------------------------ direct link
//
// In-process hosting (the benchmark's python3-fd stand-in): the plugin runs
// on the daemon's job thread, and a core function is executed right there
// by the handler of the call in progress on that thread.

/// The daemon's core functions for the plugin call in progress on this
/// thread (in-process hosting).
pub trait Direct {
    fn callback(&mut self, kind: callback::Kind) -> CallbackReply;
    fn log(&mut self, kind: log::Kind);
}

static DIRECT: AtomicBool = AtomicBool::new(false);

thread_local! {
    static CURRENT: Cell<Option<*mut (dyn Direct + 'static)>> = const { Cell::new(None) };
}

/// Descriptors "passed" in process: the core gets a duplicate.
static DIRECT_FDS: Mutex<Option<HashMap<u64, OwnedFd>>> = Mutex::new(None);
static DIRECT_TOKEN: AtomicU64 = AtomicU64::new(1);

/// Switches this process to the direct link (in-process hosting); done
/// once, before the first plugin call.
pub fn enable_direct() {
    DIRECT.store(true, Ordering::SeqCst);
}

/// Is the plugin hosted inside the daemon (shared interpreter)?
pub fn direct() -> bool {
    DIRECT.load(Ordering::Relaxed)
}

/// Runs `f` (one plugin call) with `handler` as this thread's core.
pub fn with_direct<R>(handler: &mut dyn Direct, f: impl FnOnce() -> R) -> R {
    let ptr: *mut (dyn Direct + '_) = handler;
    // SAFETY: only the lifetime is erased; the pointer is removed from the
    // thread-local below, before `handler`'s borrow ends, and only used on
    // this thread in between.
    let ptr: *mut (dyn Direct + 'static) = unsafe { std::mem::transmute(ptr) };
    let prev = CURRENT.with(|c| c.replace(Some(ptr)));
    struct Restore(Option<*mut (dyn Direct + 'static)>);
    impl Drop for Restore {
        fn drop(&mut self) {
            CURRENT.with(|c| c.set(self.0));
        }
    }
    let _restore = Restore(prev);
    f()
}

fn with_current<R>(f: impl FnOnce(&mut dyn Direct) -> R) -> Option<R> {
    let ptr = CURRENT.with(|c| c.get())?;
    // SAFETY: set by `with_direct` on this thread for the duration of the
    // call in progress; nothing else uses the handler meanwhile.
    Some(f(unsafe { &mut *ptr }))
}

/// The descriptor "passed" in process with `token`.
pub fn take_fd(token: u64) -> Option<OwnedFd> {
    DIRECT_FDS
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .as_mut()?
        .remove(&token)
}

/// Marks the span of one plugin call by hand (unit tests without a shim).
#[cfg(test)]
pub(crate) fn set_in_call(active: bool) {
    if let Some(link) = LINK.get() {
        link.in_call.store(active, Ordering::SeqCst);
    }
}

/// Is a daemon attached at all?
pub fn attached() -> bool {
    LINK.get().is_some() || direct()
}

/// Fails the way [`call`] would, without calling: for `bareosfd` functions
/// that answer locally but must still refuse outside a daemon call.
pub fn check() -> Result<(), CoreError> {
    if direct() {
        return with_current(|_| ()).ok_or(CoreError::NotInCall);
    }
    if in_cancel().is_some() {
        return Ok(());
    }
    let link = LINK.get().ok_or(CoreError::Unset)?;
    if link.in_call.load(Ordering::SeqCst) {
        Ok(())
    } else {
        Err(CoreError::NotInCall)
    }
}

/// Calls one core function and waits for its answer. Blocks: call it with
/// the GIL released.
pub fn call(kind: callback::Kind) -> Result<CallbackReply, CoreError> {
    let recorded = crate::recording::active().then(|| kind.clone());
    let reply = call_core(kind)?;
    if let Some(kind) = recorded {
        crate::recording::callback(&Callback {
            id: reply.id,
            kind: Some(kind),
        });
        crate::recording::reply(&reply);
    }
    Ok(reply)
}

fn call_core(kind: callback::Kind) -> Result<CallbackReply, CoreError> {
    if direct() {
        return with_current(|d| d.callback(kind)).ok_or(CoreError::NotInCall);
    }
    if let Some(cancel) = in_cancel() {
        return cancel_call(cancel, kind);
    }
    let link = LINK.get().ok_or(CoreError::Unset)?;
    if !link.in_call.load(Ordering::SeqCst) {
        return Err(CoreError::NotInCall);
    }
    let mut reader = lock_reader(link);
    // The call may have ended while this thread waited for the lock.
    if !link.in_call.load(Ordering::SeqCst) {
        return Err(CoreError::NotInCall);
    }
    let id = link.next_id.fetch_add(1, Ordering::Relaxed);
    let request = runner_message::Kind::Callback(Callback {
        id,
        kind: Some(kind),
    });
    send(link, request).map_err(|_| CoreError::Disconnected)?;
    colocation::paced(|busy| await_reply(&mut reader, id, busy, CALLBACK_DEADLINE))
}

/// Sends a job message (one-way; fine from any thread).
pub fn job_message(msg_type: i32, text: impl Into<Vec<u8>>) -> Result<(), CoreError> {
    let kind = log::Kind::Job(sidecar_proto::JobMessage {
        r#type: msg_type,
        mtime: 0,
        text: text.into(),
    });
    send_log(kind)
}

/// Sends a debug message at `level` (one-way; fine from any thread).
pub fn debug_message(level: i32, text: impl Into<Vec<u8>>) -> Result<(), CoreError> {
    send_log(log::Kind::Debug(sidecar_proto::DebugMessage {
        level,
        text: text.into(),
    }))
}

fn send_log(kind: log::Kind) -> Result<(), CoreError> {
    if crate::recording::active() {
        crate::recording::log(&Log {
            kind: Some(kind.clone()),
        });
    }
    if direct() {
        // Outside a call (a plugin thread) there is no job to log to.
        with_current(|d| d.log(kind));
        return Ok(());
    }
    let log = runner_message::Kind::Log(Log { kind: Some(kind) });
    if let Some(cancel) = in_cancel() {
        // In order with the handler's other core functions, on the thread
        // that waits for it.
        return send_cancel(cancel, log).map_err(|_| CoreError::Disconnected);
    }
    let link = LINK.get().ok_or(CoreError::Unset)?;
    send(link, log).map_err(|_| CoreError::Disconnected)
}

/// Sends a descriptor the plugin opened to the shim (SCM_RIGHTS) and returns
/// the token the accompanying message must carry. The runner keeps its own
/// descriptor; the plugin closes it as usual.
pub fn pass_fd(fd: BorrowedFd<'_>) -> std::io::Result<u64> {
    if direct() {
        let token = DIRECT_TOKEN.fetch_add(1, Ordering::Relaxed);
        let dup = fd.try_clone_to_owned()?;
        DIRECT_FDS
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get_or_insert_with(HashMap::new)
            .insert(token, dup);
        return Ok(token);
    }
    let link = LINK
        .get()
        .ok_or_else(|| std::io::Error::other(CoreError::Unset.to_string()))?;
    let token = link.next_token.fetch_add(1, Ordering::Relaxed);
    sidecar_proto::fdpass::send(link.fd_socket.as_fd(), token, fd)?;
    Ok(token)
}
