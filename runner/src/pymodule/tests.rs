//! `bareosdir` and `bareossd` as Python sees them without a daemon call:
//! names, numbers, dict keys and argument errors (which come before the
//! core is asked). What needs the core is in `tests/dirsd.rs`, with a fake
//! one.

use pyo3::prelude::*;
use pyo3::types::PyDict;
use sidecar_proto::callback_reply::Value;

use super::dirsd::{Shape, present};
use crate::bareosfd::tests::{run_in, with_py};

/// Runs Python test code with `bareosdir` as `d` and `bareossd` as `s`.
fn run(code: &str) {
    with_py(|py| {
        let g = PyDict::new(py);
        run_in(
            py,
            &g,
            "import bareosdir, bareossd\nimport bareosdir as d, bareossd as s",
        );
        run_in(py, &g, HELPERS);
        run_in(py, &g, code);
    });
}

const HELPERS: &str = r#"
def raises(exc, f, *args, message=None, cause=None, **kw):
    try:
        f(*args, **kw)
    except exc as e:
        if message is not None:
            assert str(e) == message, str(e)
        if cause is not None:
            assert type(e.__cause__) is cause[0], repr(e.__cause__)
            assert str(e.__cause__) == cause[1], str(e.__cause__)
        return e
    raise AssertionError(f"{f.__name__}{args} did not raise {exc.__name__}")

def check_table(m, dict_name, expected):
    t = getattr(m, dict_name)
    assert type(t) is dict, dict_name
    assert list(t.items()) == expected, (dict_name, list(t.items()))
    for k, v in t.items():
        assert type(k) is str and type(v) is int, (dict_name, k)
        assert getattr(m, k) == v, k
"#;

const COMMON: &str = r#"
FUNCTIONS = ["GetValue", "SetValue", "DebugMessage", "JobMessage", "RegisterEvents",
             "UnRegisterEvents", "GetInstanceCount"]
RCS = [("bRC_OK", 0), ("bRC_Stop", 1), ("bRC_Error", 2), ("bRC_More", 3), ("bRC_Term", 4),
       ("bRC_Seen", 5), ("bRC_Core", 6), ("bRC_Skip", 7), ("bRC_Cancel", 8)]
MESSAGES = [("M_ABORT", 1), ("M_DEBUG", 2), ("M_FATAL", 3), ("M_ERROR", 4), ("M_WARNING", 5),
            ("M_INFO", 6), ("M_SAVED", 7), ("M_NOTSAVED", 8), ("M_SKIPPED", 9), ("M_MOUNT", 10),
            ("M_ERROR_TERM", 11), ("M_TERM", 12), ("M_RESTORED", 13), ("M_SECURITY", 14),
            ("M_ALERT", 15), ("M_VOLMGMT", 16)]
def numbered(prefix, names):
    return [(prefix + n, i + 1) for i, n in enumerate(names.split())]
def check_module(m, name, dicts):
    assert m.__name__ == name
    assert isinstance(m.__doc__, str)
    funcs = sorted(n for n in dir(m) if callable(getattr(m, n)) and not n.startswith("_"))
    assert funcs == sorted(FUNCTIONS), funcs
    for f in FUNCTIONS:
        assert getattr(m, f).__module__ == name, f
    tables = sorted(n for n in dir(m) if type(getattr(m, n)) is dict and not n.startswith("_"))
    assert tables == sorted(dicts), tables
    check_table(m, "bRCs", RCS)
    check_table(m, "bJobMessageType", MESSAGES)
    for missing in ["_C_API", "bEventType", "bVariable", "bLevels", "AddExclude", "L_FULL"]:
        assert not hasattr(m, missing), missing
    public = {n for n in dir(m) if not n.startswith("_")}
    entries = {k for d in dicts for k in getattr(m, d)}
    assert public == set(FUNCTIONS) | set(dicts) | entries, public ^ (set(FUNCTIONS) | set(dicts) | entries)
"#;

#[test]
fn bareosdir_names_numbers_and_str_keys() {
    run(&format!(
        "{COMMON}{}",
        r#"
check_module(d, "bareosdir", ["bJobMessageType", "bRCs", "bDirVariable", "bwDirVariable", "bDirEventType"])
check_table(d, "bDirVariable", numbered("bDirVar", """Job Level Type JobId Client NumVols Pool
    Storage WriteStorage ReadStorage Catalog MediaType JobName JobStatus Priority VolumeName
    CatalogRes JobErrors JobFiles SDJobFiles SDErrors FDJobStatus SDJobStatus PluginDir LastRate
    JobBytes ReadBytes"""))
check_table(d, "bwDirVariable", numbered("bwDirVar", "JobReport VolumeName Priority JobLevel"))
check_table(d, "bDirEventType", numbered("bDirEvent", """JobStart JobEnd JobInit JobRun
    VolumePurged NewVolume NeedVolume VolumeFull Recyle GetScratch NewPluginOptions"""))
assert d.bDirVarReadBytes == 27 and d.bDirEventNewPluginOptions == 11 and d.bDirEventRecyle == 9
assert d.bwDirVarJobLevel == 4 and d.M_VOLMGMT == 16 and d.bRC_Cancel == 8
"#
    ));
}

#[test]
fn bareossd_names_numbers_and_str_keys() {
    run(&format!(
        "{COMMON}{}",
        r#"
check_module(s, "bareossd", ["bJobMessageType", "bRCs", "bsdVariable", "bsdwVariable", "bsdEventType"])
check_table(s, "bsdVariable", numbered("bsdVar", """Job Level Type JobId Client Pool PoolType
    Storage MediaType JobName JobStatus VolumeName JobErrors JobFiles JobBytes PluginDir"""))
check_table(s, "bsdwVariable", numbered("bsdwVar", "JobReport VolumeName Priority JobLevel"))
check_table(s, "bsdEventType", numbered("bsdEvent", """JobStart JobEnd DeviceInit DeviceMount
    VolumeLoad DeviceReserve DeviceOpen LabelRead LabelVerified LabelWrite DeviceClose
    VolumeUnload DeviceUnmount ReadError WriteError DriveStatus VolumeStatus
    SetupRecordTranslation ReadRecordTranslation WriteRecordTranslation DeviceRelease
    NewPluginOptions ChangerLock ChangerUnlock"""))
assert not any(k.startswith("bSdEvent") for k in dir(s))
assert s.bsdEventChangerUnlock == 24 and s.bsdVarPluginDir == 16 and s.bsdwVarJobReport == 1
"#
    ));
}

/// The errors `PyArg_ParseTuple` raises in the in-process modules, which
/// come before anything asks the core.
#[test]
fn argument_errors() {
    run(r#"
for m in (d, s):
    raises(TypeError, m.GetValue, message="BareosGetValue() takes exactly 1 argument (0 given)")
    raises(TypeError, m.GetValue, 1, 2, message="BareosGetValue() takes exactly 1 argument (2 given)")
    raises(TypeError, m.GetValue, "x", message="'str' object cannot be interpreted as an integer")
    raises(TypeError, m.GetValue, 1.5, message="'float' object cannot be interpreted as an integer")
    raises(OverflowError, m.GetValue, 2**40, message="signed integer is greater than maximum")
    raises(TypeError, m.GetValue, var=1)
    raises(TypeError, m.GetInstanceCount, 1, message="BareosGetInstanceCount() takes exactly 0 arguments (1 given)")
    raises(TypeError, m.DebugMessage, message="BareosDebugMessage() takes at least 1 argument (0 given)")
    raises(TypeError, m.DebugMessage, 1, 2, message="BareosDebugMessage() argument 2 must be str or None, not int")
    raises(TypeError, m.DebugMessage, 1, "a", "b", message="BareosDebugMessage() takes at most 2 arguments (3 given)")
    raises(ValueError, m.DebugMessage, 1, "a\0b", message="embedded null character")
    raises(TypeError, m.JobMessage, "x", "y", message="'str' object cannot be interpreted as an integer")
    raises(TypeError, m.JobMessage, 1, b"bytes", message="BareosJobMessage() argument 2 must be str or None, not bytes")
    sys_err = "<built-in function {}> returned a result with an exception set"
    raises(SystemError, m.SetValue, 1, message=sys_err.format("SetValue"),
           cause=(TypeError, "BareosSetValue() takes exactly 2 arguments (1 given)"))
    raises(SystemError, m.SetValue, "x", 1, message=sys_err.format("SetValue"),
           cause=(TypeError, "'str' object cannot be interpreted as an integer"))
    raises(SystemError, m.RegisterEvents, message=sys_err.format("RegisterEvents"),
           cause=(TypeError, "BareosRegisterEvents() takes exactly 1 argument (0 given)"))
    raises(SystemError, m.UnRegisterEvents, [1], [2], message=sys_err.format("UnRegisterEvents"),
           cause=(TypeError, "BareosUnRegisterEvents() takes exactly 1 argument (2 given)"))
"#);
}

#[test]
fn get_value_shapes() {
    use crate::{bareosdir, bareossd};
    let dir = |vs: &[i32]| vs.iter().map(|&v| bareosdir::shape(v)).collect::<Vec<_>>();
    assert!(
        dir(&[4, 2, 3, 6, 14, 15, 22, 23])
            .iter()
            .all(|s| *s == Some(Shape::Int))
    );
    assert!(
        dir(&[18, 21, 19, 20, 25, 26, 27])
            .iter()
            .all(|s| *s == Some(Shape::U64))
    );
    assert!(
        dir(&[13, 1, 5, 7, 8, 9, 10, 11, 12, 16, 24])
            .iter()
            .all(|s| *s == Some(Shape::Str))
    );
    assert!(dir(&[0, 17, 28, -1]).iter().all(Option::is_none));
    let sd = |vs: &[i32]| vs.iter().map(|&v| bareossd::shape(v)).collect::<Vec<_>>();
    assert!(sd(&[4, 2, 3, 11]).iter().all(|s| *s == Some(Shape::Int)));
    assert!(sd(&[13, 14, 15]).iter().all(|s| *s == Some(Shape::U64)));
    assert!(
        sd(&[10, 1, 5, 6, 7, 8, 9, 12, 16])
            .iter()
            .all(|s| *s == Some(Shape::Str))
    );
    assert!(sd(&[0, 17, -1]).iter().all(Option::is_none));
    // Every variable but CatalogRes has a shape; 1..=27 and 1..=16 cover them.
    assert_eq!(
        (1..=27).filter(|&v| bareosdir::shape(v).is_none()).count(),
        1
    );
    assert_eq!(
        (1..=16).filter(|&v| bareossd::shape(v).is_none()).count(),
        0
    );

    with_py(|py| {
        let show = |shape, value| -> String {
            let v = present(py, shape, value).expect("value");
            v.bind(py).repr().expect("repr").to_string()
        };
        assert_eq!(show(Shape::Int, Some(Value::Number(70))), "70");
        assert_eq!(show(Shape::Int, Some(Value::Number(-1))), "-1");
        // The core writes a C int.
        assert_eq!(show(Shape::Int, Some(Value::Number((1 << 32) + 5))), "5");
        assert_eq!(
            show(Shape::U64, Some(Value::Bits(u64::MAX))),
            "18446744073709551615"
        );
        assert_eq!(
            show(Shape::U64, Some(Value::Number(1 << 40))),
            "1099511627776"
        );
        assert_eq!(
            show(Shape::Str, Some(Value::Text(b"Full".to_vec()))),
            "'Full'"
        );
        assert_eq!(show(Shape::Str, None), "None");
        assert_eq!(show(Shape::Int, Some(Value::Text(b"x".to_vec()))), "None");
        let e = present(py, Shape::Str, Some(Value::Text(vec![0xff]))).expect_err("utf-8");
        assert!(e.is_instance_of::<pyo3::exceptions::PyUnicodeDecodeError>(py));
    });
}
