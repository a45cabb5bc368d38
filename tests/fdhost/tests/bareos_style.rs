//! The Bareos-style example plugin (`python/examples/bareos_style/`: base
//! class, wrapper module, local files with accurate mode, ACLs, xattrs and
//! restore objects) through fdhost, the shim and the runner: Full,
//! Incremental and Differential with the catalog, restores of each, and
//! the ACL/xattr round trip.

mod sidecar_env;

use std::ffi::CString;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use sidecar_env::*;

struct Setup {
    tmp: tempfile::TempDir,
    plugins: PathBuf,
    src: PathBuf,
    plugin: String,
}

fn setup() -> Setup {
    let tmp = tempfile::tempdir().unwrap();
    let plugins = plugin_dir(tmp.path());
    let src = tmp.path().join("src");
    std::fs::create_dir_all(src.join("sub")).unwrap();
    std::fs::write(src.join("a.txt"), noise(1000, 1)).unwrap();
    std::fs::write(src.join("b.txt"), noise(2000, 2)).unwrap();
    std::fs::write(src.join("sub/c.txt"), noise(3000, 3)).unwrap();
    std::os::unix::fs::symlink("a.txt", src.join("link")).unwrap();
    let list = tmp.path().join("list");
    std::fs::write(&list, format!("{}\n", src.display())).unwrap();
    let plugin = plugin_string(
        &root().join("python/examples/bareos_style"),
        "bareos_style_local_files",
        &format!("filename={}", list.display()),
    );
    Setup {
        tmp,
        plugins,
        src,
        plugin,
    }
}

impl Setup {
    fn backup(&self, archive: &str, extra: &[&str]) -> Run {
        let archive = self.tmp.path().join(archive);
        let mut args = vec![
            "backup",
            "--plugin-dir",
            self.plugins.to_str().unwrap(),
            "--plugin",
            &self.plugin,
            "--archive",
            archive.to_str().unwrap(),
            "-d",
            "100",
        ];
        args.extend_from_slice(extra);
        fdhost(&args)
    }

    fn restore(&self, archive: &str, where_: &Path) -> Run {
        let archive = self.tmp.path().join(archive);
        fdhost(&[
            "restore",
            "--plugin-dir",
            self.plugins.to_str().unwrap(),
            "--archive",
            archive.to_str().unwrap(),
            "--where",
            where_.to_str().unwrap(),
        ])
    }
}

/// The non-directory names fdhost saved (its `saving <name>` debug lines
/// at level 100). Directories are left out: whether a directory changed
/// within the second of the previous job depends on timing.
fn saved(run: &Run) -> Vec<String> {
    let mut v: Vec<String> = run
        .stderr
        .lines()
        .filter_map(|l| l.split_once(" saving ").map(|(_, r)| r))
        .filter(|r| !r.contains(" type=5 "))
        .filter_map(|r| r.split(" type=").next())
        .map(str::to_string)
        .collect();
    v.sort();
    v
}

/// The restore objects the plugin reported (its JSON job messages).
fn objects(run: &Run) -> Vec<serde_json::Value> {
    run.stdout
        .lines()
        .filter_map(|l| l.split_once("restore object in job ").map(|(_, r)| r))
        .filter_map(|r| r.split_once(": ").map(|(_, j)| j))
        .map(|j| serde_json::from_str(j).expect("the plugin prints JSON"))
        .collect()
}

#[track_caller]
fn assert_object(o: &serde_json::Value, plugin: &str, jobid: u64, level: &str) {
    assert_eq!(o["object_name"], "bareos_style_local_files.json", "{o}");
    assert_eq!(o["plugin_name"], plugin, "{o}");
    assert_eq!(o["object_type"], 25, "FT_RESTORE_FIRST: {o}");
    assert_eq!(o["object_index"], 7, "{o}");
    assert_eq!(o["object_compression"], 0, "{o}");
    assert_eq!(o["stream"], 0, "{o}");
    assert_eq!(o["jobid"], jobid, "{o}");
    assert_eq!(o["object"]["jobid"], jobid, "{o}");
    assert_eq!(o["object"]["level"], level, "{o}");
    let len = o["object_len"].as_u64().unwrap();
    assert!(len > 20, "{o}");
    assert_eq!(o["object_full_len"].as_u64(), Some(len), "{o}");
}

#[test]
fn full_incremental_differential_accurate_with_restore_objects() {
    let s = setup();
    let src = s.src.display().to_string();

    let full = s.backup("full.ar", &["--accurate"]);
    full.expect_ok();
    assert!(full.stdout.contains("Backup OK"), "{}", full.all());
    assert!(objects(&full).is_empty(), "no previous job: {}", full.all());
    assert_eq!(
        saved(&full),
        [
            format!("{src}/a.txt"),
            format!("{src}/b.txt"),
            format!("{src}/link"),
            format!("{src}/sub/c.txt"),
        ]
    );

    // Change a, delete b, add d.
    std::fs::write(s.src.join("a.txt"), noise(1500, 11)).unwrap();
    std::fs::remove_file(s.src.join("b.txt")).unwrap();
    std::fs::write(s.src.join("sub/d.txt"), noise(500, 4)).unwrap();

    let incr = s.backup("incr.ar", &["--level", "I", "--accurate"]);
    incr.expect_ok();
    assert!(
        incr.stdout.contains("Level:                  Incremental"),
        "{}",
        incr.all()
    );
    assert_eq!(
        saved(&incr),
        [format!("{src}/a.txt"), format!("{src}/sub/d.txt"),],
        "{}",
        incr.all()
    );
    assert!(
        incr.stdout
            .contains(&format!("Unchanged file skipped: {src}/sub/c.txt")),
        "{}",
        incr.all()
    );
    assert!(
        incr.stdout.contains(&format!("Deleted: {src}/b.txt")),
        "{}",
        incr.all()
    );
    assert!(!incr.stdout.contains("Deleted: ") || incr.stdout.matches("Deleted: ").count() == 1);
    let objs = objects(&incr);
    assert_eq!(objs.len(), 1, "{}", incr.all());
    assert_object(&objs[0], &s.plugin, 1, "F");

    // Differential: against the Full (b is still reported deleted, a and
    // d are saved again, c changed now).
    std::fs::write(s.src.join("sub/c.txt"), noise(3100, 33)).unwrap();
    let diff = s.backup("diff.ar", &["--level", "D", "--accurate"]);
    diff.expect_ok();
    assert_eq!(
        saved(&diff),
        [
            format!("{src}/a.txt"),
            format!("{src}/sub/c.txt"),
            format!("{src}/sub/d.txt"),
        ],
        "{}",
        diff.all()
    );
    assert!(diff.stdout.contains(&format!("Deleted: {src}/b.txt")));
    let objs = objects(&diff);
    assert_eq!(objs.len(), 1, "{}", diff.all());
    assert_object(&objs[0], &s.plugin, 1, "F");

    // Restore each archive into its own place, and the chain into one.
    let rel = s.src.strip_prefix("/").unwrap();
    let w_full = s.tmp.path().join("r-full");
    let r = s.restore("full.ar", &w_full);
    r.expect_ok();
    let objs = objects(&r);
    assert_eq!(objs.len(), 1, "{}", r.all());
    assert_object(&objs[0], &s.plugin, 1, "F");
    assert_eq!(
        std::fs::read(w_full.join(rel).join("b.txt")).unwrap(),
        noise(2000, 2)
    );
    assert_eq!(
        std::fs::read(w_full.join(rel).join("a.txt")).unwrap(),
        noise(1000, 1)
    );
    assert_eq!(
        std::fs::read_link(w_full.join(rel).join("link")).unwrap(),
        Path::new("a.txt")
    );

    let w_incr = s.tmp.path().join("r-incr");
    let r = s.restore("incr.ar", &w_incr);
    r.expect_ok();
    assert_object(&objects(&r)[0], &s.plugin, 2, "I");
    assert!(
        !w_incr.join(rel).join("sub/c.txt").exists(),
        "only what the Incremental holds"
    );
    assert_eq!(
        std::fs::read(w_incr.join(rel).join("sub/d.txt")).unwrap(),
        noise(500, 4)
    );

    let chain = s.tmp.path().join("r-chain");
    for a in ["full.ar", "incr.ar", "diff.ar"] {
        s.restore(a, &chain).expect_ok();
    }
    std::fs::remove_file(chain.join(rel).join("b.txt")).unwrap();
    for f in ["a.txt", "sub/c.txt", "sub/d.txt"] {
        assert_eq!(
            std::fs::read(chain.join(rel).join(f)).unwrap(),
            std::fs::read(s.src.join(f)).unwrap(),
            "{f}"
        );
    }
}

/// `setxattr` on `path`; Err(errno) if the filesystem refuses.
fn setxattr(path: &Path, name: &str, value: &[u8]) -> Result<(), std::io::Error> {
    let p = CString::new(path.as_os_str().as_bytes()).unwrap();
    let n = CString::new(name).unwrap();
    // SAFETY: valid C strings and a buffer of value.len() bytes.
    let r = unsafe {
        libc::setxattr(
            p.as_ptr(),
            n.as_ptr(),
            value.as_ptr().cast(),
            value.len(),
            0,
        )
    };
    if r == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}

fn getxattr(path: &Path, name: &str) -> Option<Vec<u8>> {
    let p = CString::new(path.as_os_str().as_bytes()).unwrap();
    let n = CString::new(name).unwrap();
    let mut buf = vec![0u8; 4096];
    // SAFETY: valid C strings and a buffer of buf.len() bytes.
    let r = unsafe { libc::getxattr(p.as_ptr(), n.as_ptr(), buf.as_mut_ptr().cast(), buf.len()) };
    (r >= 0).then(|| {
        buf.truncate(r as usize);
        buf
    })
}

/// A POSIX access ACL in the kernel's xattr format: u:: rw, u:<uid+1>: r,
/// g:: r, m:: r, o:: -.
fn posix_acl(uid: u32) -> Vec<u8> {
    let mut v = 2u32.to_le_bytes().to_vec();
    for (tag, perm, id) in [
        (0x01u16, 6u16, u32::MAX),
        (0x02, 4, uid + 1),
        (0x04, 4, u32::MAX),
        (0x10, 4, u32::MAX),
        (0x20, 0, u32::MAX),
    ] {
        v.extend_from_slice(&tag.to_le_bytes());
        v.extend_from_slice(&perm.to_le_bytes());
        v.extend_from_slice(&id.to_le_bytes());
    }
    v
}

#[test]
fn acl_and_xattr_round_trip() {
    let s = setup();
    let file = s.src.join("a.txt");
    let dir = s.src.join("sub");
    if let Err(e) = setxattr(&file, "user.bareos.test", b"value \x00 with bytes") {
        println!("SKIPPED: the filesystem refuses user xattrs ({e})");
        return;
    }
    setxattr(&file, "user.second", b"2").unwrap();
    setxattr(&dir, "user.on.dir", b"directory attribute").unwrap();
    // SAFETY: getuid has no preconditions.
    let acl = posix_acl(unsafe { libc::getuid() });
    let with_acl = match setxattr(&file, "system.posix_acl_access", &acl) {
        Ok(()) => true,
        Err(e) => {
            println!("ACL part skipped: the filesystem refuses POSIX ACLs ({e})");
            false
        }
    };
    let acl_before = getxattr(&file, "system.posix_acl_access");

    let b = s.backup("full.ar", &["--acl", "--xattr"]);
    b.expect_ok();
    assert!(b.stdout.contains("Backup OK"), "{}", b.all());
    let w = s.tmp.path().join("restored");
    let r = s.restore("full.ar", &w);
    r.expect_ok();
    assert!(r.stdout.contains("Restore OK"), "{}", r.all());
    let rel = s.src.strip_prefix("/").unwrap();
    let rfile = w.join(rel).join("a.txt");
    assert_eq!(
        getxattr(&rfile, "user.bareos.test").as_deref(),
        Some(&b"value \x00 with bytes"[..])
    );
    assert_eq!(getxattr(&rfile, "user.second").as_deref(), Some(&b"2"[..]));
    assert_eq!(
        getxattr(&w.join(rel).join("sub"), "user.on.dir").as_deref(),
        Some(&b"directory attribute"[..])
    );
    if with_acl {
        let after = getxattr(&rfile, "system.posix_acl_access");
        assert!(after.is_some(), "ACL restored");
        assert_eq!(after, acl_before, "the ACL bytes round trip");
    }
}
