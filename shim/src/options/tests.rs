use super::*;
use crate::daemon::Daemon;

fn cmd(s: &str) -> Command {
    parse_command(s.as_bytes()).unwrap()
}

fn stripped(s: &str) -> String {
    String::from_utf8(cmd(s).stripped).unwrap()
}

#[test]
fn sidecar_options_are_removed_and_the_rest_kept_byte_for_byte() {
    assert_eq!(
        stripped("python3:module_name=m:sidecar.memory=1G:a=1"),
        "python3:module_name=m:a=1"
    );
    assert_eq!(
        stripped("python3:module_name=m:sidecar.cpu=2"),
        "python3:module_name=m"
    );
    assert_eq!(
        stripped("python3:sidecar.cpu=2:module_name=m"),
        "python3:module_name=m"
    );
    assert_eq!(
        stripped("python3:module_name=m:sidecar.cpu=2:"),
        "python3:module_name=m:"
    );
    assert_eq!(stripped("python3:sidecar.cpu=2"), "python3:");
    assert_eq!(
        stripped("python3:pw=a\\:b:sidecar.files=9:path=/x\\:y\\:z:q="),
        "python3:pw=a\\:b:path=/x\\:y\\:z:q="
    );
    // Unchanged when there is nothing to remove, whatever the string.
    for s in [
        "python3",
        "python3:",
        "python3:module_name=m",
        "python3:module_name=m:novalue",
        "python3:a=1::b=2",
        "python3:a=b\\::c=d",
        "*all*",
        "",
    ] {
        assert_eq!(stripped(s), s);
    }
}

#[test]
fn keys_values_and_the_module_are_found() {
    let c = cmd(
        "python3:module_path=/p\\:q:module_name=my\\_mod:Sidecar.Memory=512M:SIDECAR.sandbox=on:sidecar.memory=1G",
    );
    assert_eq!(c.module_name.as_deref(), Some("my_mod"));
    assert_eq!(c.module_path.as_deref(), Some("/p:q"));
    assert_eq!(
        c.keys,
        vec![
            ("memory".to_string(), "512M".to_string()),
            ("sandbox".to_string(), "on".to_string()),
            ("memory".to_string(), "1G".to_string()),
        ]
    );
    // python3-fd's prefix matching: `module` is module_path, `module_n`
    // module_name.
    let c = cmd("python3:module=/p:module_n=n");
    assert_eq!(c.module_path.as_deref(), Some("/p"));
    assert_eq!(c.module_name.as_deref(), Some("n"));
}

#[test]
fn unknown_keys_and_bad_values_are_errors_naming_the_key() {
    let e = parse_command(b"python3:module_name=m:sidecar.memroy=1G").unwrap_err();
    assert!(e.contains("unknown plugin option sidecar.memroy"), "{e}");
    assert!(e.contains("sidecar.memory"), "{e}");
    let e = parse_command(b"python3:module_name=m:sidecar.memory=lots").unwrap_err();
    assert!(
        e.starts_with("plugin option sidecar.memory: `lots` is not a size"),
        "{e}"
    );
    let e = parse_command(b"python3:module_name=m:sidecar.sandbox=perhaps").unwrap_err();
    assert!(e.contains("sidecar.sandbox"), "{e}");
    // The value of an unknown key is never repeated (it may be a secret).
    let e = parse_command(b"python3:sidecar.token=hunter2").unwrap_err();
    assert!(!e.contains("hunter2"), "{e}");
}

#[test]
fn secrets_are_redacted() {
    assert_eq!(
        redact(b"python3:module_name=m:password=a\\:b:api_token=t:x=1"),
        "python3:module_name=m:password=***:api_token=***:x=1"
    );
    assert_eq!(redact(b"python3:SecretKey=s:"), "python3:SecretKey=***:");
    assert_eq!(redact(b"python3"), "python3");
}

/// How python3-fd (the runner's `definition`) splits a string: the
/// module's path and name and the other options as (key, value) pairs.
type Parsed = (Option<Vec<u8>>, Option<Vec<u8>>, Vec<(Vec<u8>, Vec<u8>)>);

fn reference_parse(text: &[u8]) -> Option<Parsed> {
    let colon = text.iter().position(|&b| b == b':')?;
    let mut rest = &text[colon + 1..];
    let (mut path, mut name, mut opts) = (None, None, Vec::new());
    while !rest.is_empty() {
        let eq = rest.iter().position(|&b| b == b'=')?;
        let key = &rest[..eq];
        let after = &rest[eq + 1..];
        let end = unescaped_colon(after).unwrap_or(after.len());
        let value = after[..end].to_vec();
        rest = after.get(end + 1..).unwrap_or(&[]);
        if is_prefix_of(key, "module_path") {
            path = Some(value);
        } else if is_prefix_of(key, "module_name") {
            name = Some(value);
        } else {
            opts.push((key.to_vec(), value));
        }
    }
    Some((path, name, opts))
}

fn without_sidecar(opts: Vec<(Vec<u8>, Vec<u8>)>) -> Vec<(Vec<u8>, Vec<u8>)> {
    opts.into_iter()
        .filter(|(k, _)| {
            !(k.len() >= PREFIX.len() && k[..PREFIX.len()].eq_ignore_ascii_case(PREFIX.as_bytes()))
        })
        .collect()
}

/// The pieces plugin strings are made of in the property below: the
/// separators, escapes, module keys and sidecar options in every mix.
const PIECES: [&[u8]; 14] = [
    b"a",
    b"=",
    b":",
    b"\\",
    b"\\:",
    b"x=1",
    b"module_name=",
    b"module_path=",
    b"sidecar.nice=5",
    b"sidecar.cpu=2",
    b"SIDECAR.files=7",
    b"p=q\\:r",
    b"mod",
    b"\xc3\xa4",
];

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(4000))]

    /// Stripping never changes what python3-fd makes of the other options,
    /// the module name or the module path.
    #[test]
    fn stripping_never_changes_other_options(
        parts in proptest::collection::vec((0..PIECES.len(), proptest::bool::ANY), 0..9)
    ) {
        let mut s = b"python3:".to_vec();
        for (piece, colon) in parts {
            s.extend_from_slice(PIECES[piece]);
            if colon {
                s.push(b':');
            }
        }
        // An error: a sidecar option swallowed other text into its value.
        if let Ok(c) = parse_command(&s) {
            let text = String::from_utf8_lossy(&s).into_owned();
            match (reference_parse(&s), reference_parse(&c.stripped)) {
                (Some((p1, n1, o1)), Some((p2, n2, o2))) => {
                    proptest::prop_assert_eq!(p1, p2, "{}", text);
                    proptest::prop_assert_eq!(n1, n2, "{}", text);
                    proptest::prop_assert_eq!(without_sidecar(o1), o2, "{}", text);
                }
                (None, None) => {}
                (b, a) => proptest::prop_assert!(false, "{}: parses differ: {:?} vs {:?}", text, b, a),
            }
        }
    }
}

#[test]
fn every_plugin_string_in_a_call_is_stripped() {
    use crate::abi::event as ev;
    let text = b"python3:module_name=m:sidecar.cpu=3:x=1".to_vec();
    let want = b"python3:module_name=m:x=1".to_vec();
    for event_type in [
        ev::BackupCommand,
        ev::RestoreCommand,
        ev::EstimateCommand,
        ev::PluginCommand,
        ev::NewPluginOptions,
    ] {
        let mut kind = call::Kind::HandlePluginEvent(pb::Event {
            event_type,
            value: Some(event::Value::Text(text.clone())),
        });
        let c = strip_call(Daemon::Fd, &mut kind)
            .unwrap()
            .expect("a command");
        assert_eq!(c.keys, vec![("cpu".to_string(), "3".to_string())]);
        let call::Kind::HandlePluginEvent(pb::Event {
            value: Some(event::Value::Text(t)),
            ..
        }) = kind
        else {
            unreachable!()
        };
        assert_eq!(t, want);
    }
    // JobStart's text is not a plugin string.
    let mut kind = call::Kind::HandlePluginEvent(pb::Event {
        event_type: ev::JobStart,
        value: Some(event::Value::Text(b"Job=sidecar.cpu=1".to_vec())),
    });
    assert_eq!(strip_call(Daemon::Fd, &mut kind).unwrap(), None);
    let mut kind = call::Kind::HandlePluginEvent(pb::Event {
        event_type: ev::RestoreObject,
        value: Some(event::Value::RestoreObject(pb::RestoreObject {
            plugin_name: Some(text.clone()),
            ..Default::default()
        })),
    });
    assert!(strip_call(Daemon::Fd, &mut kind).unwrap().is_some());
    let call::Kind::HandlePluginEvent(pb::Event {
        value: Some(event::Value::RestoreObject(ro)),
        ..
    }) = kind
    else {
        unreachable!()
    };
    assert_eq!(ro.plugin_name, Some(want.clone()));
    let mut kind = call::Kind::StartRestoreFile(text.clone());
    assert_eq!(strip_call(Daemon::Fd, &mut kind).unwrap(), None);
    assert!(matches!(kind, call::Kind::StartRestoreFile(ref t) if *t == want));
    let mut kind = call::Kind::StartBackupFile(pb::BackupRequest {
        cmd: text.clone(),
        flags: vec![],
    });
    strip_call(Daemon::Fd, &mut kind).unwrap();
    assert!(matches!(kind, call::Kind::StartBackupFile(ref r) if r.cmd == want));
    let mut kind = call::Kind::HandlePluginEvent(pb::Event {
        event_type: ev::HandleBackupFile,
        value: Some(event::Value::Save(pb::SavePacket {
            cmd: Some(text.clone()),
            ..Default::default()
        })),
    });
    strip_call(Daemon::Fd, &mut kind).unwrap();
    let call::Kind::HandlePluginEvent(pb::Event {
        value: Some(event::Value::Save(sp)),
        ..
    }) = kind
    else {
        unreachable!()
    };
    assert_eq!(sp.cmd, Some(want));
    let mut kind = call::Kind::StartRestoreFile(b"python3:sidecar.bogus=1".to_vec());
    assert!(strip_call(Daemon::Fd, &mut kind).is_err());
}
