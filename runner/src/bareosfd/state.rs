//! Job state python3-fd keeps itself rather than asking the core: the level
//! and since time from `bEventLevel`/`bEventSince` (the plugin may override
//! the since time) and the "check changes" flag. A runner hosts exactly one
//! plugin instance, so the store is process-wide; the dispatcher reads it for
//! the automatic change check after `start_backup_file`.

use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};

/// No level seen yet.
const NO_LEVEL: i64 = -1;

static LEVEL: AtomicI64 = AtomicI64::new(NO_LEVEL);
static SINCE: AtomicI64 = AtomicI64::new(0);
static CHECK_CHANGES: AtomicBool = AtomicBool::new(true);

/// Remembers the level of `bEventLevel` (a character code such as `b'I'`).
pub fn set_level(level: i64) {
    LEVEL.store(level, Ordering::SeqCst);
}

/// The remembered level as its character code (python3-fd casts it to a C
/// `char`), `None` before `bEventLevel`.
pub fn level() -> Option<u8> {
    match LEVEL.load(Ordering::SeqCst) {
        NO_LEVEL => None,
        l => Some(l as u8),
    }
}

/// Sets python3-fd's own since time (`bEventSince`, `SetValue(bVarSinceTime)`).
pub fn set_since(t: i64) {
    SINCE.store(t, Ordering::SeqCst);
}

/// The since time `GetValue(bVarSinceTime)` reports; 0 until one is known.
pub fn since() -> i64 {
    SINCE.load(Ordering::SeqCst)
}

/// Whether the automatic change check after `start_backup_file` runs.
pub fn check_changes() -> bool {
    CHECK_CHANGES.load(Ordering::SeqCst)
}

/// `SetValue(bVarCheckChanges, v)`: only `v is True` enables (the caller
/// decides that).
pub(super) fn set_check_changes(on: bool) {
    CHECK_CHANGES.store(on, Ordering::SeqCst);
}
