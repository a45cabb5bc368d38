//! Record and replay: `sidecar.record=FILE` writes a job's session down on
//! the runner's side; `sidecar-runner replay FILE` runs the plugin against
//! it with no daemon and no fdhost, and reports the first difference.

mod sidecar_env;

use std::path::PathBuf;
use std::process::Command;

use sidecar_env::*;

struct Recorded {
    env: Env,
    recording: PathBuf,
    modules: PathBuf,
}

/// Backs up a small tree through a copy of the Bareos-style example
/// (restore objects, GetValue, JobMessage, RegisterEvents, plugin_io),
/// recording the session (`data` = full or hash).
fn record(data: &str) -> Recorded {
    let env = Env::new();
    env.config("[debug]\nallow = true\n");
    let src = env.path("src");
    std::fs::create_dir_all(src.join("sub")).unwrap();
    std::fs::write(src.join("a.txt"), noise(1000, 1)).unwrap();
    std::fs::write(src.join("sub/c.txt"), noise(100_000, 3)).unwrap();
    // Reading the files in the backup must not move their atime (which
    // the plugin saves): a replay a second later would see another stat.
    // An atime newer than ctime and less than a day old is left alone.
    use nix::sys::stat::{UtimensatFlags, utimensat};
    use nix::sys::time::TimeSpec;
    let later = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
        + 3600;
    for f in [
        src.join("a.txt"),
        src.join("sub/c.txt"),
        src.join("sub"),
        src.clone(),
    ] {
        utimensat(
            None,
            &f,
            &TimeSpec::new(later, 0),
            &TimeSpec::UTIME_OMIT,
            UtimensatFlags::NoFollowSymlink,
        )
        .unwrap();
    }
    let list = env.path("list");
    std::fs::write(&list, format!("{}\n", src.display())).unwrap();
    // A copy, so a test can change the plugin after recording.
    let modules = env.path("modules");
    std::fs::create_dir(&modules).unwrap();
    for entry in std::fs::read_dir(root().join("python/examples/bareos_style")).unwrap() {
        let p = entry.unwrap().path();
        if p.extension().is_some_and(|e| e == "py") {
            std::fs::copy(&p, modules.join(p.file_name().unwrap())).unwrap();
        }
    }
    let recording = env.path("session.rec");
    let plugin = plugin_string(
        &modules,
        "bareos_style_local_files",
        &format!(
            "filename={}:password=hunter2:sidecar.record={}:sidecar.record_data={data}",
            list.display(),
            recording.display()
        ),
    );
    env.backup("archive", &[&plugin], &[]).expect_ok();
    Recorded {
        env,
        recording,
        modules,
    }
}

fn replay(r: &Recorded) -> (bool, String) {
    let runner = std::fs::read_link(r.env.plugins.join("sidecar/sidecar-runner")).unwrap();
    let out = Command::new(runner)
        .arg("replay")
        .arg(&r.recording)
        .env_clear()
        .env("PATH", "/usr/sbin:/usr/bin:/sbin:/bin")
        .output()
        .unwrap();
    (
        out.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

fn calls_and_callbacks(out: &str) -> (u32, u32) {
    let line = out
        .lines()
        .find(|l| l.contains("calls and"))
        .unwrap_or_else(|| panic!("no summary:\n{out}"));
    let n: Vec<u32> = line
        .split_whitespace()
        .filter_map(|w| w.parse().ok())
        .collect();
    (n[0], n[1])
}

#[test]
fn a_recorded_backup_replays_without_a_daemon_and_without_difference() {
    let r = record("full");
    let (ok, out) = replay(&r);
    assert!(ok, "{out}");
    assert!(out.contains("no difference"), "{out}");
    let (calls, callbacks) = calls_and_callbacks(&out);
    assert!(calls > 20, "{out}");
    assert!(
        callbacks > 5,
        "core functions were answered from the recording:\n{out}"
    );
    // Secrets of the plugin string never reach the file.
    let bytes = std::fs::read(&r.recording).unwrap();
    assert!(!contains(&bytes, b"hunter2"));
    assert!(contains(&bytes, b"password=***"));
}

#[test]
fn a_recording_with_hashed_data_replays_too() {
    let r = record("hash");
    let size = std::fs::metadata(&r.recording).unwrap().len();
    assert!(
        size < 50_000,
        "the 100 kB file is not in the recording ({size} bytes)"
    );
    let (ok, out) = replay(&r);
    assert!(ok, "{out}");
    assert!(out.contains("no difference"), "{out}");
}

#[test]
fn a_changed_plugin_is_caught_at_the_first_difference_with_both_sides() {
    let r = record("full");
    // The plugin now names the files it saves differently.
    let file = r.modules.join("bareos_style_local_files.py");
    let text = std::fs::read_to_string(&file).unwrap();
    let changed = text.replacen("savepkt.fname = ", "savepkt.fname = '/changed' + ", 1);
    assert_ne!(text, changed, "the example has a savepkt.fname line");
    std::fs::write(&file, changed).unwrap();
    let (ok, out) = replay(&r);
    assert!(!ok, "{out}");
    assert!(out.contains("the result differs"), "{out}");
    assert!(out.contains("then: ") && out.contains("now:  "), "{out}");
    assert!(
        out.contains("/changed"),
        "the new side shows the change:\n{out}"
    );
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}
