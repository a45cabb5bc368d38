//! Behaviour of `bareosfd` as Python sees it, without a daemon attached.

use std::ffi::CString;
use std::sync::Once;

use pyo3::prelude::*;
use pyo3::types::PyDict;
use sidecar_proto as pb;

/// Runs `f` with the GIL; the built-in modules are registered before the
/// first interpreter start of the test binary. Other unit tests that need Python
/// should start it through this helper too: registering after the start is
/// impossible.
pub(crate) fn with_py<R>(f: impl for<'py> FnOnce(Python<'py>) -> R) -> R {
    static INIT: Once = Once::new();
    INIT.call_once(|| {
        crate::daemon::register_modules();
        pyo3::prepare_freethreaded_python();
    });
    Python::with_gil(f)
}

/// A fresh namespace with `bareosfd` (as `b`) imported.
fn namespace(py: Python<'_>) -> Bound<'_, PyDict> {
    let g = PyDict::new(py);
    run_in(
        py,
        &g,
        "import bareosfd\nimport bareosfd as b\nimport warnings",
    );
    g
}

pub(crate) fn run_in(py: Python<'_>, g: &Bound<'_, PyDict>, code: &str) {
    let code = CString::new(code).expect("no NUL in test code");
    if let Err(e) = py.run(&code, Some(g), None) {
        let tb = e
            .traceback(py)
            .and_then(|t| t.format().ok())
            .unwrap_or_default();
        panic!("python failed: {tb}{e}");
    }
}

/// Runs Python test code (with `bareosfd` imported as `b`).
fn run(code: &str) {
    with_py(|py| {
        let g = namespace(py);
        run_in(py, &g, code);
    });
}

fn eval<'py>(py: Python<'py>, g: &Bound<'py, PyDict>, expr: &str) -> Bound<'py, PyAny> {
    let code = CString::new(expr).expect("no NUL in test code");
    py.eval(&code, Some(g), None)
        .unwrap_or_else(|e| panic!("python eval failed: {e}"))
}

#[test]
fn module_surface() {
    run(r#"
funcs = ["GetValue", "SetValue", "DebugMessage", "JobMessage", "RegisterEvents",
         "UnRegisterEvents", "GetInstanceCount", "AddExclude", "AddInclude", "AddOptions",
         "AddRegex", "AddWild", "NewOptions", "NewInclude", "NewPreInclude", "CheckChanges",
         "AcceptFile", "SetSeenBitmap", "ClearSeenBitmap"]
for f in funcs:
    assert callable(getattr(b, f)), f
assert len([n for n in dir(b) if callable(getattr(b, n)) and not isinstance(getattr(b, n), type)]) == 19
assert b.__doc__ is None
assert b.__name__ == "bareosfd"
assert type(b._C_API).__name__ == "PyCapsule"
names = {"RestoreObject": "restore_object", "StatPacket": "stat_pkt", "SavePacket": "save_pkt",
         "RestorePacket": "restore_pkt", "IoPacket": "io_pkt", "AclPacket": "acl_pkt",
         "XattrPacket": "xattr_pkt"}
for attr, tname in names.items():
    t = getattr(b, attr)
    assert t.__name__ == tname, t.__name__
    assert t.__module__ == "builtins", t.__module__
    x = t()
    assert not hasattr(x, "__dict__"), attr
    try:
        x.no_such_attribute = 1
        raise AssertionError("set unknown attribute")
    except AttributeError as e:
        assert str(e) == f"'{tname}' object has no attribute 'no_such_attribute'", str(e)
    class Sub(t):
        pass
    assert isinstance(Sub(), t)
for missing in ["PYTHON_UNDEFINED_RETURN_VALUE", "bRC_Max", "bVarPluginPath", "M_AUDIT", "IoStatus"]:
    assert not hasattr(b, missing), missing
"#);
}

#[test]
fn constants_and_dicts() {
    run(r#"
assert b.bRCs[b'bRC_OK'] == 0 and b.bRC_OK == 0
assert list(b.bRCs) == [b'bRC_OK', b'bRC_Stop', b'bRC_Error', b'bRC_More', b'bRC_Term',
                        b'bRC_Seen', b'bRC_Core', b'bRC_Skip', b'bRC_Cancel']
assert list(b.bRCs.values()) == list(range(9))
dicts = ["bRCs", "bJobMessageType", "bVariable", "bAccurateOption", "bFileType", "bCFs",
         "bEventType", "bIOPS", "bIOPstatus", "bLevels"]
for d in dicts:
    for k, v in getattr(b, d).items():
        assert type(k) is bytes, (d, k)
        attr = getattr(b, k.decode())
        if d == "bLevels":
            assert type(v) is bytes and type(attr) is str and attr.encode() == v, (k, v)
        else:
            assert type(v) is int and attr == v, (k, v)
assert b.bLevels[b'L_FULL'] == b'F' and b.L_FULL == 'F'
assert list(b.bLevels.values()) == [b'F', b'I', b'D', b'S', b'C', b'V', b'O', b'd', b'A', b'B', b' ', b'f']
assert b'bVarPluginPath' not in b.bVariable
assert list(b.bVariable.values()) == list(range(1, 22)) + [23]
assert list(b.bJobMessageType.items())[-1] == (b'M_VOLMGMT', 16)
assert len(b.bJobMessageType) == 16
assert dict(b.bIOPstatus) == {b'iostat_error': -1, b'iostat_do_in_plugin': 0, b'iostat_do_in_core': 1}
assert list(b.bAccurateOption.values()) == [1 << i for i in range(13)]
assert list(b.bEventType.values()) == list(range(1, 32))
assert b.bEventOptionPlugin == 18 and b.bEventVssBackupComplete == 31
assert list(b.bFileType.values()) == list(range(1, 29))
assert b.FT_PLUGIN_CONFIG_FILLED == 28
assert list(b.bCFs.items()) == [(b'CF_SKIP', 1), (b'CF_ERROR', 2), (b'CF_EXTRACT', 3),
                                (b'CF_CREATED', 4), (b'CF_CORE', 5)]
assert list(b.bIOPS.values()) == [1, 2, 3, 4, 5]
"#);
}

#[test]
fn stat_packet() {
    run(r#"
import time
before = int(time.time())
s = b.StatPacket()
assert before <= s.st_atime <= int(time.time()) + 1 and s.st_mtime == s.st_atime
s.st_atime, s.st_mtime, s.st_ctime = 999, 1000, 1001
assert str(s) == repr(s) == ("StatPacket(dev=0, ino=0, mode=0700, nlink=0, uid=0, gid=0, rdev=0, "
    "size=18446744073709551615, atime=999, mtime=1000, ctime=1001, blksize=4096, blocks=1)"), str(s)
assert s.st_mode == 0o100700 and s.st_size == 2**64 - 1 and s.st_blksize == 4096 and s.st_blocks == 1
s = b.StatPacket(dev=1, ino=2, mode=0o40755, nlink=-1, uid=3, gid=4, rdev=5, size=-1,
                 atime=-7, mtime=8, ctime=9, blksize=10, blocks=11)
assert (s.st_dev, s.st_ino, s.st_mode, s.st_nlink, s.st_size, s.st_atime) == (1, 2, 0o40755, 65535, 2**64 - 1, -7)
assert "mode=0755, nlink=-1," in repr(s), repr(s)
try:
    s.st_ino = -1
    raise AssertionError("negative uint64")
except OverflowError:
    pass
try:
    s.st_atime = 2**63
    raise AssertionError("int64 overflow")
except OverflowError:
    pass
try:
    b.StatPacket(atime=2**63)
    raise AssertionError("time keyword range")
except OverflowError:
    pass
with warnings.catch_warnings(record=True) as w:
    warnings.simplefilter("always")
    s.st_uid = 2**32 + 5
    s.st_mode = 0o1000000 | 0o644
assert s.st_uid == 5 and s.st_mode == 0o644
assert [x.category for x in w] == [RuntimeWarning, RuntimeWarning], w
try:
    s.st_uid = 1.5
    raise AssertionError("float")
except TypeError:
    pass
try:
    del s.st_uid
    raise AssertionError("del numeric")
except TypeError:
    pass
"#);
}

#[test]
fn save_packet_attributes() {
    run(r#"
p = b.SavePacket(fname="testfilename")
assert str(p) == ('SavePacket(fname="testfilename", link="", type=0, flags=<NULL>, no_read=0, '
    'portable=0, accurate_found=0, cmd="(null)", save_time=0, delta_seq=0, object_name="", '
    'object="", object_len=0, object_index=0)'), str(p)
assert p.link is None and p.statp is None and p.cmd is None and p.flags is None
p.flags = bytearray([0b101, 0, 0, 0, 0b11])
assert "flags=1010000000000000000000000000000011," in repr(p), repr(p)
p.flags = bytearray(4)
assert "flags=Unknown," in repr(p)
try:
    p.cmd = "x"
    raise AssertionError("readonly")
except TypeError as e:
    assert str(e) == "readonly attribute"
try:
    p.no_read = 1
    raise AssertionError("bool")
except TypeError as e:
    assert str(e) == "attribute value type must be bool"
p.no_read = True
assert p.no_read is True
try:
    p.type = 3.0
    raise AssertionError("int32 float")
except TypeError:
    pass
with warnings.catch_warnings(record=True) as w:
    warnings.simplefilter("always")
    p.type = 2**32 + 3
assert p.type == 3 and w[0].category is RuntimeWarning
try:
    p.statp = "nope"
    raise AssertionError("statp")
except TypeError as e:
    assert "statp" in str(e)
p.statp = b.StatPacket()
p.statp = None
p.object = bytearray(b"ab\0cd")
p.object_name = "n"
assert 'object_name="n", object="ab",' in repr(p)
del p.object
assert p.object is None
"#);
}

#[test]
fn default_reprs() {
    run(r#"
assert str(b.RestorePacket()) == ('RestorePacket(stream=0, data_stream=0, type=0, file_index=0, '
    'linkFI=0, uid=0, statp="<NULL>", attrEx="(null)", ofname="(null)", olname="(null)", '
    'where="(null)", RegexWhere="(null)", replace=0, create_status=0, '
    'original_file_name="(null)", original_link_name="(null)")'), str(b.RestorePacket())
assert b.RestorePacket().filedes == -1
assert not hasattr(b.RestorePacket(), "delta_seq")
assert str(b.IoPacket()) == ('IoPacket(func=0, count=0, flags=0, mode=0000, buf="", '
    'fname="(null)", status=0, io_errno=0, lerror=0, whence=0, offset=0, win32=0, filedes=-1)'), str(b.IoPacket())
assert str(b.AclPacket(content=bytearray(b"Hello ACL"))) == 'AclPacket(fname="(null)", content="Hello ACL")'
assert str(b.XattrPacket()) == 'XattrPacket(fname="(null)", name="", value="")'
assert str(b.RestoreObject()) == ('RestoreObject(object_name="", object="", plugin_name="(null)", '
    'object_type=0, object_len=0, object_full_len=0, object_index=0, object_compression=0, '
    'stream=0, jobid=0)'), str(b.RestoreObject())
# D6: documented keywords are accepted.
r = b.RestorePacket(statp=b.StatPacket(atime=1, mtime=2, ctime=3), ofname="/o", where="/w", filedes=7)
assert r.ofname == "/o" and r.where == "/w" and r.filedes == 7 and r.regexwhere is None
assert 'statp="StatPacket(dev=0,' in repr(r)
io = b.IoPacket(func=2, count=10, buf=bytearray(b"xy"), fname="/f", mode=0o100644)
assert 'mode=0644, buf="xy", fname="/f"' in repr(io), repr(io)
x = b.XattrPacket(fname="/f", name=bytearray(b"user.a"), value=bytearray(b"v"))
assert str(x) == 'XattrPacket(fname="/f", name="user.a", value="v")'
ro = b.RestoreObject(object_name="n", object=bytearray(b"d"), plugin_name="p", jobid=4)
assert ro.plugin_name == "p" and ro.jobid == 4
for obj, attr in [(r, "ofname"), (r, "attrEX"), (r, "original_file_name"), (io, "fname"),
                  (x, "fname"), (ro, "plugin_name"), (b.AclPacket(), "fname"), (r, "where")]:
    try:
        setattr(obj, attr, "z")
        raise AssertionError(attr)
    except TypeError as e:
        assert str(e) == "readonly attribute", attr
"#);
}

#[test]
fn save_packet_round_trip() {
    with_py(|py| {
        let req = pb::BackupRequest {
            cmd: b"python3:module_name=x".to_vec(),
            flags: vec![1, 2, 3],
        };
        let sp = super::save_packet_for_backup(py, &req).expect("packet");
        let g = namespace(py);
        g.set_item("sp", &sp).expect("set");
        run_in(
            py,
            &g,
            r#"
assert sp.fname == "" and sp.link == "" and sp.statp is None and sp.type == 0
assert sp.flags == bytearray([1, 2, 3, 0, 0]) and sp.portable is True and sp.no_read is False
assert sp.cmd == "python3:module_name=x" and sp.object is None and sp.object_name is None
"#,
        );
        let err = |code: &str| -> String {
            run_in(py, &g, code);
            let e = super::save_packet_back(&sp).expect_err("must fail");
            format!("{}: {}", e.get_type(py).name().expect("name"), e.value(py))
        };
        assert_eq!(err("sp.fname = None"), "RuntimeError: fname is empty");
        assert_eq!(
            err("sp.fname = b'x'"),
            "TypeError: fname needs to be of type string \"utf-8\""
        );
        assert_eq!(
            err("sp.fname = '/f'; sp.link = 3"),
            "TypeError: if given, link needs to be of type string \"utf-8\""
        );
        assert_eq!(
            err("del sp.link"),
            "RuntimeError: PyStatPacketToNative() failed"
        );
        assert_eq!(
            err(
                "sp.statp = b.StatPacket(mode=0o100644, size=5, atime=1, mtime=2, ctime=3); sp.flags = b'12345'"
            ),
            "TypeError: flags need to be of type bytearray"
        );
        assert_eq!(
            err("sp.flags = bytearray(6)"),
            "RuntimeError: PyByteArray_Size(flags) failed"
        );
        run_in(
            py,
            &g,
            "sp.flags = bytearray(b'\\x01\\x00\\x00\\x00\\x02'); sp.type = b.FT_REG; \
             sp.no_read = True; sp.save_time = 77; sp.delta_seq = 3",
        );
        let out = super::save_packet_back(&sp).expect("converts");
        assert_eq!(out.fname.as_deref(), Some(&b"/f"[..]));
        assert_eq!(out.link, None);
        assert_eq!(out.r#type, 3);
        assert_eq!(out.flags, vec![1, 0, 0, 0, 2]);
        assert!(out.no_read);
        assert_eq!((out.save_time, out.delta_seq), (77, 3));
        let st = out.statp.expect("statp");
        assert_eq!(
            (st.mode, st.size, st.atime, st.blksize),
            (0o100644, 5, 1, 4096)
        );

        // Restore objects.
        assert_eq!(
            err("sp.type = b.FT_RESTORE_FIRST"),
            "RuntimeError: pSavePkt->object_len is <=0"
        );
        assert_eq!(
            err("sp.object_len = 3"),
            "RuntimeError: object name missing"
        );
        assert_eq!(
            err("sp.object_name = 1"),
            "RuntimeError: object name must be unicode type"
        );
        assert_eq!(
            err("sp.object_name = 'obj'"),
            "RuntimeError: object missing"
        );
        assert_eq!(
            err("sp.object = b'abc'"),
            "RuntimeError: object needs to be of type bytearray"
        );
        assert_eq!(
            err("sp.object = bytearray(b'ab')"),
            "RuntimeError: object_len >= len(object)"
        );
        run_in(
            py,
            &g,
            "sp.object = bytearray(b'abcdef'); sp.object_index = 9",
        );
        let out = super::save_packet_back(&sp).expect("converts");
        assert_eq!(out.object.as_deref(), Some(&b"abc"[..]));
        assert_eq!(out.object_name.as_deref(), Some(&b"obj"[..]));
        assert_eq!((out.object_len, out.index), (3, 9));
        assert!(!out.no_read && out.save_time == 0 && out.delta_seq == 0);

        let handled = super::save_packet_back_handled(&sp).expect("converts");
        assert!(handled.no_read && handled.save_time == 77 && handled.fname.is_none());
    });
}

#[test]
fn save_packet_from_proto_for_option_plugins() {
    with_py(|py| {
        let mut sp = pb::SavePacket {
            fname: Some(b"/etc/passwd".to_vec()),
            link: None,
            statp: Some(pb::Stat {
                mode: 0o100644,
                dev: (1 << 32) + 7,
                nlink: 2,
                size: 10,
                ..Default::default()
            }),
            r#type: 3,
            flags: vec![9; 7],
            cmd: Some(b"opt".to_vec()),
            delta_seq: 4,
            accurate_found: true,
            no_read: true,
            ..Default::default()
        };
        let obj = super::save_packet_from_proto(py, &sp).expect("packet");
        let g = namespace(py);
        g.set_item("sp", &obj).expect("set");
        run_in(
            py,
            &g,
            r#"
assert sp.fname == "/etc/passwd" and sp.link == "" and sp.type == 3 and sp.cmd == "opt"
assert sp.flags == bytearray([9] * 5) and sp.delta_seq == 4 and sp.accurate_found is True
assert sp.no_read is False and sp.portable is True
assert sp.statp.st_dev == 7 and sp.statp.st_nlink == 2 and sp.statp.st_size == 10
"#,
        );
        sp.statp = Some(pb::Stat::default());
        sp.fname = Some(vec![0xff]);
        let e = super::save_packet_from_proto(py, &sp).expect_err("bad utf-8");
        assert!(e.is_instance_of::<pyo3::exceptions::PyUnicodeDecodeError>(py));
        sp.fname = Some(b"/x".to_vec());
        let obj = super::save_packet_from_proto(py, &sp).expect("packet");
        g.set_item("sp", &obj).expect("set");
        run_in(py, &g, "assert sp.statp is None");
    });
}

#[test]
fn io_packets() {
    with_py(|py| {
        let req = pb::IoRequest {
            func: 3,
            count: 4,
            flags: 577,
            mode: 0o600,
            fname: Some(b"/tmp/x".to_vec()),
            buf: b"data".to_vec(),
            whence: 0,
            offset: 0,
            filedes: 5,
            area_len: None,
            buf_hash: None,
        };
        let io = super::io_packet_from_request(py, &req).expect("packet");
        let g = namespace(py);
        g.set_item("io", &io).expect("set");
        run_in(
            py,
            &g,
            r#"
assert io.func == 3 and io.count == 4 and io.flags == 577 and io.mode == 0o600
assert io.buf == bytearray(b"data") and type(io.buf) is bytearray and io.fname == "/tmp/x"
assert io.status == 0 and io.filedes == 5 and io.win32 is False
io.status = 4; io.io_errno = 1; io.lerror = 2; io.win32 = True; io.filedes = 8
"#,
        );
        let back = super::io_packet_back(&io, 3, 4);
        assert_eq!(
            (
                back.status,
                back.io_errno,
                back.lerror,
                back.win32,
                back.filedes
            ),
            (4, 1, 2, true, 8)
        );
        assert!(back.buf.is_empty());

        let read = pb::IoRequest {
            func: 2,
            count: 10,
            ..req.clone()
        };
        let io = super::io_packet_from_request(py, &read).expect("packet");
        g.set_item("io", &io).expect("set");
        run_in(
            py,
            &g,
            "assert io.buf is None; io.buf = b'hello'; io.status = 5",
        );
        // The data is in the message, or in the I/O area when another test
        // of this process installed a session link.
        let data = |back: &pb::IoResult| match back.area_len {
            Some(len) => crate::core::written_data(len).expect("in the area"),
            None => back.buf.clone(),
        };
        let back = super::io_packet_back(&io, 2, 10);
        assert_eq!((back.status, data(&back).as_slice()), (5, &b"hello"[..]));
        // D8: status beyond the buffer is clamped.
        run_in(py, &g, "io.buf = bytearray(b'abc'); io.status = 8");
        let back = super::io_packet_back(&io, 2, 10);
        assert_eq!((back.status, data(&back).as_slice()), (3, &b"abc"[..]));
        // More than count: error.
        run_in(py, &g, "io.buf = bytearray(11); io.status = 5");
        assert_eq!(super::io_packet_back(&io, 2, 10).status, -1);
        run_in(py, &g, "io.buf = bytearray(3); io.status = 11");
        assert_eq!(super::io_packet_back(&io, 2, 10).status, -1);
        // Another type: status kept, nothing copied.
        run_in(py, &g, "io.buf = 'text'; io.status = 4");
        let back = super::io_packet_back(&io, 2, 10);
        assert_eq!((back.status, back.buf.len()), (4, 0));
    });
}

#[test]
fn restore_acl_xattr_and_objects() {
    with_py(|py| {
        let rp = pb::RestorePacket {
            stream: 1,
            r#type: 3,
            link_fi: 2,
            statp: Some(pb::Stat {
                mode: 0o100600,
                ..Default::default()
            }),
            ofname: Some(b"/r/f".to_vec()),
            r#where: Some(b"/r".to_vec()),
            create_status: 2,
            filedes: -1,
            ..Default::default()
        };
        let obj = super::restore_packet_from_proto(py, &rp).expect("packet");
        let g = namespace(py);
        g.set_item("rp", &obj).expect("set");
        run_in(
            py,
            &g,
            r#"
assert rp.linkFI == 2 and rp.ofname == "/r/f" and rp.where == "/r" and rp.olname is None
assert rp.statp.st_mode == 0o100600 and rp.create_status == b.CF_ERROR and rp.filedes == -1
rp.create_status = b.CF_EXTRACT; rp.filedes = 12
"#,
        );
        assert_eq!(super::restore_packet_back(&obj), (3, 12));

        let ap = pb::AclPacket {
            fname: b"/f".to_vec(),
            content: None,
        };
        let acl = super::acl_packet(py, &ap).expect("packet");
        g.set_item("acl", &acl).expect("set");
        run_in(py, &g, "assert acl.content is None and acl.fname == '/f'");
        assert_eq!(super::acl_packet_back(&acl).expect("ok"), None);
        run_in(py, &g, "acl.content = bytearray()");
        assert_eq!(super::acl_packet_back(&acl).expect("ok"), None);
        run_in(py, &g, "acl.content = bytearray(b'A')");
        assert_eq!(
            super::acl_packet_back(&acl).expect("ok"),
            Some(b"A".to_vec())
        );
        run_in(py, &g, "acl.content = b'A'");
        let e = super::acl_packet_back(&acl).expect_err("type");
        assert_eq!(
            e.value(py).to_string(),
            "acl packet content needs to be of bytearray type"
        );

        let xp = pb::XattrPacket {
            fname: b"/f".to_vec(),
            name: Some(b"user.k".to_vec()),
            value: Some(Vec::new()),
        };
        let x = super::xattr_packet(py, &xp).expect("packet");
        g.set_item("x", &x).expect("set");
        run_in(
            py,
            &g,
            "assert x.name == bytearray(b'user.k') and x.value is None",
        );
        assert_eq!(
            super::xattr_packet_back(&x),
            (Some(b"user.k".to_vec()), None)
        );
        run_in(py, &g, "x.value = bytearray(b'v')");
        assert_eq!(
            super::xattr_packet_back(&x),
            (Some(b"user.k".to_vec()), Some(b"v".to_vec()))
        );
        run_in(py, &g, "x.name = 'user.k'");
        assert_eq!(super::xattr_packet_back(&x), (None, None));

        let ro = pb::RestoreObject {
            object_name: b"obj".to_vec(),
            object: b"{\"a\": 1}".to_vec(),
            plugin_name: Some(b"python3:module_name=m".to_vec()),
            object_type: 25,
            object_len: 8,
            jobid: 42,
            ..Default::default()
        };
        let r = super::restore_object(py, &ro).expect("object");
        g.set_item("ro", &r).expect("set");
        run_in(
            py,
            &g,
            r#"
assert ro.object_name == "obj" and ro.object == bytearray(b'{"a": 1}') and ro.jobid == 42
assert ro.plugin_name == "python3:module_name=m" and ro.object_type == b.FT_RESTORE_FIRST
"#,
        );
        assert!(
            eval(py, &g, "type(ro).__name__ == 'restore_object'")
                .is_truthy()
                .expect("bool")
        );
    });
}

#[test]
fn get_value_presentation() {
    use super::functions::{Shape, present, shape};
    use pb::callback_reply::Value;
    assert_eq!(shape(3), Some(Shape::Int));
    assert_eq!(shape(2), Some(Shape::Str));
    assert_eq!(shape(20), Some(Shape::Bool));
    assert_eq!(shape(23), Some(Shape::BitSet));
    for v in [8, 10, 11, 17, 22, 24, 0] {
        assert_eq!(shape(v), None, "{v}");
    }
    with_py(|py| {
        let g = namespace(py);
        let show = |shape, value| {
            let v = present(py, shape, value).expect("value");
            g.set_item("v", v).expect("set");
        };
        show(Shape::Int, Some(Value::Number(70)));
        run_in(py, &g, "assert v == 70 and chr(v) == 'F'");
        show(Shape::Str, Some(Value::Text(b"client-fd".to_vec())));
        run_in(py, &g, "assert v == 'client-fd'");
        show(Shape::Str, None);
        run_in(py, &g, "assert v is None");
        show(Shape::Bool, Some(Value::Flag(false)));
        run_in(py, &g, "assert v is False");
        show(Shape::BitSet, Some(Value::Bits(32 | 128 | 256)));
        run_in(
            py,
            &g,
            "assert v == frozenset({32, 128, 256}) and type(v) is frozenset",
        );
        show(Shape::BitSet, Some(Value::Bits(0)));
        run_in(py, &g, "assert v == frozenset()");
        let e = present(py, Shape::Str, Some(Value::Text(vec![0xc3]))).expect_err("utf-8");
        assert!(e.is_instance_of::<pyo3::exceptions::PyUnicodeDecodeError>(py));
    });
}

#[test]
fn deletion_and_subclasses() {
    run(r#"
p = b.SavePacket()
for attr, exc in [("cmd", TypeError), ("type", TypeError), ("no_read", TypeError),
                  ("nonexistent", AttributeError)]:
    try:
        delattr(p, attr)
        raise AssertionError(attr)
    except exc:
        pass
class MyPacket(b.IoPacket):
    pass
m = MyPacket(func=1)
m.extra = 5
m.status = 3
assert m.extra == 5 and m.status == 3 and m.__dict__ == {"extra": 5}
del m.extra
del m.buf
assert m.buf is None and not hasattr(m, "extra")
r = b.RestorePacket()
r.linkFI = 4
assert r.linkFI == 4
try:
    del r.where
    raise AssertionError("del where")
except TypeError as e:
    assert str(e) == "readonly attribute"
"#);
}

/// Everything that depends on the process-wide core link and job state runs
/// in this one test: first without a daemon, then against a fake one. It
/// installs the link for the rest of the test binary.
#[test]
fn functions_and_core_link() {
    use pb::callback_reply::Value;
    use std::sync::{Arc, Mutex};

    assert!(super::state::check_changes());
    assert_eq!(super::state::since(), 0);
    assert_eq!(super::state::level(), None);
    super::state::set_level(i64::from(b'I'));
    assert_eq!(super::state::level(), Some(b'I'));

    run(r#"
def raises(exc, f, *args, contains=""):
    try:
        f(*args)
    except exc as e:
        assert contains in str(e), str(e)
        return e
    raise AssertionError(f"{f.__name__}{args} did not raise {exc.__name__}")

raises(RuntimeError, b.GetValue, b.bVarJobId, contains="bareos_core_functions is unset")
raises(RuntimeError, b.GetValue, b.bVarSinceTime, contains="bareos_core_functions is unset")
raises(RuntimeError, b.JobMessage, b.M_INFO, "hi", contains="bareos_core_functions is unset")
raises(RuntimeError, b.DebugMessage, 100, "hi", contains="bareos_core_functions is unset")
raises(RuntimeError, b.RegisterEvents, [1], contains="bareos_core_functions is unset")
raises(TypeError, b.GetValue, "x")
raises(TypeError, b.JobMessage)
raises(TypeError, b.GetInstanceCount, 1)
e = raises(SystemError, b.SetValue, 1, contains="<built-in function SetValue> returned a result with an exception set")
assert isinstance(e.__cause__, TypeError)
e = raises(SystemError, b.AddExclude, 5)
assert isinstance(e.__cause__, TypeError)
raises(SystemError, b.NewOptions, 1)
raises(SystemError, b.SetSeenBitmap, True, None)
"#);

    // A fake daemon answering callbacks the way the shim does, on the
    // other end of a call channel.
    let (theirs, ours) = sidecar_proto::frames::pipes().expect("pipes");
    let seen: Arc<Mutex<Vec<pb::runner_message::Kind>>> = Arc::default();
    let log = Arc::clone(&seen);
    std::thread::spawn(move || {
        use pb::callback::Kind as K;
        let mut shim = sidecar_proto::frames::Channel::new(theirs).expect("channel");
        let mut replies = shim.writer().expect("writer");
        while let Ok(msg) = shim.read::<pb::RunnerMessage>(std::time::Duration::ZERO, None) {
            let Some(kind) = msg.kind else { continue };
            log.lock().expect("log").push(kind.clone());
            let pb::runner_message::Kind::Callback(cb) = kind else {
                continue;
            };
            let mut reply = pb::CallbackReply {
                id: cb.id,
                ..Default::default()
            };
            match cb.kind {
                Some(K::GetValue(3)) => reply.value = Some(Value::Number(73)),
                Some(K::GetValue(2)) => reply.value = Some(Value::Text(b"fd".to_vec())),
                Some(K::GetValue(23)) => reply.value = Some(Value::Bits(0b101)),
                Some(K::GetValue(_)) => reply.rc = 2,
                Some(K::CheckChanges(_)) => {
                    reply.rc = 5;
                    reply.delta_seq = 7;
                    reply.accurate_found = true;
                }
                _ => {}
            }
            let reply = pb::ShimMessage {
                kind: Some(pb::shim_message::Kind::CallbackReply(reply)),
            };
            if replies.send(&reply).is_err() {
                break;
            }
        }
    });
    let null = std::fs::File::open("/dev/null").expect("/dev/null");
    let (area, _runner_end) = sidecar_proto::area::Area::create().expect("area");
    let ours = sidecar_proto::frames::Channel::new(ours).expect("channel");
    crate::core::install(ours, null.into(), area).expect("install");

    run(r#"
try:
    b.GetValue(b.bVarLevel)
    raise AssertionError("GetValue outside a call")
except RuntimeError as e:
    assert "plugin_ctx is unset" in str(e), str(e)
b.JobMessage(b.M_INFO, "outside")
b.DebugMessage(100)
"#);
    crate::core::set_in_call(true);
    run(r#"
assert b.GetValue(b.bVarLevel) == 73
assert b.GetValue(b.bVarFDName) == "fd"
assert b.GetValue(b.bVarJobId) is None
assert b.GetValue(b.bVarAccurateOptions) == frozenset({1, 4})
assert b.GetValue(b.bVarDistName) is None
assert b.GetValue(b.bVarSinceTime) == 0
assert b.SetValue(b.bVarSinceTime, 1234) == 0
assert b.GetValue(b.bVarSinceTime) == 1234
assert b.SetValue(b.bVarCheckChanges, 1) == 0
assert b.SetValue(99, 1) == 2
assert b.RegisterEvents([0, 1, 99, 2]) == 0
assert b.RegisterEvents([0, 32]) == 2
try:
    b.RegisterEvents(["x", 3])
    raise AssertionError("non-int event")
except SystemError as e:
    assert isinstance(e.__cause__, TypeError)
try:
    b.RegisterEvents(5)
    raise AssertionError("non-sequence")
except SystemError as e:
    assert str(e.__cause__) == "Expected a sequence of events"
assert b.AddExclude() == 2
assert b.AddExclude("/tmp") == 0
try:
    b.AddRegex("x")
    raise AssertionError("D7")
except TypeError as e:
    assert "requires the type argument" in str(e)
assert b.AddWild("*.o", 0) == 0
sp = b.SavePacket(fname="/f", type=b.FT_REG)
sp.statp = b.StatPacket()
assert b.CheckChanges(sp) == b.bRC_Seen and sp.delta_seq == 7 and sp.accurate_found is True
assert b.CheckChanges(b.SavePacket(fname=3)) == 2
assert b.AcceptFile(sp) == 0
assert b.AcceptFile(b.SavePacket(fname="/f")) == 2
assert b.SetSeenBitmap(True) == 0
assert b.ClearSeenBitmap(False, "/f") == 0
b.JobMessage(b.M_ERROR, "inside")
# A round trip: the fake daemon has handled every frame sent before it.
assert b.GetValue(b.bVarLevel) == 73
"#);
    crate::core::set_in_call(false);
    assert_eq!(super::state::since(), 1234);
    assert!(!super::state::check_changes());

    use pb::callback::Kind as K;
    let seen = seen.lock().expect("log").clone();
    let texts: Vec<String> = seen
        .iter()
        .filter_map(|k| match k {
            pb::runner_message::Kind::Log(pb::Log {
                kind: Some(pb::log::Kind::Job(j)),
            }) => Some(format!("{}:{}", j.r#type, String::from_utf8_lossy(&j.text))),
            _ => None,
        })
        .collect();
    // (io_packets may run concurrently and log its D8 warning.)
    let texts: Vec<&String> = texts.iter().filter(|t| !t.contains("plugin_io")).collect();
    assert_eq!(
        texts,
        ["6:python3-fd-mod: outside", "4:python3-fd-mod: inside"]
    );
    let callbacks: Vec<K> = seen
        .iter()
        .filter_map(|k| match k {
            pb::runner_message::Kind::Callback(c) => c.kind.clone(),
            _ => None,
        })
        .collect();
    assert!(callbacks.contains(&K::SetValue(pb::SetValue {
        var: 20,
        value: Some(pb::set_value::Value::Flag(false)),
    })));
    assert!(callbacks.contains(&K::RegisterEvents(pb::Events { events: vec![1, 2] })));
    assert!(callbacks.contains(&K::RegisterEvents(pb::Events { events: vec![3] })));
    assert!(callbacks.contains(&K::AddWild(pb::Pattern {
        item: b"*.o".to_vec(),
        r#type: 0
    })));
    assert!(callbacks.contains(&K::ClearSeenBitmap(pb::SeenBitmap {
        all: false,
        fname: Some(b"/f".to_vec()),
    })));
    let check = callbacks
        .iter()
        .find_map(|k| match k {
            K::CheckChanges(sp) => Some(sp.clone()),
            _ => None,
        })
        .expect("CheckChanges sent");
    // D9: no stat travels with CheckChanges.
    assert_eq!(
        (check.fname.as_deref(), check.r#type, check.statp),
        (Some(&b"/f"[..]), 3, None)
    );
    let accept = callbacks
        .iter()
        .find_map(|k| match k {
            K::AcceptFile(sp) => Some(sp.clone()),
            _ => None,
        })
        .expect("AcceptFile sent");
    assert_eq!(accept.statp.map(|s| s.mode), Some(0o100700));
}
