//! Job state python3-fd keeps itself rather than asking the core: the level
//! and since time from `bEventLevel`/`bEventSince` (the plugin may override
//! the since time) and the "check changes" flag. A runner hosts exactly one
//! plugin instance, so the store is process-wide; the dispatcher reads it for
//! the automatic change check after `start_backup_file`.

use std::cell::Cell;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU32, Ordering};

/// No level seen yet.
const NO_LEVEL: i64 = -1;

static LEVEL: AtomicI64 = AtomicI64::new(NO_LEVEL);
static SINCE: AtomicI64 = AtomicI64::new(0);
static CHECK_CHANGES: AtomicBool = AtomicBool::new(true);

/// In-process hosting (the benchmark's python3-fd stand-in) runs one plugin
/// instance per job thread: then level, since and check-changes are per
/// thread (`set_per_thread`).
static PER_THREAD: AtomicBool = AtomicBool::new(false);

thread_local! {
    static LOCAL: Cell<(i64, i64, bool)> = const { Cell::new((NO_LEVEL, 0, true)) };
}

/// Keeps the state per thread from now on (in-process hosting).
pub fn set_per_thread(on: bool) {
    PER_THREAD.store(on, Ordering::SeqCst);
}

fn per_thread() -> bool {
    PER_THREAD.load(Ordering::Relaxed)
}

/// Forgets this thread's state (a new job on the thread).
pub fn reset_thread() {
    LOCAL.with(|l| l.set((NO_LEVEL, 0, true)));
}

/// Events the plugin registered with RegisterEvents (bit n = event n).
static EVENTS: AtomicU32 = AtomicU32::new(0);

/// Remembers the level of `bEventLevel` (a character code such as `b'I'`).
pub fn set_level(level: i64) {
    if per_thread() {
        return LOCAL.with(|l| l.set((level, l.get().1, l.get().2)));
    }
    LEVEL.store(level, Ordering::SeqCst);
}

/// The remembered level as its character code (python3-fd casts it to a C
/// `char`), `None` before `bEventLevel`.
pub fn level() -> Option<u8> {
    let level = if per_thread() {
        LOCAL.with(|l| l.get().0)
    } else {
        LEVEL.load(Ordering::SeqCst)
    };
    match level {
        NO_LEVEL => None,
        l => Some(l as u8),
    }
}

/// Sets python3-fd's own since time (`bEventSince`, `SetValue(bVarSinceTime)`).
pub fn set_since(t: i64) {
    if per_thread() {
        return LOCAL.with(|l| l.set((l.get().0, t, l.get().2)));
    }
    SINCE.store(t, Ordering::SeqCst);
}

/// The since time `GetValue(bVarSinceTime)` reports; 0 until one is known.
pub fn since() -> i64 {
    if per_thread() {
        return LOCAL.with(|l| l.get().1);
    }
    SINCE.load(Ordering::SeqCst)
}

/// Whether the automatic change check after `start_backup_file` runs.
pub fn check_changes() -> bool {
    if per_thread() {
        return LOCAL.with(|l| l.get().2);
    }
    CHECK_CHANGES.load(Ordering::SeqCst)
}

/// `SetValue(bVarCheckChanges, v)`: only `v is True` enables (the caller
/// decides that).
pub(super) fn set_check_changes(on: bool) {
    if per_thread() {
        return LOCAL.with(|l| l.set((l.get().0, l.get().1, on)));
    }
    CHECK_CHANGES.store(on, Ordering::SeqCst);
}

/// Remembers a RegisterEvents/UnRegisterEvents of event `ev` (1..=31).
pub(super) fn set_registered(ev: u32, on: bool) {
    if ev < 32 {
        if on {
            EVENTS.fetch_or(1 << ev, Ordering::SeqCst);
        } else {
            EVENTS.fetch_and(!(1 << ev), Ordering::SeqCst);
        }
    }
}

/// Did the plugin register event `ev`?
pub fn registered(ev: u32) -> bool {
    ev < 32 && EVENTS.load(Ordering::SeqCst) & (1 << ev) != 0
}
