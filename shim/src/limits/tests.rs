use super::*;
use crate::options::{Command, parse_command};

fn cmd(s: &str) -> Command {
    parse_command(s.as_bytes()).unwrap()
}

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
    let l = Limits::resolve(&c, mysql.overrides()).unwrap();
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
    let l = Limits::resolve(&c, other.overrides()).unwrap();
    assert_eq!(l.memory.as_ref().unwrap().value, 256 << 20);
    assert_eq!(l.memory.as_ref().unwrap().origin, "sidecar.memory");
    assert_eq!(l.cpu.as_ref().unwrap().value, Duration::from_secs(60));
    assert_eq!(l.files, None);
    assert_eq!(l.sandbox, None);

    // Without a command (or a module name) only the defaults apply.
    let l = Limits::resolve(&c, Overrides::default()).unwrap();
    assert_eq!(l.memory.as_ref().unwrap().value, 1 << 30);
    assert_eq!(l.cpu.as_ref().unwrap().value, Duration::from_secs(3600));
    let sandboxed = cmd("python3:module_name=x:sidecar.sandbox=on:sidecar.walltime=90");
    let l = Limits::resolve(&c, sandboxed.overrides()).unwrap();
    assert_eq!(l.sandbox.as_ref().unwrap().origin, "sidecar.sandbox");
    assert_eq!(l.walltime.as_ref().unwrap().value, Duration::from_secs(90));
    assert_eq!(
        Limits::resolve(&LimitsConfig::default(), Overrides::default()).unwrap(),
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
    let string = cmd("python3:module_name=x:sidecar.cpu=2:sidecar.procs=8:sidecar.walltime=5s");
    let l = Limits::resolve(&c, string.overrides()).unwrap();
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
    let sb = Limits::resolve(
        &c,
        cmd("python3:module_name=x:sidecar.sandbox=on").overrides(),
    )
    .unwrap();
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
    let l = Limits::resolve(
        &c,
        cmd("python3:module_name=x:sidecar.ionice=idle").overrides(),
    )
    .unwrap();
    let s = l.summary();
    assert!(
        s.contains("memory 1 GiB (memory in sidecar.toml [limits])"),
        "{s}"
    );
    assert!(s.contains("ionice idle (sidecar.ionice)"), "{s}");
}
