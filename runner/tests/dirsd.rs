//! `bareosdir`, `bareossd` and the director's and storage daemon's
//! dispatcher (dir-sd-api §4.4–§5) against a fake core: the runner's direct
//! link, through which each call's core functions are answered right here
//! on the calling thread, the way the shim answers them over the session.

use std::collections::HashMap;
use std::ffi::CString;
use std::sync::{Mutex, MutexGuard, Once};

use pyo3::prelude::*;
use pyo3::types::PyDict;
use sidecar_proto::callback_reply::Value;
use sidecar_proto::{CallbackReply, call, callback, event, log};
use sidecar_runner::daemon::{self, Daemon};
use sidecar_runner::dirsd_plugin::DirSdPlugin;
use sidecar_runner::{core, embedding, plugin};

const PLUGINS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../python/tests/plugins");
const DEFAULT_DIR: &str = "/nonexistent/sidecar-default-module-dir";
/// Where Bareos installs its shipped Python plugins on this machine.
const BAREOS_PLUGINS: &str = "/opt/bareos/lib/bareos/plugins";

/// One scenario at a time: the plugin modules live in the one interpreter.
fn start() -> MutexGuard<'static, ()> {
    static INIT: Once = Once::new();
    static SERIAL: Mutex<()> = Mutex::new(());
    INIT.call_once(|| {
        daemon::register_modules();
        core::enable_direct();
        plugin::set_default_module_dir(DEFAULT_DIR.into());
        embedding::initialize(embedding::Mode::Plugin).expect("python starts");
    });
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}

#[derive(Clone, Debug, PartialEq)]
#[allow(clippy::large_enum_variant)]
enum Seen {
    Job(i32, String),
    Debug(i32, String),
    Callback(callback::Kind),
}

/// The daemon's side: answers GetValue from `values`, fails the
/// registration of the events in `refuse`, counts 3 instances, records
/// everything.
#[derive(Default)]
struct Fake {
    values: HashMap<i32, (i32, Option<Value>)>,
    refuse: Vec<u32>,
    seen: Vec<Seen>,
}

impl core::Direct for Fake {
    fn callback(&mut self, kind: callback::Kind) -> CallbackReply {
        self.seen.push(Seen::Callback(kind.clone()));
        let mut reply = CallbackReply::default();
        match kind {
            callback::Kind::GetValue(v) => match self.values.get(&v) {
                Some((rc, value)) => {
                    reply.rc = *rc;
                    reply.value = value.clone();
                }
                None => reply.rc = 2,
            },
            callback::Kind::RegisterEvents(e) if self.refuse.contains(&e.events[0]) => reply.rc = 2,
            callback::Kind::GetInstanceCount(_) => reply.value = Some(Value::Number(3)),
            _ => {}
        }
        reply
    }

    fn log(&mut self, kind: log::Kind) {
        self.seen.push(match kind {
            log::Kind::Job(j) => Seen::Job(j.r#type, String::from_utf8_lossy(&j.text).into()),
            log::Kind::Debug(d) => Seen::Debug(d.level, String::from_utf8_lossy(&d.text).into()),
        });
    }
}

impl Fake {
    fn with_values(values: &[(i32, Value)]) -> Fake {
        Fake {
            values: values
                .iter()
                .cloned()
                .map(|(v, x)| (v, (0, Some(x))))
                .collect(),
            ..Default::default()
        }
    }

    fn take(&mut self) -> Vec<Seen> {
        std::mem::take(&mut self.seen)
    }

    fn jobs(&self) -> Vec<(i32, String)> {
        self.seen
            .iter()
            .filter_map(|s| match s {
                Seen::Job(t, m) => Some((*t, m.clone())),
                _ => None,
            })
            .collect()
    }

    fn callbacks(&self) -> Vec<callback::Kind> {
        self.seen
            .iter()
            .filter_map(|s| match s {
                Seen::Callback(k) => Some(k.clone()),
                _ => None,
            })
            .collect()
    }
}

fn text(s: &str) -> Value {
    Value::Text(s.as_bytes().to_vec())
}

fn register(e: u32) -> callback::Kind {
    callback::Kind::RegisterEvents(sidecar_proto::Events { events: vec![e] })
}

fn run_in(py: Python<'_>, g: &Bound<'_, PyDict>, code: &str) {
    let code = CString::new(code).expect("no NUL in test code");
    if let Err(e) = py.run(&code, Some(g), None) {
        let tb = e
            .traceback(py)
            .and_then(|t| t.format().ok())
            .unwrap_or_default();
        panic!("python failed: {tb}{e}");
    }
}

const HELPERS: &str = r#"
import bareosdir as d, bareossd as s
def raises(exc, f, *args, cause=None):
    try:
        f(*args)
    except exc as e:
        if cause is not None:
            assert type(e.__cause__) is cause[0], repr(e.__cause__)
            assert cause[1] in str(e.__cause__), str(e.__cause__)
        return e
    raise AssertionError(f"{f.__name__}{args} did not raise {exc.__name__}")
"#;

/// Runs Python code as if inside a daemon call served by `fake`.
fn in_call(fake: &mut Fake, code: &str) {
    core::with_direct(fake, || {
        Python::with_gil(|py| {
            let g = PyDict::new(py);
            run_in(py, &g, HELPERS);
            run_in(py, &g, code);
        })
    });
}

#[test]
fn director_functions_inside_a_call() {
    let _serial = start();
    let mut fake = Fake::with_values(&[
        (4, Value::Number(42)),
        (2, Value::Number(70)),
        (26, Value::Bits(u64::MAX)),
        (19, Value::Number(7)),
        (13, text("backup.2026-01-01_00.00.00_01")),
        (5, Value::Text(vec![b'c', 0xff])),
    ]);
    fake.values.insert(8, (2, None));
    fake.values.insert(10, (0, None));
    fake.refuse = vec![7];
    in_call(
        &mut fake,
        r#"
assert d.GetValue(d.bDirVarJobId) == 42
assert d.GetValue(d.bDirVarLevel) == ord("F")
assert d.GetValue(d.bDirVarJobBytes) == 2**64 - 1
assert d.GetValue(d.bDirVarJobFiles) == 7
assert d.GetValue(d.bDirVarJobName) == "backup.2026-01-01_00.00.00_01"
assert d.GetValue(d.bDirVarStorage) is None
assert d.GetValue(d.bDirVarReadStorage) is None
assert d.GetValue(d.bDirVarCatalogRes) is None
assert d.GetValue(99) is None
raises(SystemError, d.GetValue, d.bDirVarClient, cause=(UnicodeDecodeError, "utf-8"))

assert d.SetValue(d.bwDirVarJobReport, "ignored") == 0
assert d.SetValue(d.bwDirVarVolumeName, "Vol-0001") == 0
raises(SystemError, d.SetValue, d.bwDirVarVolumeName, 5, cause=(TypeError, "bad argument type"))
assert d.SetValue(d.bwDirVarPriority, 10) == 0
assert d.SetValue(d.bwDirVarJobLevel, -1) == 2
raises(SystemError, d.SetValue, d.bwDirVarJobLevel, "F", cause=(TypeError, "'str' object"))
assert d.SetValue(99, 1) == 2

assert d.RegisterEvents([0, d.bDirEventJobStart, d.bDirEventNewPluginOptions, 2, 10, 99]) == 0
assert d.RegisterEvents([d.bDirEventNewPluginOptions, 0]) == 2
assert d.RegisterEvents(range(3, 5)) == 0
raises(SystemError, d.RegisterEvents, ["x", 5], cause=(TypeError, "'str' object"))
raises(SystemError, d.RegisterEvents, 5, cause=(TypeError, "Expected a sequence of events"))
assert d.RegisterEvents([6, 7, 8]) == 2
assert d.UnRegisterEvents([1, 11]) == 0
assert d.UnRegisterEvents([]) == 2

assert d.GetInstanceCount() == 3
d.DebugMessage(200, "dbg")
d.DebugMessage(200)
d.JobMessage(d.M_WARNING, "careful")
d.JobMessage(d.M_INFO, None)
"#,
    );
    let number = |var, n| {
        callback::Kind::SetValue(sidecar_proto::SetValue {
            var,
            value: Some(sidecar_proto::set_value::Value::Number(n)),
        })
    };
    let gets: Vec<i32> = fake
        .callbacks()
        .iter()
        .filter_map(|k| match k {
            callback::Kind::GetValue(v) => Some(*v),
            _ => None,
        })
        .collect();
    // CatalogRes and unknown numbers are not asked for.
    assert_eq!(gets, [4, 2, 26, 19, 13, 8, 10, 5]);
    let others: Vec<callback::Kind> = fake
        .callbacks()
        .into_iter()
        .filter(|k| !matches!(k, callback::Kind::GetValue(_)))
        .collect();
    assert_eq!(
        others,
        [
            callback::Kind::SetValue(sidecar_proto::SetValue {
                var: 2,
                value: Some(sidecar_proto::set_value::Value::Text(b"Vol-0001".to_vec())),
            }),
            number(3, 10),
            register(1),
            register(2),
            register(10),
            register(3),
            register(4),
            register(5),
            register(6),
            register(7),
            callback::Kind::UnregisterEvents(sidecar_proto::Events { events: vec![1] }),
            callback::Kind::GetInstanceCount(sidecar_proto::Empty {}),
        ]
    );
    assert_eq!(fake.jobs(), [(5, "careful\n".to_string())]);
    let debug: Vec<Seen> = fake
        .seen
        .iter()
        .filter(|s| matches!(s, Seen::Debug(..)))
        .cloned()
        .collect();
    let note = |t: &str| Seen::Debug(100, format!("{t}\n"));
    assert!(debug.contains(&note("PyBareosGetValue unknown variable requested 17")));
    assert!(debug.contains(&note("PyBareosGetValue unknown variable requested 99")));
    assert!(debug.contains(&note("PyBareosSetValue unknown variable requested 99")));
    assert!(debug.contains(&note("PyBareosRegisterEvents registering event 10")));
    assert!(debug.contains(&note("PyBareosUnRegisterEvents: unregistering event 1")));
    assert!(debug.contains(&Seen::Debug(200, "dbg\n".into())));
    assert_eq!(
        debug
            .iter()
            .filter(|s| matches!(s, Seen::Debug(200, _)))
            .count(),
        1
    );
}

#[test]
fn storage_daemon_functions_inside_a_call() {
    let _serial = start();
    let mut fake = Fake::with_values(&[
        (14, Value::Bits(12)),
        (15, Value::Bits(1 << 40)),
        (11, Value::Number(i64::from(b'R'))),
        (7, text("Backup")),
        (16, text("/usr/lib/bareos/plugins")),
    ]);
    in_call(
        &mut fake,
        r#"
assert s.GetValue(s.bsdVarJobFiles) == 12
assert s.GetValue(s.bsdVarJobBytes) == 2**40
assert chr(s.GetValue(s.bsdVarJobStatus)) == "R"
assert s.GetValue(s.bsdVarPoolType) == "Backup"
assert s.GetValue(s.bsdVarPluginDir) == "/usr/lib/bareos/plugins"
assert s.GetValue(s.bsdVarVolumeName) is None
assert s.GetValue(17) is None
assert s.RegisterEvents([s.bsdEventNewPluginOptions, s.bsdEventChangerUnlock, 25, 0]) == 0
assert s.SetValue(s.bsdwVarVolumeName, "a\0b") == 0
assert s.SetValue(s.bsdwVarJobLevel, ord("I")) == 0
s.JobMessage(s.M_INFO, "sd says hi")
"#,
    );
    let callbacks = fake.callbacks();
    assert_eq!(
        callbacks[callbacks.len() - 4..],
        [
            register(22),
            register(24),
            callback::Kind::SetValue(sidecar_proto::SetValue {
                var: 2,
                value: Some(sidecar_proto::set_value::Value::Text(b"a".to_vec())),
            }),
            callback::Kind::SetValue(sidecar_proto::SetValue {
                var: 4,
                value: Some(sidecar_proto::set_value::Value::Number(i64::from(b'I'))),
            }),
        ]
    );
    assert_eq!(fake.jobs(), [(6, "sd says hi\n".to_string())]);
}

#[test]
fn outside_a_call_the_core_functions_raise() {
    let _serial = start();
    Python::with_gil(|py| {
        let g = PyDict::new(py);
        run_in(py, &g, HELPERS);
        run_in(
            py,
            &g,
            r#"
for m in (d, s):
    for f, args in [(m.GetValue, (1,)), (m.SetValue, (1, 1)), (m.RegisterEvents, ([1],)),
                    (m.UnRegisterEvents, ([1],)), (m.GetInstanceCount, ())]:
        e = raises(RuntimeError, f, *args)
        assert "only available while the daemon calls the plugin" in str(e), str(e)
    # Messages are one-way; outside a call in process there is no job to
    # log to, and they are dropped.
    m.JobMessage(m.M_INFO, "nobody hears this")
"#,
        );
    });
}

fn options(s: &str) -> call::Kind {
    event(11, Some(event::Value::Text(s.as_bytes().to_vec())))
}

fn event(n: u32, value: Option<event::Value>) -> call::Kind {
    call::Kind::HandlePluginEvent(sidecar_proto::Event {
        event_type: n,
        value,
    })
}

fn free() -> call::Kind {
    call::Kind::FreePlugin(sidecar_proto::Empty {})
}

/// One plugin instance and the fake core of its calls.
struct Instance {
    plugin: DirSdPlugin,
    fake: Fake,
}

impl Instance {
    fn new(daemon: Daemon) -> Instance {
        let plugin = Python::with_gil(|py| DirSdPlugin::new(py, daemon));
        Instance {
            plugin,
            fake: Fake::default(),
        }
    }

    fn call(&mut self, kind: call::Kind) -> i32 {
        let Instance { plugin, fake } = self;
        let (rc, payload) =
            core::with_direct(fake, || Python::with_gil(|py| plugin.dispatch(py, kind)));
        assert!(payload.is_none());
        rc
    }
}

fn sys_path() -> Vec<String> {
    Python::with_gil(|py| {
        py.import("sys")
            .and_then(|s| s.getattr("path"))
            .and_then(|p| p.extract())
            .expect("sys.path")
    })
}

fn count(path: &[String], dir: &str) -> usize {
    path.iter().filter(|p| *p == dir).count()
}

#[test]
fn director_options_load_the_module_once_then_go_to_parse_plugin_definition() {
    let _serial = start();
    let mut i = Instance::new(Daemon::Dir);
    assert_eq!(i.call(call::Kind::NewPlugin(sidecar_proto::Empty {})), 0);
    // Events before the options: nothing to call yet.
    assert_eq!(i.call(event(1, None)), 0);
    assert!(i.fake.take().is_empty());
    let before = sys_path();

    let opts = format!(
        "python3:instance=0:module_path={PLUGINS}:module_name=dirsd_probe:register=1,2,4:k=v\\:w"
    );
    assert_eq!(i.call(options(&opts)), 0);
    // (as Python's repr shows it: the backslash doubled)
    let loaded = r"'register=1,2,4:k=v\\:w:'";
    assert_eq!(
        i.fake.jobs(),
        [
            (6, format!("probe load {loaded}\n")),
            (6, "probe registered 0\n".into()),
            (6, format!("probe parse {loaded}\n")),
        ]
    );
    assert_eq!(i.fake.callbacks(), [register(1), register(2), register(4)]);
    assert!(i.plugin.loaded());
    assert_eq!(
        i.plugin.options().module_name.as_deref(),
        Some("dirsd_probe")
    );
    let path = sys_path();
    assert_eq!(path[..2], [PLUGINS.to_string(), DEFAULT_DIR.to_string()]);
    assert_eq!(count(&path, PLUGINS), count(&before, PLUGINS) + 1);
    assert_eq!(count(&path, DEFAULT_DIR), count(&before, DEFAULT_DIR) + 1);
    i.fake.take();

    // Later options only reach parse_plugin_definition; nothing is loaded
    // or put on sys.path again.
    assert_eq!(
        i.call(options(
            "python3:module_name=other:module_path=/elsewhere:rc_parse=1"
        )),
        1
    );
    assert_eq!(i.fake.jobs(), [(6, "probe parse 'rc_parse=1:'\n".into())]);
    assert_eq!(i.plugin.options().module_name.as_deref(), Some("other"));
    assert_eq!(sys_path(), path);
    i.fake.take();

    for e in [3, 1, 4, 2] {
        assert_eq!(i.call(event(e, None)), 0);
    }
    let jobs: Vec<String> = i.fake.jobs().into_iter().map(|(_, m)| m).collect();
    assert_eq!(
        jobs,
        [
            "probe event 3\n",
            "probe event 1\n",
            "probe event 4\n",
            "probe event 2\n"
        ]
    );
    assert_eq!(i.call(free()), 0);
}

#[test]
fn director_option_errors_are_fatal_job_messages() {
    let _serial = start();
    let mut i = Instance::new(Daemon::Dir);
    for (opts, msg) in [
        (
            "python3",
            "Illegal plugin definition 'python3' (missing ':')",
        ),
        (
            "python3:novalue",
            "Illegal argument 'novalue' without value",
        ),
        ("python3:a=1:=b", "Options without key are not allowed"),
    ] {
        assert_eq!(i.call(options(opts)), 2, "{opts}");
        assert_eq!(
            i.fake.take(),
            [
                Seen::Job(3, format!("{msg}\n")),
                Seen::Debug(150, format!("{msg}\n"))
            ]
        );
    }
    // No value, or a value that is not text.
    assert_eq!(i.call(event(11, None)), 2);
    assert_eq!(i.call(event(11, Some(event::Value::Number(1)))), 2);
    assert!(i.fake.take().is_empty());
    assert_eq!(i.call(options_bytes(b"python3:k=\xff")), 2);
    let seen = i.fake.take();
    assert!(
        matches!(&seen[..], [Seen::Job(3, m)] if m.contains("python3-dir (sidecar): the plugin options is not valid UTF-8")),
        "{seen:?}"
    );
    // Without module_name nothing is imported, silently.
    assert_eq!(i.call(options("python3:k=v")), 2);
    assert!(i.fake.take().is_empty());
    assert!(!i.plugin.loaded());
    assert_eq!(i.call(event(1, None)), 0);
}

fn options_bytes(b: &[u8]) -> call::Kind {
    event(11, Some(event::Value::Text(b.to_vec())))
}

fn single_fatal(seen: &[Seen]) -> String {
    let fatal: Vec<&String> = seen
        .iter()
        .filter_map(|s| match s {
            Seen::Job(3, m) => Some(m),
            _ => None,
        })
        .collect();
    assert_eq!(fatal.len(), 1, "{seen:?}");
    fatal[0].clone()
}

#[test]
fn director_exceptions_and_bad_results() {
    let _serial = start();
    let probe =
        |extra: &str| format!("python3:module_path={PLUGINS}:module_name=dirsd_probe{extra}");

    // load_bareos_plugin raises: a fatal traceback, and nothing is loaded.
    let mut i = Instance::new(Daemon::Dir);
    assert_eq!(i.call(options(&probe(":raise=load"))), 2);
    let seen = i.fake.take();
    let fatal = single_fatal(&seen);
    assert!(
        fatal.starts_with("bareosdir: Traceback (most recent call last):\n"),
        "{fatal}"
    );
    assert!(
        fatal.ends_with("ValueError: probe: load failed\n\n"),
        "{fatal}"
    );
    assert!(seen.contains(&Seen::Debug(150, fatal.clone())));
    assert!(!i.plugin.loaded());
    assert_eq!(i.call(event(1, None)), 0);
    // Loaded whatever load_bareos_plugin returns; not bRC_OK: no parse.
    assert_eq!(i.call(options(&probe(":rc_load=1"))), 1);
    assert!(i.plugin.loaded());
    assert_eq!(
        i.fake.take(),
        [Seen::Job(6, "probe load 'rc_load=1:'\n".into())]
    );

    // handle_plugin_event raises, or returns something that is not an int.
    let mut i = Instance::new(Daemon::Dir);
    assert_eq!(i.call(options(&probe(":raise=event"))), 0);
    i.fake.take();
    assert_eq!(i.call(event(2, None)), 2);
    let fatal = single_fatal(&i.fake.take());
    assert!(fatal.starts_with("bareosdir: Traceback"), "{fatal}");
    assert!(fatal.contains("ValueError: probe: event failed"), "{fatal}");
    assert_eq!(i.call(options("python3:raise=no:rc_event=none")), 0);
    i.fake.take();
    assert_eq!(i.call(event(2, None)), 2);
    assert_eq!(
        i.fake.jobs(),
        [
            (6, "probe event 2\n".into()),
            (
                4,
                "python3-dir (sidecar): handle_plugin_event() returned NoneType, not an int (bRC); treated as bRC_Error\n".into()
            ),
        ]
    );

    // No such module.
    let mut i = Instance::new(Daemon::Dir);
    assert_eq!(
        i.call(options("python3:module_name=no_such_module_here")),
        2
    );
    let fatal = single_fatal(&i.fake.take());
    assert!(
        fatal.starts_with("python3-dir (sidecar): cannot import module_name=no_such_module_here"),
        "{fatal}"
    );

    // Missing entry points: debug only.
    let mut i = Instance::new(Daemon::Dir);
    let only = format!("python3:module_path={PLUGINS}:module_name=dirsd_load_only");
    assert_eq!(i.call(options(&only)), 2);
    assert_eq!(
        i.fake.take(),
        [Seen::Debug(
            150,
            "Failed to find function named parse_plugin_definition()\n".into()
        )]
    );
    assert!(i.plugin.loaded());
    assert_eq!(i.call(event(1, None)), 2);
    assert_eq!(
        i.fake.take(),
        [Seen::Debug(
            150,
            "Failed to find function named handle_plugin_event()\n".into()
        )]
    );
    let mut i = Instance::new(Daemon::Dir);
    let no_load = format!("python3:module_path={PLUGINS}:module_name=dirsd_no_load");
    assert_eq!(i.call(options(&no_load)), 2);
    assert_eq!(
        i.fake.take(),
        [Seen::Debug(
            150,
            "Failed to find function named load_bareos_plugin()\n".into()
        )]
    );
    assert!(!i.plugin.loaded());
    assert_eq!(i.call(event(1, None)), 0);
}

#[test]
fn storage_daemon_dispatch_and_tracebacks_without_prefix() {
    let _serial = start();
    let mut i = Instance::new(Daemon::Sd);
    i.fake = Fake::with_values(&[(4, Value::Number(9))]);
    // The director's options event number means nothing here.
    assert_eq!(i.call(options("python3:module_name=x")), 0);
    let opts = format!(
        "python3:module_path={PLUGINS}:module_name=dirsd_probe:module=bareossd:register=1,22,24,25:values=4:raise=event"
    );
    assert_eq!(
        i.call(event(22, Some(event::Value::Text(opts.into_bytes())))),
        0
    );
    assert_eq!(
        i.fake.callbacks(),
        [register(1), register(22), register(24)]
    );
    i.fake.take();
    assert_eq!(
        i.call(event(1, Some(event::Value::Text(b"JobStart".to_vec())))),
        2
    );
    let seen = i.fake.take();
    let fatal = single_fatal(&seen);
    assert!(
        fatal.starts_with("Traceback (most recent call last):\n"),
        "{fatal}"
    );
    assert!(
        fatal.ends_with("ValueError: probe: event failed\n\n"),
        "{fatal}"
    );
    let jobs: Vec<(i32, String)> = seen
        .iter()
        .filter_map(|s| match s {
            Seen::Job(6, m) => Some((6, m.clone())),
            _ => None,
        })
        .collect();
    assert_eq!(
        jobs,
        [
            (6, "probe event 1\n".to_string()),
            (6, "probe value 4 9\n".to_string())
        ]
    );
    assert_eq!(i.call(free()), 0);
}

fn bareos_plugins_installed() -> bool {
    let there = std::path::Path::new(BAREOS_PLUGINS)
        .join("bareos-dir-class-plugin.py")
        .is_file();
    if !there {
        eprintln!("skipped: Bareos's Python plugins are not installed in {BAREOS_PLUGINS}");
    }
    there
}

/// Bareos's own example director plugin (base class, wrapper, class
/// plugin) through a whole job's events.
#[test]
fn bareos_dir_class_plugin_runs_a_job() {
    if !bareos_plugins_installed() {
        return;
    }
    let _serial = start();
    let mut i = Instance::new(Daemon::Dir);
    i.fake = Fake::with_values(&[
        (13, text("job.2026")),
        (2, Value::Number(i64::from(b'F'))),
        (3, Value::Number(i64::from(b'B'))),
        (4, Value::Number(17)),
        (5, text("client-fd")),
        (14, Value::Number(i64::from(b'R'))),
        (15, Value::Number(10)),
        (18, Value::Bits(0)),
        (26, Value::Bits(123_456)),
        (19, Value::Bits(12)),
        (6, Value::Number(2)),
        (7, text("Full")),
        (8, text("File")),
        (12, text("FileMedia")),
    ]);
    let opts = format!(
        "python3:instance=0:module_path={BAREOS_PLUGINS}:module_name=bareos-dir-class-plugin:foo=bar"
    );
    assert_eq!(i.call(options(&opts)), 0);
    for e in [1, 3, 4, 2] {
        assert_eq!(i.call(event(e, None)), 0, "event {e}");
    }
    assert_eq!(i.call(free()), 0);
    assert!(i.fake.jobs().is_empty(), "{:?}", i.fake.jobs());
    let callbacks = i.fake.callbacks();
    assert_eq!(
        callbacks[..4],
        [register(1), register(2), register(3), register(4)]
    );
    for var in [13, 2, 3, 4, 5, 14, 15, 18, 26, 19, 6, 7, 8, 12] {
        assert!(callbacks.contains(&callback::Kind::GetValue(var)), "{var}");
    }
    assert!(i.fake.seen.contains(&Seen::Debug(
        100,
        "plugin def parser called with foo=bar:\n\n".into()
    )));
}

/// Bareos's own example storage daemon plugin.
#[test]
fn bareos_sd_class_plugin_runs_a_job() {
    if !bareos_plugins_installed() {
        return;
    }
    let _serial = start();
    let mut i = Instance::new(Daemon::Sd);
    i.fake = Fake::with_values(&[
        (10, text("job.2026")),
        (2, Value::Number(i64::from(b'F'))),
        (4, Value::Number(17)),
        (15, Value::Bits(1 << 33)),
        (14, Value::Bits(12)),
    ]);
    let opts =
        format!("python3:module_path={BAREOS_PLUGINS}:module_name=bareos-sd-class-plugin:x=1");
    assert_eq!(
        i.call(event(22, Some(event::Value::Text(opts.into_bytes())))),
        0
    );
    assert_eq!(
        i.call(event(1, Some(event::Value::Text(b"JobStart".to_vec())))),
        0
    );
    assert_eq!(i.call(event(2, None)), 0);
    assert_eq!(i.call(free()), 0);
    assert!(i.fake.jobs().is_empty(), "{:?}", i.fake.jobs());
    let callbacks = i.fake.callbacks();
    assert_eq!(callbacks[..2], [register(1), register(2)]);
    for var in [10, 2, 4, 15, 14] {
        assert!(callbacks.contains(&callback::Kind::GetValue(var)), "{var}");
    }
}
