use super::*;

fn set<T>(r: Result<Setting<T>, String>) -> T {
    match r {
        Ok(Setting::Set(v)) => v,
        Ok(Setting::Unlimited) => panic!("unlimited"),
        Err(e) => panic!("{e}"),
    }
}

#[test]
fn sizes() {
    assert_eq!(set(parse_size("1024")), 1024);
    assert_eq!(set(parse_size("512K")), 512 << 10);
    assert_eq!(set(parse_size("512M")), 512 << 20);
    assert_eq!(set(parse_size("512MiB")), 512 << 20);
    assert_eq!(set(parse_size("1g")), 1 << 30);
    assert_eq!(set(parse_size(" 1.5G ")), 3 << 29);
    assert_eq!(set(parse_size("2 GB")), 2 << 30);
    assert_eq!(set(parse_size("1T")), 1 << 40);
    assert_eq!(parse_size("unlimited"), Ok(Setting::Unlimited));
    assert_eq!(parse_size("max"), Ok(Setting::Unlimited));
    for bad in ["", "G", "12X", "-1G", "0", "1..2M", "abc"] {
        assert!(parse_size(bad).is_err(), "{bad}");
    }
    assert!(
        parse_size("12X")
            .unwrap_err()
            .contains("`12X` is not a size")
    );
}

#[test]
fn durations() {
    assert_eq!(set(parse_duration("90")), Duration::from_secs(90));
    assert_eq!(set(parse_duration("1.5")), Duration::from_millis(1500));
    assert_eq!(set(parse_duration("30s")), Duration::from_secs(30));
    assert_eq!(set(parse_duration("10m")), Duration::from_secs(600));
    assert_eq!(set(parse_duration("10 min")), Duration::from_secs(600));
    assert_eq!(set(parse_duration("2h")), Duration::from_secs(7200));
    assert_eq!(set(parse_duration("1d")), Duration::from_secs(86400));
    assert_eq!(parse_duration("unlimited"), Ok(Setting::Unlimited));
    for bad in ["", "0", "1w", "s", "-3", "1e400"] {
        assert!(parse_duration(bad).is_err(), "{bad}");
    }
}

#[test]
fn counts_cpus_nice_ionice_switches() {
    assert_eq!(set(parse_count("64")), 64);
    assert!(parse_count("0").is_err());
    assert!(parse_count("1.5").is_err());
    assert_eq!(set(parse_cpus("0.5")), 0.5);
    assert_eq!(set(parse_cpus("150%")), 1.5);
    assert!(parse_cpus("0").is_err());
    assert_eq!(set(parse_nice("10")), 10);
    assert_eq!(set(parse_nice("-20")), -20);
    assert!(parse_nice("20").is_err());
    assert_eq!(set(parse_ionice("idle")), IoNice::Idle);
    assert_eq!(set(parse_ionice("best-effort:7")), IoNice::BestEffort(7));
    assert_eq!(set(parse_ionice("be/2")), IoNice::BestEffort(2));
    assert_eq!(set(parse_ionice("best-effort")), IoNice::BestEffort(4));
    assert_eq!(set(parse_ionice("rt:0")), IoNice::Realtime(0));
    assert!(parse_ionice("be:8").is_err());
    assert!(parse_ionice("fast").is_err());
    assert_eq!(IoNice::Idle.ioprio(), 3 << 13);
    assert_eq!(IoNice::BestEffort(7).ioprio(), (2 << 13) | 7);
    assert_eq!(parse_switch("on"), Ok(true));
    assert_eq!(parse_switch("False"), Ok(false));
    assert!(parse_switch("maybe").is_err());
}

#[test]
fn formatting() {
    assert_eq!(format_size(256 << 20), "256 MiB");
    assert_eq!(format_size(3 << 29), "1.5 GiB");
    assert_eq!(format_size(1000), "1000 bytes");
    assert_eq!(format_duration(Duration::from_secs(2)), "2 s");
    assert_eq!(format_duration(Duration::from_secs(600)), "10 min");
    assert_eq!(format_duration(Duration::from_secs(7200)), "2 h");
    assert_eq!(format_duration(Duration::from_secs(90)), "90 s");
    assert_eq!(format_duration(Duration::from_millis(1500)), "1.5 s");
}

#[test]
fn globs() {
    assert!(glob_match("*", "anything"));
    assert!(glob_match("*", ""));
    assert!(glob_match("bareos-fd-*", "bareos-fd-mysql"));
    assert!(!glob_match("bareos-fd-*", "bareos-sd-mysql"));
    assert!(glob_match("*sql*", "bareos-fd-postgresql-x"));
    assert!(glob_match("limit_?", "limit_a"));
    assert!(!glob_match("limit_?", "limit_ab"));
    assert!(glob_match("a*b*c", "aXbYbZc"));
    assert!(!glob_match("a*b*c", "aXbYbZ"));
    assert!(glob_match("exact", "exact"));
    assert!(!glob_match("exact", "exactly"));
}

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
        let c = strip_call(&mut kind).unwrap().expect("a command");
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
    assert_eq!(strip_call(&mut kind).unwrap(), None);
    let mut kind = call::Kind::HandlePluginEvent(pb::Event {
        event_type: ev::RestoreObject,
        value: Some(event::Value::RestoreObject(pb::RestoreObject {
            plugin_name: Some(text.clone()),
            ..Default::default()
        })),
    });
    assert!(strip_call(&mut kind).unwrap().is_some());
    let call::Kind::HandlePluginEvent(pb::Event {
        value: Some(event::Value::RestoreObject(ro)),
        ..
    }) = kind
    else {
        unreachable!()
    };
    assert_eq!(ro.plugin_name, Some(want.clone()));
    let mut kind = call::Kind::StartRestoreFile(text.clone());
    assert_eq!(strip_call(&mut kind).unwrap(), None);
    assert!(matches!(kind, call::Kind::StartRestoreFile(ref t) if *t == want));
    let mut kind = call::Kind::StartBackupFile(pb::BackupRequest {
        cmd: text.clone(),
        flags: vec![],
    });
    strip_call(&mut kind).unwrap();
    assert!(matches!(kind, call::Kind::StartBackupFile(ref r) if r.cmd == want));
    let mut kind = call::Kind::HandlePluginEvent(pb::Event {
        event_type: ev::HandleBackupFile,
        value: Some(event::Value::Save(pb::SavePacket {
            cmd: Some(text.clone()),
            ..Default::default()
        })),
    });
    strip_call(&mut kind).unwrap();
    let call::Kind::HandlePluginEvent(pb::Event {
        value: Some(event::Value::Save(sp)),
        ..
    }) = kind
    else {
        unreachable!()
    };
    assert_eq!(sp.cmd, Some(want));
    let mut kind = call::Kind::StartRestoreFile(b"python3:sidecar.bogus=1".to_vec());
    assert!(strip_call(&mut kind).is_err());
}

fn config(text: &str) -> LimitsConfig {
    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct F {
        #[serde(default)]
        limits: Settings,
        #[serde(default)]
        plugin: Vec<Settings>,
    }
    let f: F = toml::from_str(text).unwrap();
    let c = LimitsConfig {
        defaults: f.limits,
        plugins: f.plugin,
        cgroup: None,
        source: "sidecar.toml".into(),
    };
    c.validate().unwrap();
    c
}

const CONFIG: &str = r#"
[limits]
memory = "1G"
cpu = "1h"
files = 1024
nice = 5

[[plugin]]
module = "bareos-fd-mysql*"
memory = "4G"
files = "unlimited"
sandbox = true
user = "nobody"
write_paths = ["/var/tmp"]

[[plugin]]
module = "*"
cpu = 60
"#;

#[test]
fn defaults_then_the_first_matching_section_then_the_string() {
    let c = config(CONFIG);
    let mysql = cmd("python3:module_name=bareos-fd-mysql-x");
    let l = Limits::resolve(&c, Some(&mysql)).unwrap();
    assert_eq!(l.memory.as_ref().unwrap().value, 4 << 30);
    assert_eq!(
        l.memory.as_ref().unwrap().origin,
        "memory in sidecar.toml [[plugin]] module = \"bareos-fd-mysql*\""
    );
    assert_eq!(l.files, None, "unlimited lifts the default");
    // First match wins: the catch-all's cpu does not apply.
    assert_eq!(l.cpu.as_ref().unwrap().value, Duration::from_secs(3600));
    assert_eq!(
        l.cpu.as_ref().unwrap().origin,
        "cpu in sidecar.toml [limits]"
    );
    assert_eq!(l.nice.as_ref().unwrap().value, 5);
    let sb = l.sandbox.as_ref().unwrap();
    assert_eq!(sb.user.as_deref(), Some("nobody"));
    assert_eq!(sb.write_paths, vec![PathBuf::from("/var/tmp")]);
    assert!(sb.env.contains(&"PATH".to_string()));

    let other = cmd("python3:module_name=other:sidecar.memory=256M:sidecar.files=unlimited");
    let l = Limits::resolve(&c, Some(&other)).unwrap();
    assert_eq!(l.memory.as_ref().unwrap().value, 256 << 20);
    assert_eq!(l.memory.as_ref().unwrap().origin, "sidecar.memory");
    assert_eq!(l.cpu.as_ref().unwrap().value, Duration::from_secs(60));
    assert_eq!(l.files, None);
    assert_eq!(l.sandbox, None);

    // Without a command (or a module name) only the defaults apply.
    let l = Limits::resolve(&c, None).unwrap();
    assert_eq!(l.memory.as_ref().unwrap().value, 1 << 30);
    assert_eq!(l.cpu.as_ref().unwrap().value, Duration::from_secs(3600));
    let sandboxed = cmd("python3:module_name=x:sidecar.sandbox=on:sidecar.walltime=90");
    let l = Limits::resolve(&c, Some(&sandboxed)).unwrap();
    assert_eq!(l.sandbox.as_ref().unwrap().origin, "sidecar.sandbox");
    assert_eq!(l.walltime.as_ref().unwrap().value, Duration::from_secs(90));
    assert_eq!(
        Limits::resolve(&LimitsConfig::default(), None).unwrap(),
        Limits::default()
    );
}

#[test]
fn module_is_required_in_sections_and_refused_in_limits() {
    let mut c = config("[[plugin]]\nmodule = \"x\"\n");
    c.plugins.push(Settings::default());
    assert!(
        c.validate().unwrap_err().contains("#2"),
        "{:?}",
        c.validate()
    );
    let mut c = LimitsConfig::default();
    c.defaults.module = Some("x".into());
    assert!(c.validate().unwrap_err().contains("[[plugin]]"));
}

#[test]
fn messages_name_the_limit() {
    let c = config(CONFIG);
    let l = Limits::resolve(
        &c,
        Some(&cmd(
            "python3:module_name=x:sidecar.cpu=2:sidecar.procs=8:sidecar.walltime=5s",
        )),
    )
    .unwrap();
    assert_eq!(
        l.explain_signal(libc::SIGXCPU, false).unwrap(),
        "CPU time limit of 2 s (sidecar.cpu) exceeded"
    );
    assert!(
        l.explain_signal(libc::SIGKILL, true)
            .unwrap()
            .starts_with("memory limit of 1 GiB (memory in sidecar.toml [limits]) exceeded")
    );
    assert!(
        l.explain_signal(libc::SIGABRT, false)
            .unwrap()
            .contains("memory limit of 1 GiB")
    );
    assert_eq!(l.explain_signal(libc::SIGTERM, false), None);
    assert!(
        l.explain_exit(127)
            .unwrap()
            .contains("open files limit of 1024 (files in")
    );
    assert_eq!(Limits::default().explain_exit(127), None);
    let sb = Limits::resolve(&c, Some(&cmd("python3:module_name=x:sidecar.sandbox=on"))).unwrap();
    assert!(
        sb.explain_exit(127)
            .unwrap()
            .contains("add the directory of its Python")
    );
    assert_eq!(sb.explain_exit(1), None);
    assert_eq!(
        l.walltime_exceeded().unwrap(),
        "wall time limit of 5 s (sidecar.walltime) exceeded"
    );
    let tb = b"bareosfd: Traceback (most recent call last):\n  ...\nMemoryError\n";
    assert_eq!(
        l.annotate(tb).unwrap(),
        "python3-fd (sidecar): the plugin's memory limit is 1 GiB (memory in sidecar.toml [limits])"
    );
    let tb = b"OSError: [Errno 24] Too many open files: '/x'\n";
    assert!(l.annotate(tb).unwrap().contains("open files limit is 1024"));
    let tb = b"BlockingIOError: [Errno 11] Resource temporarily unavailable\n";
    assert!(
        l.annotate(tb)
            .unwrap()
            .contains("process limit is 8 (sidecar.procs)")
    );
    assert_eq!(l.annotate(b"ValueError: nope\n"), None);
    assert_eq!(Limits::default().annotate(b"MemoryError\n"), None);
}

#[test]
fn summary_lists_what_is_in_force() {
    assert_eq!(Limits::default().summary(), "none besides core dumps off");
    let c = config(CONFIG);
    let l = Limits::resolve(&c, Some(&cmd("python3:module_name=x:sidecar.ionice=idle"))).unwrap();
    let s = l.summary();
    assert!(
        s.contains("memory 1 GiB (memory in sidecar.toml [limits])"),
        "{s}"
    );
    assert!(s.contains("ionice idle (sidecar.ionice)"), "{s}");
}
