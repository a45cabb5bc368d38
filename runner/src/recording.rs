//! `sidecar.record=FILE` (allowed by the client's sidecar.toml): the runner
//! writes its whole session down, so a production failure can be replayed
//! on a laptop with no daemon at all (`replay`). Every call from the core
//! with its arguments, every core function the plugin called with the
//! answer it got, every result and every message, in order, as `Recording`
//! frames (see the .proto file). plugin_io data is recorded in full or, with
//! `sidecar.record_data=hash`, as its length and hash. Plugin strings are
//! recorded with the values of secret-looking keys replaced, and the file
//! stops growing at [`MAX_BYTES`] (its last entry then says so).

use std::fs::File;
use std::io::{self, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::{Mutex, OnceLock};

use sidecar_proto::frames;
use sidecar_proto::{
    Call, CallResult, Callback, CallbackReply, Hello, Log, Recording, call, call_result, event,
    recording,
};

/// The most a recording may grow to.
pub const MAX_BYTES: u64 = 256 << 20;

/// Keys whose values never go into a recording.
const SECRET_KEYS: [&str; 5] = ["pass", "secret", "token", "key", "credential"];

struct Recorder {
    file: Mutex<Option<(File, u64)>>,
    hash_only: bool,
}

static RECORDER: OnceLock<Recorder> = OnceLock::new();
static ACTIVE: AtomicBool = AtomicBool::new(false);

/// 0: not pinned; else the unix time new StatPackets default to.
static CLOCK: AtomicI64 = AtomicI64::new(0);

/// The pinned time, if a recording or replay pinned one.
pub fn pinned_clock() -> Option<i64> {
    match CLOCK.load(Ordering::Relaxed) {
        0 => None,
        t => Some(t),
    }
}

/// Pins the clock for the call that follows (`replay`).
pub fn pin_clock(t: i64) {
    CLOCK.store(t, Ordering::Relaxed);
}

/// Starts recording as the Hello says (nothing if it names no file).
pub(crate) fn start(hello: &Hello) -> io::Result<()> {
    if hello.record_path.is_empty() {
        return Ok(());
    }
    let file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&hello.record_path)
        .map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", hello.record_path)))?;
    let _ = RECORDER.set(Recorder {
        file: Mutex::new(Some((file, 0))),
        hash_only: hello.record_hash_only,
    });
    ACTIVE.store(true, Ordering::SeqCst);
    write(recording::Entry::Hello(hello.clone()));
    Ok(())
}

/// Is a recording being made? (Callers skip building entries otherwise.)
pub fn active() -> bool {
    ACTIVE.load(Ordering::Relaxed)
}

pub(crate) fn call(c: &Call) {
    if !active() {
        return;
    }
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(1, |d| d.as_secs() as i64);
    pin_clock(now);
    write(recording::Entry::Clock(now));
    let mut c = c.clone();
    if let Some(kind) = &mut c.kind {
        redact_call(kind);
        if let call::Kind::PluginIo(io) = kind
            && hash_only()
            && !io.buf.is_empty()
        {
            io.buf_hash = Some(fnv1a(&io.buf));
            io.buf = Vec::new();
        }
    }
    write(recording::Entry::Call(c));
}

/// A call's result; `read_data` is IO_READ data that went through the I/O
/// area instead of the message.
pub(crate) fn result(r: &CallResult, read_data: Option<&[u8]>) {
    if !active() {
        return;
    }
    let mut r = r.clone();
    if let Some(call_result::Payload::Io(io)) = &mut r.payload {
        if let (Some(data), Some(_)) = (read_data, io.area_len.take()) {
            io.buf = data.to_vec();
        }
        if hash_only() && !io.buf.is_empty() {
            io.buf_hash = Some(fnv1a(&io.buf));
            io.buf_len = io.buf.len() as u32;
            io.buf = Vec::new();
        }
    }
    write(recording::Entry::Result(r));
}

pub(crate) fn callback(cb: &Callback) {
    if active() {
        write(recording::Entry::Callback(cb.clone()));
    }
}

pub(crate) fn reply(r: &CallbackReply) {
    if active() {
        write(recording::Entry::Reply(r.clone()));
    }
}

pub(crate) fn log(l: &Log) {
    if active() {
        write(recording::Entry::Log(l.clone()));
    }
}

fn hash_only() -> bool {
    RECORDER.get().is_some_and(|r| r.hash_only)
}

fn write(entry: recording::Entry) {
    let Some(rec) = RECORDER.get() else { return };
    let mut guard = rec.file.lock().unwrap_or_else(|e| e.into_inner());
    let Some((file, written)) = guard.as_mut() else {
        return;
    };
    let frame = frames::encode(&Recording { entry: Some(entry) });
    let full = *written + frame.len() as u64 > MAX_BYTES;
    let frame = if full {
        frames::encode(&Recording {
            entry: Some(recording::Entry::Truncated(format!(
                "the recording reached its limit of {MAX_BYTES} bytes"
            ))),
        })
    } else {
        frame
    };
    let ok = file.write_all(&frame).is_ok();
    *written += frame.len() as u64;
    if full || !ok {
        if !ok {
            tracing::warn!("the recording could not be written; it stops here");
        }
        *guard = None;
        ACTIVE.store(false, Ordering::SeqCst);
    }
}

/// FNV-1a (64 bit): a stable hash of plugin_io data for `record_data=hash`.
pub fn fnv1a(data: &[u8]) -> u64 {
    data.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// The plugin strings a call carries, with secret values replaced.
fn redact_call(kind: &mut call::Kind) {
    match kind {
        call::Kind::HandlePluginEvent(e) => match &mut e.value {
            Some(event::Value::Text(t)) => *t = redact(t),
            Some(event::Value::RestoreObject(ro)) => {
                if let Some(name) = &mut ro.plugin_name {
                    *name = redact(name);
                }
            }
            Some(event::Value::Save(sp)) => {
                if let Some(cmd) = &mut sp.cmd {
                    *cmd = redact(cmd);
                }
            }
            _ => {}
        },
        call::Kind::StartBackupFile(req) => req.cmd = redact(&req.cmd),
        call::Kind::StartRestoreFile(cmd) => *cmd = redact(cmd),
        _ => {}
    }
}

/// `name:key=value:...` with the value of every key that looks like a
/// secret replaced by `***` (`\:` escapes a colon, as in python3-fd).
pub fn redact(text: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(text.len());
    let mut rest = text;
    while !rest.is_empty() {
        let end = (0..rest.len())
            .find(|&i| rest[i] == b':' && (i == 0 || rest[i - 1] != b'\\'))
            .unwrap_or(rest.len());
        let item = &rest[..end];
        match item.iter().position(|&b| b == b'=') {
            Some(eq) if is_secret(&item[..eq]) => {
                out.extend_from_slice(&item[..=eq]);
                out.extend_from_slice(b"***");
            }
            _ => out.extend_from_slice(item),
        }
        if end < rest.len() {
            out.push(b':');
            rest = &rest[end + 1..];
        } else {
            rest = &[];
        }
    }
    out
}

fn is_secret(key: &[u8]) -> bool {
    let key = String::from_utf8_lossy(key).to_ascii_lowercase();
    SECRET_KEYS.iter().any(|s| key.contains(s))
}

/// Reads a recording back, entry by entry.
pub fn read(path: &std::path::Path) -> io::Result<Vec<recording::Entry>> {
    let bytes = std::fs::read(path)?;
    let mut decoder = frames::Decoder::default();
    decoder.feed(&bytes);
    let mut entries = Vec::new();
    while let Some(r) = decoder.decode::<Recording>()? {
        if let Some(e) = r.entry {
            entries.push(e);
        }
    }
    Ok(entries)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_redacted_and_the_rest_kept() {
        let s = redact(b"python3:module_name=m:password=hunter2:user=bob:api_key=x\\:y:path=/a");
        assert_eq!(
            String::from_utf8(s).unwrap(),
            "python3:module_name=m:password=***:user=bob:api_key=***:path=/a"
        );
    }

    #[test]
    fn the_hash_is_fnv1a() {
        assert_eq!(fnv1a(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a(b"a"), 0xaf63_dc4c_8601_ec8c);
    }
}
