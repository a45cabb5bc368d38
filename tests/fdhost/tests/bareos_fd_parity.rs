//! Where fdhost follows what a real bareos-fd does and plugins notice:
//! a Full + Differential + Incremental chain restored in one job, restore
//! objects delivered only as bEventRestoreObject (a bareos-fd-postgresql
//! style plugin), ACL/xattr support on by default, `regexwhere`, and
//! bVarUsedConfig. All through the shim and the runner with
//! python/tests/plugins/pg_style.py.

mod sidecar_env;

use std::path::Path;

use sidecar_env::*;

fn pg(extra: &str) -> String {
    plugin_string(&test_plugins(), "pg_style", extra)
}

/// The plugin's `pg: ...` job messages, in order.
fn pg_lines(run: &Run) -> Vec<String> {
    run.stdout
        .lines()
        .filter_map(|l| l.split_once(": pg: ").map(|(_, r)| r.to_string()))
        .collect()
}

/// A report value, e.g. `report(&run, "FD Files Restored")`.
fn report(run: &Run, key: &str) -> String {
    let key = format!("{key}:");
    run.stdout
        .lines()
        .find_map(|l| l.trim_start().strip_prefix(key.as_str()))
        .map(|v| v.trim().to_string())
        .unwrap_or_default()
}

fn restore_args<'a>(env: &'a Env, archives: &'a [String], extra: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec!["restore", "--plugin-dir", env.plugins.to_str().unwrap()];
    for a in archives {
        args.extend(["--archive", a.as_str()]);
    }
    args.extend_from_slice(extra);
    args
}

#[test]
fn a_full_differential_incremental_chain_restores_in_one_job() {
    let env = Env::new();
    env.backup("full", &[&pg("files=a,b,c:tag=F")], &["--accurate"])
        .expect_ok();
    // Differential: a changed, e new; b and c unchanged. (Tags of other
    // lengths: the files change size within the second.)
    env.backup(
        "diff",
        &[&pg("files=a,e:tag=DD:keep=b,c")],
        &["--accurate", "--level", "D"],
    )
    .expect_ok();
    // Incremental: a changed again, d new, c and e unchanged, b deleted.
    let incr = env.backup(
        "incr",
        &[&pg("files=a,d:tag=III:keep=c,e")],
        &["--accurate", "--level", "I"],
    );
    incr.expect_ok();
    assert!(incr.stdout.contains("Deleted: /pg/b"), "{}", incr.all());

    let w = env.path("w");
    let archives: Vec<String> = ["full", "diff", "incr"]
        .iter()
        .map(|a| env.path(a).display().to_string())
        .collect();
    let r = fdhost(&restore_args(
        &env,
        &archives,
        &["--where", w.to_str().unwrap()],
    ));
    r.expect_ok();
    assert!(r.stdout.contains("Restore OK"), "{}", r.all());
    let read = |n: &str| std::fs::read_to_string(w.join("pg").join(n)).ok();
    assert_eq!(read("a").as_deref(), Some("a:III"), "newest version wins");
    assert_eq!(read("c").as_deref(), Some("c:F"));
    assert_eq!(read("e").as_deref(), Some("e:DD"));
    assert_eq!(read("d").as_deref(), Some("d:III"));
    assert_eq!(read("b"), None, "deleted before the Incremental");
    assert_eq!(report(&r, "FD Files Restored"), "4", "{}", r.all());

    // One restore job: the objects of all three jobs first, one start and
    // one end, and each file as its own plugin stream in chain order.
    let lines = pg_lines(&r);
    let seq: Vec<&str> = lines
        .iter()
        .map(String::as_str)
        .filter(|l| !l.starts_with("used_config") && !l.starts_with("start_restore_file"))
        .collect();
    let wd = w.display();
    let want = [
        "parse".to_string(),
        "object pg-state jobid=1 state:F".into(),
        "object pg-state jobid=2 state:DD".into(),
        "object pg-state jobid=3 state:III".into(),
        "start restore job".into(),
        "parse".into(),
        format!("create_file {wd}/pg/c where={wd} regexwhere=None"),
        "end_restore_file /pg/c".into(),
        "parse".into(),
        format!("create_file {wd}/pg/e where={wd} regexwhere=None"),
        "end_restore_file /pg/e".into(),
        "parse".into(),
        format!("create_file {wd}/pg/a where={wd} regexwhere=None"),
        "end_restore_file /pg/a".into(),
        "parse".into(),
        format!("create_file {wd}/pg/d where={wd} regexwhere=None"),
        "end_restore_file /pg/d".into(),
        "end restore job".into(),
    ];
    assert_eq!(seq, want, "{}", r.all());
}

#[test]
fn restore_objects_are_not_restored_as_files() {
    // bareos-fd-postgresql failed its Incremental restores with KeyError ''
    // in end_restore_file when the restore object's plugin-name records
    // reached start/end_restore_file.
    let env = Env::new();
    env.backup("full", &[&pg("files=a:tag=F")], &[]).expect_ok();
    let incr = env.backup("incr", &[&pg("files=a:tag=I")], &["--level", "I"]);
    incr.expect_ok();
    for archive in ["full", "incr"] {
        let w = env.path(&format!("w-{archive}"));
        let r = env.restore(archive, &w, &[]);
        r.expect_ok();
        assert!(r.stdout.contains("Restore OK"), "{}", r.all());
        assert!(!r.all().contains("KeyError"), "{}", r.all());
        let lines = pg_lines(&r);
        let starts = lines.iter().filter(|l| l.starts_with("start_restore_file"));
        assert_eq!(starts.count(), 1, "one file, one stream: {}", r.all());
        assert!(
            lines.iter().any(|l| l.starts_with("object pg-state")),
            "{}",
            r.all()
        );
        assert_eq!(report(&r, "FD Files Restored"), "1", "{}", r.all());
    }
}

#[test]
fn acl_and_xattr_support_are_on_by_default() {
    let env = Env::new();
    let on = env.backup("a", &[&pg("files=a")], &[]);
    on.expect_ok();
    let lines = pg_lines(&on);
    assert!(lines.contains(&"get_acl /pg/a".to_string()), "{}", on.all());
    assert!(
        lines.contains(&"get_xattr /pg/a".to_string()),
        "{}",
        on.all()
    );

    let off = env.backup("b", &[&pg("files=a")], &["--no-acl", "--no-xattr"]);
    off.expect_ok();
    assert!(
        !pg_lines(&off).iter().any(|l| l.starts_with("get_")),
        "{}",
        off.all()
    );
    let acl_only = env.backup("c", &[&pg("files=a")], &["--no-xattr"]);
    let lines = pg_lines(&acl_only);
    assert!(lines.contains(&"get_acl /pg/a".to_string()));
    assert!(!lines.iter().any(|l| l.starts_with("get_xattr")));
}

#[test]
fn regexwhere_relocates_and_plugins_see_no_where() {
    let env = Env::new();
    env.backup("a", &[&pg("files=x,y:tag=F")], &[]).expect_ok();
    let base = env.path("rw");
    let expr = format!("!^/pg!{}!,!$!.old!", base.display());
    let archive = [env.path("a").display().to_string()];
    let r = fdhost(&restore_args(&env, &archive, &["--regexwhere", &expr]));
    r.expect_ok();
    assert_eq!(
        std::fs::read_to_string(base.join("x.old")).unwrap(),
        "x:F",
        "{}",
        r.all()
    );
    assert_eq!(std::fs::read_to_string(base.join("y.old")).unwrap(), "y:F");
    let lines = pg_lines(&r);
    // bareos-fd leaves jcr->where unset with regexwhere and never sets
    // jcr->RegexWhere: NULL everywhere.
    assert!(
        lines.contains(&format!(
            "create_file {}/x.old where=None regexwhere=None",
            base.display()
        )),
        "{}",
        r.all()
    );
    assert!(
        lines.contains(&"start_restore_file where=None regexwhere=None".to_string()),
        "{}",
        r.all()
    );

    // A `where` ending in '/' is used as given (no second '/').
    let w = format!("{}/", env.path("w").display());
    let r = env.restore("a", Path::new(&w), &[]);
    r.expect_ok();
    let lines = pg_lines(&r);
    assert!(
        lines.contains(&format!("create_file {w}/pg/x where={w} regexwhere=None")),
        "{}",
        r.all()
    );
    assert!(lines.contains(&format!("start_restore_file where={w} regexwhere=None")));

    // `where` and `regexwhere` exclude each other; a bad list is fatal
    // before bEventStartRestoreJob.
    let both = fdhost(&restore_args(
        &env,
        &archive,
        &["--where", "/tmp/x", "--regexwhere", "!a!b!"],
    ));
    both.expect_failure();
    let bad = fdhost(&restore_args(&env, &archive, &["--regexwhere", "/tmp/x"]));
    bad.expect_failure();
    assert!(
        bad.stdout
            .contains("Fatal error: Bad where regexp. where=/tmp/x"),
        "{}",
        bad.all()
    );
    assert!(
        !pg_lines(&bad).contains(&"start restore job".to_string()),
        "{}",
        bad.all()
    );
}

#[test]
fn used_config_is_the_configuration_given() {
    let env = Env::new();
    let used = |extra: &[&str]| -> Vec<String> {
        let run = env.backup("a", &[&pg("files=a")], extra);
        run.expect_ok();
        pg_lines(&run)
            .into_iter()
            .filter_map(|l| l.strip_prefix("used_config=").map(str::to_string))
            .collect()
    };
    assert_eq!(used(&[]), [""], "fdhost reads no configuration file");

    let dir = env.path("etc");
    std::fs::create_dir_all(dir.join("bareos-fd.d/client")).unwrap();
    let d = dir.to_str().unwrap();
    assert_eq!(
        used(&["--config", d]),
        [format!("{d}/bareos-fd.d/*/*.conf")]
    );
    std::fs::write(dir.join("bareos-fd.conf"), "").unwrap();
    assert_eq!(used(&["--config", d]), [format!("{d}/bareos-fd.conf")]);
    let file = dir.join("bareos-fd.d/client/myself.conf");
    std::fs::write(&file, "").unwrap();
    let f = file.to_str().unwrap();
    assert_eq!(used(&["--config", f]), [f.to_string()]);

    let missing = env.backup(
        "a",
        &[&pg("files=a")],
        &["--config", env.path("nope").to_str().unwrap()],
    );
    assert_eq!(missing.status.code(), Some(2), "{}", missing.all());
}
