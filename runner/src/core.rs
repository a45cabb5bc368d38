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
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock, mpsc};
use std::time::Duration;

use sidecar_proto::{Callback, CallbackReply, Log, RunnerMessage, callback, log, runner_message};
use tokio::sync::mpsc::UnboundedSender;

/// How long a core function may take before the runner gives up on the shim.
const CALLBACK_DEADLINE: Duration = Duration::from_secs(600);

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

struct Link {
    out: UnboundedSender<RunnerMessage>,
    replies: Mutex<mpsc::Receiver<CallbackReply>>,
    next_id: AtomicU64,
    in_call: AtomicBool,
    fd_socket: OwnedFd,
    next_token: AtomicU64,
}

static LINK: OnceLock<Link> = OnceLock::new();

/// Installs the link to the shim; done once by the session.
pub(crate) fn install(
    out: UnboundedSender<RunnerMessage>,
    replies: mpsc::Receiver<CallbackReply>,
    fd_socket: OwnedFd,
) {
    let link = Link {
        out,
        replies: Mutex::new(replies),
        next_id: AtomicU64::new(1),
        in_call: AtomicBool::new(false),
        fd_socket,
        next_token: AtomicU64::new(1),
    };
    if LINK.set(link).is_err() {
        panic!("core link installed twice");
    }
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

/// Marks the span of one plugin call (core functions with answers are only
/// possible inside it).
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
    if direct() {
        return with_current(|d| d.callback(kind)).ok_or(CoreError::NotInCall);
    }
    let link = LINK.get().ok_or(CoreError::Unset)?;
    if !link.in_call.load(Ordering::SeqCst) {
        return Err(CoreError::NotInCall);
    }
    // One outstanding callback at a time: the shim answers in order, and this
    // lock pairs each request with its reply even if plugin threads call too.
    let replies = link.replies.lock().unwrap_or_else(|e| e.into_inner());
    let id = link.next_id.fetch_add(1, Ordering::Relaxed);
    let msg = RunnerMessage {
        kind: Some(runner_message::Kind::Callback(Callback {
            id,
            kind: Some(kind),
        })),
    };
    link.out.send(msg).map_err(|_| CoreError::Disconnected)?;
    loop {
        let reply = replies
            .recv_timeout(CALLBACK_DEADLINE)
            .map_err(|_| CoreError::Disconnected)?;
        if reply.id == id {
            return Ok(reply);
        }
        tracing::warn!(got = reply.id, want = id, "dropping stale callback reply");
    }
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
    if direct() {
        // Outside a call (a plugin thread) there is no job to log to.
        with_current(|d| d.log(kind));
        return Ok(());
    }
    let link = LINK.get().ok_or(CoreError::Unset)?;
    let msg = RunnerMessage {
        kind: Some(runner_message::Kind::Log(Log { kind: Some(kind) })),
    };
    link.out.send(msg).map_err(|_| CoreError::Disconnected)
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
