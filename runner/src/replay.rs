//! `sidecar-runner replay FILE [--pdb] [--debugpy [HOST\:]PORT]`: runs the
//! plugin module of a recorded session (`recording`) against the recording,
//! with no daemon at all. The recorded calls are made again; the core
//! functions the plugin calls are answered from the recording; the first
//! difference between what the plugin does now and what it did then (a
//! different result, a core function it did not call then or calls with
//! other arguments, different data) is reported with both sides. A
//! production failure can so be stepped through on a laptop.

use std::ffi::OsString;
use std::path::PathBuf;
use std::process::ExitCode;

use pyo3::prelude::*;
use sidecar_proto::recording::Entry;
use sidecar_proto::{CallResult, CallbackReply, Log, call, call_result, callback, log};

use crate::core::{self, Direct};
use crate::daemon::{self, Daemon};
use crate::dispatcher::Dispatcher;
use crate::embedding::{self, Mode};
use crate::recording;

const USAGE: &str = "usage: sidecar-runner replay FILE [--pdb] [--debugpy [HOST\\:]PORT]\n\
\n\
Replays a session recorded with sidecar.record=FILE: the plugin module runs\n\
again, the daemon's side comes from the recording, and the first difference\n\
is reported. --pdb stops in pdb at the plugin's first line; --debugpy waits\n\
for a DAP client before the plugin is imported.";

struct Options {
    file: PathBuf,
    pdb: bool,
    debugpy: Option<String>,
}

fn parse(mut args: impl Iterator<Item = OsString>) -> Result<Options, String> {
    let mut file = None;
    let mut pdb = false;
    let mut debugpy = None;
    while let Some(a) = args.next() {
        match a.to_str() {
            Some("--pdb") => pdb = true,
            Some("--debugpy") => {
                debugpy = Some(
                    args.next()
                        .and_then(|p| p.into_string().ok())
                        .ok_or("--debugpy needs [HOST:]PORT")?,
                )
            }
            Some("-h" | "--help") => return Err(String::new()),
            Some(s) if s.starts_with('-') => return Err(format!("unknown option {s}")),
            _ => file = Some(PathBuf::from(a)),
        }
    }
    Ok(Options {
        file: file.ok_or("FILE is required")?,
        pdb,
        debugpy,
    })
}

pub fn main(args: impl Iterator<Item = OsString>) -> ExitCode {
    let options = match parse(args) {
        Ok(o) => o,
        Err(e) => {
            if !e.is_empty() {
                eprintln!("sidecar-runner replay: {e}");
            }
            eprintln!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    match run(&options) {
        Ok(None) => ExitCode::SUCCESS,
        Ok(Some(difference)) => {
            println!("replay: {difference}");
            ExitCode::from(1)
        }
        Err(e) => {
            eprintln!("sidecar-runner replay: {e}");
            ExitCode::from(2)
        }
    }
}

/// Replays `options.file`; `Some` is the first difference.
fn run(options: &Options) -> Result<Option<String>, String> {
    let path = &options.file;
    let entries = recording::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let Some(Entry::Hello(hello)) = entries.first() else {
        return Err(format!(
            "{} is not a recording (no Hello first)",
            path.display()
        ));
    };
    let daemon = Daemon::from_hello(&hello.daemon, hello.plugin_api_version)
        .ok_or_else(|| format!("recorded for an unknown daemon {:?}", hello.daemon))?;
    daemon::register_modules();
    embedding::initialize(Mode::Plugin)?;
    daemon::set_served(daemon);
    core::enable_direct();
    if !hello.module_dir.is_empty() {
        crate::plugin::set_default_module_dir(hello.module_dir.clone());
    }
    if let Some(listen) = &options.debugpy {
        crate::debugger::configure(listen, 300.0).map_err(|e| format!("--debugpy: {e}"))?;
    }
    println!(
        "replay: {} ({} entries, recorded from {} interface {}) with Python {}",
        path.display(),
        entries.len(),
        daemon.name(),
        hello.plugin_api_version,
        embedding::describe()
    );
    Python::with_gil(|py| {
        if options.pdb {
            stop_at_the_plugins_first_line(py).map_err(|e| e.to_string())?;
        }
        Ok(replay(py, &entries[1..]))
    })
}

/// The daemon's side, from the recording.
struct Script<'a> {
    entries: &'a [Entry],
    pos: usize,
    difference: Option<String>,
    callbacks: usize,
}

impl Script<'_> {
    /// The next entry that is not a message (messages are shown, not
    /// compared: they may carry times and process ids).
    fn next(&mut self) -> Option<&Entry> {
        while let Some(Entry::Log(_)) = self.entries.get(self.pos) {
            self.pos += 1;
        }
        self.entries.get(self.pos)
    }

    fn differ(&mut self, what: String) {
        self.difference.get_or_insert(what);
    }
}

impl Direct for Script<'_> {
    fn callback(&mut self, kind: callback::Kind) -> CallbackReply {
        let refused = CallbackReply {
            rc: 2,
            ..Default::default()
        };
        if self.difference.is_some() {
            return refused;
        }
        let now = short(&kind);
        match self.next().cloned() {
            Some(Entry::Callback(cb)) if cb.kind.as_ref() == Some(&kind) => {
                self.pos += 1;
                self.callbacks += 1;
                match self.next().cloned() {
                    Some(Entry::Reply(reply)) => {
                        self.pos += 1;
                        reply
                    }
                    other => {
                        self.differ(format!(
                            "the recording has no answer to {now} (next: {})",
                            describe(other.as_ref())
                        ));
                        refused
                    }
                }
            }
            Some(Entry::Callback(cb)) => {
                let then = cb.kind.as_ref().map_or("nothing".into(), short);
                self.differ(format!(
                    "the plugin called a core function differently\n  then: {then}\n  now:  {now}"
                ));
                refused
            }
            other => {
                self.differ(format!(
                    "the plugin called {now}, which it did not call then\n  then, next: {}",
                    describe(other.as_ref())
                ));
                refused
            }
        }
    }

    fn log(&mut self, kind: log::Kind) {
        let text = match &kind {
            log::Kind::Job(m) => format!("job message (type {}): {}", m.r#type, lossy(&m.text)),
            log::Kind::Debug(m) => format!("debug {}: {}", m.level, lossy(&m.text)),
        };
        println!("replay: {}", text.trim_end());
    }
}

/// Makes every recorded call again; `Some` is the first difference.
fn replay(py: Python<'_>, entries: &[Entry]) -> Option<String> {
    let mut script = Script {
        entries,
        pos: 0,
        difference: None,
        callbacks: 0,
    };
    let mut dispatcher: Option<Dispatcher> = None;
    let mut calls = 0;
    loop {
        let entry = match script.next() {
            None => break,
            Some(e) => e.clone(),
        };
        script.pos += 1;
        let call = match entry {
            Entry::Call(c) => c,
            Entry::Clock(t) => {
                recording::pin_clock(t);
                continue;
            }
            Entry::Truncated(why) => {
                println!("replay: the recording ends here: {why}");
                break;
            }
            other => {
                return Some(format!(
                    "the plugin made no core function call where the recording has {}",
                    describe(Some(&other))
                ));
            }
        };
        let Some(mut kind) = call.kind.clone() else {
            continue;
        };
        let name = call_name(&kind);
        feed_hashed_data(&mut kind);
        let dispatcher = dispatcher.get_or_insert_with(|| Dispatcher::new(py));
        let (rc, payload) = core::with_direct(&mut script, || dispatcher.dispatch(py, kind));
        calls += 1;
        if let Some(d) = script.difference.take() {
            return Some(format!("in call {calls} ({name}): {d}"));
        }
        let now = CallResult {
            id: call.id,
            rc,
            payload,
        };
        match script.next().cloned() {
            Some(Entry::Result(then)) => {
                script.pos += 1;
                let (then_s, now_s) = (comparable(&then, &then), comparable(&now, &then));
                if then_s != now_s {
                    return Some(format!(
                        "in call {calls} ({name}) the result differs\n  then: {}\n  now:  {}",
                        cut(&then_s),
                        cut(&now_s)
                    ));
                }
            }
            Some(Entry::Callback(cb)) => {
                let then = cb.kind.as_ref().map_or("nothing".into(), short);
                return Some(format!(
                    "in call {calls} ({name}) the plugin returned without calling {then}, as it did then"
                ));
            }
            other => {
                return Some(format!(
                    "the recording has no result for call {calls} ({name}): {}",
                    describe(other.as_ref())
                ));
            }
        }
    }
    println!(
        "replay: {calls} calls and {} core function calls replayed, no difference",
        script.callbacks
    );
    None
}

/// IO_WRITE data recorded as a hash only: the plugin gets zeros of the
/// recorded length (the data itself was not kept).
fn feed_hashed_data(kind: &mut call::Kind) {
    if let call::Kind::PluginIo(io) = kind
        && io.buf_hash.take().is_some()
    {
        io.buf = vec![0; io.count.max(0) as usize];
    }
}

/// A result as it can be compared across runs: descriptor numbers and
/// tokens differ by nature (only whether there is one counts), and data is
/// compared as it was recorded (in full, or length and hash).
fn comparable(r: &CallResult, recorded: &CallResult) -> String {
    let mut r = r.clone();
    r.id = 0;
    if let Some(call_result::Payload::Io(io)) = &mut r.payload {
        io.filedes = i32::from(io.filedes >= 0);
        io.fd_token = u64::from(io.fd_token != 0);
        let hashed = matches!(
            &recorded.payload,
            Some(call_result::Payload::Io(then)) if then.buf_hash.is_some()
        );
        if hashed && io.buf_hash.is_none() && !io.buf.is_empty() {
            io.buf_hash = Some(recording::fnv1a(&io.buf));
            io.buf_len = io.buf.len() as u32;
            io.buf = Vec::new();
        }
    }
    if let Some(call_result::Payload::Create(c)) = &mut r.payload {
        c.filedes = i32::from(c.filedes >= 0);
        c.fd_token = u64::from(c.fd_token != 0);
    }
    readable(&format!("{r:?}"))
}

/// Debug output with byte lists (`[47, 97]`) shown as the text they hold
/// (`b"/a"`) when they are printable, so a difference in a file name reads
/// as one.
fn readable(debug: &str) -> String {
    let mut out = String::with_capacity(debug.len());
    let mut rest = debug;
    while let Some(start) = rest.find('[') {
        out.push_str(&rest[..start]);
        let tail = &rest[start..];
        let end = tail.find(']').unwrap_or(0);
        let bytes: Option<Vec<u8>> = (end > 1)
            .then(|| {
                tail[1..end]
                    .split(", ")
                    .map(|n| n.parse::<u8>().ok())
                    .collect()
            })
            .flatten();
        match bytes.filter(|b| b.len() > 1 && b.iter().all(|&c| (0x20..0x7f).contains(&c))) {
            Some(b) => {
                out.push_str(&format!("b{:?}", String::from_utf8_lossy(&b)));
                rest = &tail[end + 1..];
            }
            None => {
                out.push('[');
                rest = &tail[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

fn cut(s: &str) -> String {
    if s.len() > 2000 {
        format!("{}... ({} bytes)", &s[..2000], s.len())
    } else {
        s.to_string()
    }
}

fn lossy(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn short(kind: &callback::Kind) -> String {
    cut(&format!("{kind:?}"))
}

fn call_name(kind: &call::Kind) -> String {
    format!("{kind:?}")
        .split('(')
        .next()
        .unwrap_or("call")
        .to_string()
}

fn describe(entry: Option<&Entry>) -> String {
    match entry {
        None => "the end of the recording".into(),
        Some(Entry::Call(c)) => format!(
            "the next call, {}",
            c.kind.as_ref().map_or("?".into(), call_name)
        ),
        Some(Entry::Result(r)) => format!("the call's result (rc {})", r.rc),
        Some(Entry::Callback(cb)) => format!(
            "a core function call, {}",
            cb.kind.as_ref().map_or("?".into(), short)
        ),
        Some(Entry::Reply(_)) => "a core function's answer".into(),
        Some(Entry::Log(Log { .. })) => "a message".into(),
        Some(Entry::Hello(_)) => "a second Hello".into(),
        Some(Entry::Truncated(t)) => format!("the truncation ({t})"),
        Some(Entry::Clock(_)) => "the next call".into(),
    }
}

/// `--pdb`: pdb takes over at the first Python frame outside the standard
/// library and site-packages, i.e. the plugin's own code.
fn stop_at_the_plugins_first_line(py: Python<'_>) -> PyResult<()> {
    let code = c"
import sys, pdb, sysconfig
_lib = tuple({sysconfig.get_paths()[k] for k in ('stdlib', 'platstdlib', 'purelib', 'platlib')})
def _sidecar_first_plugin_frame(frame, event, arg):
    name = frame.f_code.co_filename
    if event == 'call' and not name.startswith(_lib) and not name.startswith('<'):
        sys.settrace(None)
        pdb.Pdb().set_trace(frame)
    return None
sys.settrace(_sidecar_first_plugin_frame)
";
    py.run(code, None, None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn byte_lists_read_as_text() {
        assert_eq!(
            readable("fname: Some([47, 97]), flags: [0, 64], x: []"),
            "fname: Some(b\"/a\"), flags: [0, 64], x: []"
        );
    }

    #[test]
    fn options() {
        let args = |v: &[&str]| v.iter().map(OsString::from).collect::<Vec<_>>().into_iter();
        let o = parse(args(&["rec", "--pdb"])).unwrap();
        assert_eq!(o.file, PathBuf::from("rec"));
        assert!(o.pdb);
        assert!(parse(args(&["--pdb"])).is_err());
        assert!(parse(args(&["rec", "--debugpy"])).is_err());
    }
}
