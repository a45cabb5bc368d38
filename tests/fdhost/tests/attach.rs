//! Attach: a runner started by hand (`sidecar-runner serve --socket PATH`)
//! serves a job whose plugin string says `sidecar.attach=PATH`: the same
//! session, direct I/O and plugin_io included; only root or the same user
//! on either side.

mod sidecar_env;

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use sidecar_env::*;

/// The built runner (the plugin directory links to it).
fn runner(env: &Env) -> PathBuf {
    std::fs::read_link(env.plugins.join("sidecar/sidecar-runner")).unwrap()
}

/// `sidecar-runner serve --socket <scratch>/runner.sock [--keep]`, ready.
fn serve(env: &Env, keep: bool) -> (Child, PathBuf) {
    let socket = env.path("runner.sock");
    let mut cmd = Command::new(runner(env));
    cmd.args(["serve", "--socket"]).arg(&socket);
    if keep {
        cmd.arg("--keep");
    }
    let child = cmd
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let t0 = Instant::now();
    while !socket.exists() {
        assert!(
            t0.elapsed() < Duration::from_secs(10),
            "serve never listened"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    (child, socket)
}

fn local_fileset(env: &Env, src: &Path, io: &str, socket: &Path) -> String {
    let list = env.path("list");
    std::fs::write(&list, format!("{}\n", src.display())).unwrap();
    plugin_string(
        &examples(),
        "sidecar_local_fileset",
        &format!(
            "filename={}:io={io}:sidecar.attach={}",
            list.display(),
            socket.display()
        ),
    )
}

/// Backup and restore, each served by the hand-started runner; the
/// restored tree is the original one.
fn round_trip(io: &str) {
    let env = Env::new();
    env.config("[debug]\nallow = true\n");
    let src = env.path("data");
    make_tree(&src, 3 << 20);
    let (mut server, socket) = serve(&env, true);
    let plugin = local_fileset(&env, &src, io, &socket);
    let backup = env.backup("archive", &[&plugin], &["-d", "10"]);
    backup.expect_ok();
    assert!(
        backup
            .all()
            .contains(&format!("attached at {}", socket.display())),
        "{}",
        backup.all()
    );
    let where_ = env.path("restored");
    // A restore finds the plugin string in the archive, attach included.
    let restore = env.restore("archive", &where_, &[]);
    restore.expect_ok();
    assert!(restore.all().contains("attached at"), "{}", restore.all());
    let n = assert_same_tree(&src, &where_.join(src.strip_prefix("/").unwrap()));
    assert!(n >= 14, "only {n} entries compared");
    // --keep served both jobs and is still there.
    assert!(server.try_wait().unwrap().is_none());
    server.kill().unwrap();
    server.wait().unwrap();
}

#[test]
fn an_attached_runner_serves_backup_and_restore_with_io_in_core() {
    round_trip("core");
}

#[test]
fn an_attached_runner_serves_backup_and_restore_with_io_in_plugin() {
    round_trip("plugin");
}

#[test]
fn without_a_runner_on_the_socket_the_job_fails_at_once_naming_it() {
    let env = Env::new();
    env.config("[debug]\nallow = true\n");
    let src = env.path("data");
    make_tree(&src, 1000);
    let socket = env.path("nobody-listens.sock");
    let plugin = local_fileset(&env, &src, "core", &socket);
    let t0 = Instant::now();
    let run = env.backup("archive", &[&plugin], &[]);
    run.expect_failure();
    assert!(t0.elapsed() < Duration::from_secs(5), "{:?}", t0.elapsed());
    let want = format!("cannot attach to a runner at {}", socket.display());
    assert!(run.all().contains(&want), "{}", run.all());
}

/// A directory anyone may write to, for the other user's socket.
fn shared_dir(env: &Env) -> PathBuf {
    let dir = env.path("shared");
    std::fs::create_dir(&dir).unwrap();
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o777)).unwrap();
    dir
}

fn is_root() -> bool {
    nix::unistd::Uid::effective().is_root()
}

/// The daemon refuses a socket served by another (non-root) user: whoever
/// serves it would run the job's plugin.
#[test]
fn a_runner_of_another_user_is_refused() {
    if !is_root() {
        eprintln!("skipped: needs root to act as another user");
        return;
    }
    let env = Env::new();
    env.config("[debug]\nallow = true\n");
    let socket = shared_dir(&env).join("other.sock");
    // A listener owned by `nobody` (Debian's python3: readable by anyone).
    let script = format!(
        "import socket, os, time\ns = socket.socket(socket.AF_UNIX)\ns.bind({:?})\nos.chmod({:?}, 0o666)\ns.listen()\nc, _ = s.accept()\ntime.sleep(5)\n",
        socket.to_str().unwrap(),
        socket.to_str().unwrap()
    );
    let mut other = Command::new("runuser")
        .args(["-u", "nobody", "--", "/usr/bin/python3", "-c", &script])
        .spawn()
        .unwrap();
    let t0 = Instant::now();
    while !socket.exists() {
        assert!(t0.elapsed() < Duration::from_secs(10), "no listener");
        std::thread::sleep(Duration::from_millis(20));
    }
    let src = env.path("data");
    make_tree(&src, 1000);
    let run = env.backup(
        "archive",
        &[&local_fileset(&env, &src, "core", &socket)],
        &[],
    );
    run.expect_failure();
    assert!(
        run.all()
            .contains("the runner there runs as uid 65534; only root or uid 0"),
        "{}",
        run.all()
    );
    let _ = other.kill();
    let _ = other.wait();
}

/// The runner refuses a daemon of another (non-root) user, with a message
/// the daemon's job log shows.
#[test]
fn a_daemon_of_another_user_is_refused() {
    if !is_root() {
        eprintln!("skipped: needs root to act as another user");
        return;
    }
    let env = Env::new();
    env.config("[debug]\nallow = true\n");
    let (mut server, socket) = serve(&env, true);
    // Let the other user reach the socket at all, so the runner's own
    // check is what refuses.
    std::fs::set_permissions(&socket, std::fs::Permissions::from_mode(0o666)).unwrap();
    for dir in [env.tmp.path(), &env.plugins] {
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    let src = shared_dir(&env);
    std::fs::write(src.join("f"), b"x").unwrap();
    let list = src.join("list");
    std::fs::write(&list, format!("{}\n", src.display())).unwrap();
    std::fs::set_permissions(&list, std::fs::Permissions::from_mode(0o644)).unwrap();
    let plugin = plugin_string(
        &examples(),
        "sidecar_local_fileset",
        &format!(
            "filename={}:sidecar.attach={}",
            list.display(),
            socket.display()
        ),
    );
    let out = Command::new("runuser")
        .args(["-u", "nobody", "--"])
        .arg(env!("CARGO_BIN_EXE_fdhost"))
        .args(["backup", "--plugin-dir"])
        .arg(&env.plugins)
        .args(["--plugin", &plugin, "--archive"])
        .arg(src.join("archive"))
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!out.status.success(), "{text}");
    assert!(
        text.contains("may not attach to a runner of uid 0 (only root or the same user)"),
        "{text}"
    );
    assert!(
        server.try_wait().unwrap().is_none(),
        "the runner keeps serving"
    );
    server.kill().unwrap();
    server.wait().unwrap();
}

/// The plugin string comes from the director: without the client's own
/// `[debug] allow = true` no debug key is honoured, and the job says why.
#[test]
fn attach_is_refused_unless_the_client_allows_debugging() {
    let env = Env::new();
    let src = env.path("data");
    make_tree(&src, 1000);
    let (mut server, socket) = serve(&env, true);
    let run = env.backup(
        "archive",
        &[&local_fileset(&env, &src, "core", &socket)],
        &[],
    );
    run.expect_failure();
    assert!(
        run.all().contains(
            "sidecar.attach refused: debugging is not allowed on this client (set [debug] allow = true in"
        ),
        "{}",
        run.all()
    );
    assert!(server.try_wait().unwrap().is_none(), "nobody attached");
    server.kill().unwrap();
    server.wait().unwrap();
}
