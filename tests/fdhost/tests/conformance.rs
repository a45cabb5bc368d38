//! Conformance-checklist items (docs/conformance.md) checked end to end
//! through fdhost, the shim and the runner: event registration, module
//! loading details, return-value and packet conversions, job messages, and
//! what happens to Python at job end. Most use `conf_plugin`
//! (python/tests/plugins/conf_plugin.py); the loading tests write their
//! modules into the test's temporary directory.

mod sidecar_env;

use std::path::PathBuf;

use sidecar_env::*;

/// Writes `NAME.py` (NAME may contain `/` for packages) below `mods/` of
/// the test's scratch directory and returns that directory.
fn module(env: &Env, name: &str, body: &str) -> PathBuf {
    let dir = env.path("mods");
    let file = dir.join(format!("{name}.py"));
    std::fs::create_dir_all(file.parent().unwrap()).unwrap();
    std::fs::write(file, body).unwrap();
    dir
}

fn conf(extra: &str) -> String {
    plugin_string(&test_plugins(), "conf_plugin", extra)
}

/// A module that backs up one virtual file `/mod/<its name>` whose content
/// is `hello`, and reports its load and parse calls as job messages.
const MINIMAL: &str = r#"
import bareosfd
from bareosfd import FT_REG, IO_OPEN, IO_READ, M_INFO, bRC_OK, iostat_do_in_plugin

data = [b""]


def load_bareos_plugin(plugindef):
    bareosfd.JobMessage(M_INFO, "mod: load %s %s\n" % (__name__, plugindef))
    return LOAD_RC


def parse_plugin_definition(plugindef):
    bareosfd.JobMessage(M_INFO, "mod: parse %s\n" % plugindef)
    return bRC_OK


def start_backup_file(savepkt):
    statp = bareosfd.StatPacket()
    statp.st_size = 5
    savepkt.statp = statp
    savepkt.fname = "/mod/" + __name__
    savepkt.type = FT_REG
    data[0] = b"hello"
    return bRC_OK


def end_backup_file():
    return bRC_OK


def plugin_io(IOP):
    if IOP.func == IO_OPEN:
        IOP.status = iostat_do_in_plugin
    elif IOP.func == IO_READ:
        IOP.buf = bytearray(data[0])
        IOP.status = len(data[0])
        data[0] = b""
    return bRC_OK
"#;

fn minimal(load_rc: i32) -> String {
    format!("LOAD_RC = {load_rc}\n{MINIMAL}")
}

fn count(haystack: &str, needle: &str) -> usize {
    haystack.matches(needle).count()
}

// ---- B. events ------------------------------------------------------------

/// #26: newPlugin registers exactly python3-fd's nine events, plus
/// bEventCancelCommand (14), which the shim keeps for itself so that a
/// cancel always releases the job thread; the plugin sees it only if it
/// registered it (tests/cancel.rs). fdhost logs every registration at
/// debug level 200; the first one is newPlugin's, before the runner exists.
#[test]
fn new_plugin_registers_python3_fd_events_and_the_cancel() {
    let env = Env::new();
    let run = env.backup("a", &[&conf("")], &["-d", "200", "--no-acl", "--no-xattr"]);
    run.expect_ok();
    // The shim registers one event per call; the plugin's own
    // RegisterEvents come through the runner, which starts later.
    let mut events: Vec<u32> = run
        .stderr
        .lines()
        .take_while(|l| !l.contains("runner pid "))
        .filter_map(|l| {
            l.split_once("python3-fd.so: registered events [")?
                .1
                .strip_suffix(']')
        })
        .flat_map(|list| {
            list.split(", ")
                .map(|n| n.parse::<u32>().unwrap())
                .collect::<Vec<_>>()
        })
        .collect();
    events.sort();
    assert_eq!(
        events,
        [1, 9, 10, 11, 12, 13, 14, 15, 17, 20],
        "{}",
        run.all()
    );
}

/// #35: in a restore the module is loaded at bEventRestoreCommand, so a
/// plugin that registers every event never sees bEventStartRestoreJob (5),
/// only the later ones (bEventEndRestoreJob, 6).
#[test]
fn a_restore_loads_the_module_at_restore_command_after_start_restore_job() {
    let env = Env::new();
    env.backup("a", &[&conf("events=1:files=a,b")], &[])
        .expect_ok();
    let w = env.path("w");
    let run = env.restore("a", &w, &[]);
    run.expect_ok();
    assert!(run.stdout.contains("Restore OK"), "{}", run.all());
    assert!(!run.stdout.contains("conf: event 5\n"), "{}", run.all());
    assert!(run.stdout.contains("conf: event 6\n"), "{}", run.all());
    assert_eq!(std::fs::read(w.join("conf/a")).unwrap(), b"a");
    assert_eq!(std::fs::read(w.join("conf/b")).unwrap(), b"b");
}

/// #39 (D5): bRC_Term from handle_plugin_event never reaches the core: it
/// becomes bRC_OK plus a warning naming the reason, the job ends OK.
#[test]
fn brc_term_from_handle_plugin_event_becomes_ok_with_a_warning() {
    let env = Env::new();
    let run = env.backup("a", &[&conf("term=1:files=a,b")], &["-d", "150"]);
    run.expect_ok();
    assert!(
        run.stdout.contains(
            "Warning: python3-fd (sidecar): handle_plugin_event returned bRC_Term (4), which would unload the plugin for the whole daemon; treated as bRC_OK"
        ),
        "{}",
        run.all()
    );
    assert!(
        run.stdout.contains("Backup OK -- with warnings"),
        "{}",
        run.all()
    );
    let w = env.path("w");
    env.restore("a", &w, &[]).expect_ok();
    assert_eq!(std::fs::read(w.join("conf/b")).unwrap(), b"b");
}

// ---- C. module loading ---------------------------------------------------

/// #53: without `module_name` nothing is imported and nothing is said: the
/// command event answers bRC_Error and the core ends the walk.
#[test]
fn no_module_name_fails_the_command_silently() {
    let env = Env::new();
    let dir = module(&env, "unused", &minimal(0));
    let plugin = format!("python3:module_path={}", dir.display());
    let run = env.backup("a", &[&plugin], &["-d", "150"]);
    assert!(!run.stdout.contains("mod: load"), "{}", run.all());
    assert!(!run.all().contains("Traceback"), "{}", run.all());
    assert!(!run.all().contains("cannot import"), "{}", run.all());
    assert!(
        run.stderr.contains("bEventBackupCommand returned 2"),
        "{}",
        run.all()
    );
    assert!(!run.stderr.contains(" saving "), "{}", run.all());
}

/// #54: full import semantics: a module in a package (`pkg.sub`) and a
/// file name with a `-` load (sys.modules names them as written).
#[test]
fn dotted_and_dashed_module_names_are_imported() {
    let env = Env::new();
    module(&env, "confpkg/__init__", "");
    module(&env, "confpkg/inner", &minimal(0));
    let dir = module(&env, "conf-dash", &minimal(0));
    let dotted = plugin_string(&dir, "confpkg.inner", "");
    let dashed = plugin_string(&dir, "conf-dash", "");
    for (plugin, name) in [(dotted, "confpkg.inner"), (dashed, "conf-dash")] {
        let run = env.backup("a", &[&plugin], &["-d", "150"]);
        run.expect_ok();
        assert!(
            run.stdout.contains(&format!("mod: load {name} ")),
            "{}",
            run.all()
        );
        assert!(
            run.stderr.contains(&format!("saving /mod/{name} ")),
            "{}",
            run.all()
        );
    }
}

/// #56: a module without `load_bareos_plugin` gets a debug message and
/// bRC_Error, and is not marked loaded: the next command tries to load it
/// again instead of calling parse_plugin_definition (fdhost sends
/// bEventPluginCommand for both lines, then bEventBackupCommand for the
/// first, whose bRC_Error ends the walk: three attempts).
#[test]
fn a_missing_load_bareos_plugin_is_a_debug_message_and_the_module_stays_unloaded() {
    let env = Env::new();
    let body = minimal(0).replace("def load_bareos_plugin", "def renamed_load");
    let dir = module(&env, "noload", &body);
    let p = plugin_string(&dir, "noload", "");
    let run = env.backup("a", &[&p, &p], &["-d", "150"]);
    let msg = "python3-fd: Failed to find function named load_bareos_plugin()";
    assert_eq!(count(&run.stderr, msg), 3, "{}", run.all());
    assert!(
        run.stderr.contains("bEventBackupCommand returned 2"),
        "{}",
        run.all()
    );
    assert!(!run.stdout.contains("mod: parse"), "{}", run.all());
    assert!(!run.stderr.contains(" saving "), "{}", run.all());
    assert!(!run.all().contains("Traceback"), "{}", run.all());
}

/// #57: a load_bareos_plugin result other than bRC_OK is returned for that
/// command and parse_plugin_definition is not called, but the module counts
/// as loaded: the next `Plugin =` line goes straight to
/// parse_plugin_definition.
#[test]
fn a_non_ok_load_bareos_plugin_skips_parse_but_the_module_is_loaded() {
    let env = Env::new();
    let dir = module(&env, "loaderr", &minimal(2));
    let p1 = plugin_string(&dir, "loaderr", "line=1");
    let p2 = plugin_string(&dir, "loaderr", "line=2");
    let run = env.backup("a", &[&p1, &p2], &["-d", "150"]);
    // bEventPluginCommand of line 1 loads (load_bareos_plugin answers 2:
    // no parse), of line 2 only parses; the bEventBackupCommands parse.
    let calls: Vec<&str> = run
        .stdout
        .lines()
        .filter_map(|l| l.split_once("python3-fd-mod: mod: ").map(|(_, r)| r))
        .collect();
    assert_eq!(
        calls,
        [
            "load loaderr line=1:",
            "parse line=2:",
            "parse line=1:",
            "parse line=2:"
        ],
        "{}",
        run.all()
    );
    run.expect_ok();
}

// ---- D. call conventions and job end -------------------------------------

/// #66 and #146: conf_plugin has no check_file. In an accurate
/// Incremental the core asks checkFile for the plugin file it did not see;
/// the missing entry point is bRC_Error with a debug message only (no job
/// message), and the file is reported deleted.
#[test]
fn a_missing_check_file_is_a_debug_message_and_the_file_is_deleted() {
    let env = Env::new();
    let cat = env.path("catalog");
    let cat = cat.to_str().unwrap();
    let accurate = ["--accurate", "--catalog", cat, "-d", "150"];
    env.backup("full", &[&conf("files=a,b")], &accurate)
        .expect_ok();
    let mut args = accurate.to_vec();
    args.extend(["--level", "I"]);
    let run = env.backup("incr", &[&conf("files=a")], &args);
    run.expect_ok();
    assert!(run.stdout.contains("Deleted: /conf/b"), "{}", run.all());
    assert!(!run.stdout.contains("Deleted: /conf/a"), "{}", run.all());
    assert!(
        run.stderr
            .contains("python3-fd-mod: Failed to find function named check_file()"),
        "{}",
        run.all()
    );
    assert!(!run.stdout.contains("check_file"), "{}", run.all());
    assert!(run.stdout.contains("Backup OK\n"), "{}", run.all());
}

/// #68: checkFile of an instance that never got a command (no runner, no
/// module) answers bRC_OK without starting a runner: a deleted `File =`
/// entry is reported deleted.
#[test]
fn check_file_without_a_loaded_module_answers_ok_without_a_runner() {
    let env = Env::new();
    let src = env.path("src");
    std::fs::create_dir_all(&src).unwrap();
    std::fs::write(src.join("keep"), b"k").unwrap();
    std::fs::write(src.join("gone"), b"g").unwrap();
    let cat = env.path("catalog");
    let (s, cat) = (src.to_str().unwrap(), cat.to_str().unwrap());
    let args = ["--file", s, "--accurate", "--catalog", cat, "-d", "150"];
    env.backup("full", &[], &args).expect_ok();
    std::fs::remove_file(src.join("gone")).unwrap();
    let mut incr = args.to_vec();
    incr.extend(["--level", "I"]);
    let run = env.backup("incr", &[], &incr);
    run.expect_ok();
    assert!(
        run.stdout.contains(&format!("Deleted: {s}/gone")),
        "{}",
        run.all()
    );
    assert!(
        run.stderr.contains(&format!("checkFile {s}/gone -> 0")),
        "{}",
        run.all()
    );
    assert!(runner_pids(&run.all()).is_empty(), "{}", run.all());
}

/// #72: at job end (freePlugin) the runner joins the plugin's non-daemon
/// threads and runs its atexit handlers, as python3-fd's
/// `Py_EndInterpreter` does, before it exits: both marker files exist when
/// the job is over.
#[test]
fn at_job_end_non_daemon_threads_are_joined_and_atexit_handlers_run() {
    let env = Env::new();
    let marker = env.path("marker");
    let m = marker.to_str().unwrap();
    let run = env.backup(
        "a",
        &[&conf(&format!("atexit={m}"))],
        &["--no-acl", "--no-xattr"],
    );
    run.expect_ok();
    assert!(run.stdout.contains("Backup OK\n"), "{}", run.all());
    assert!(env.path("marker.thread").exists(), "{}", run.all());
    assert!(env.path("marker.atexit").exists(), "{}", run.all());
}

// ---- F/G. packets --------------------------------------------------------

/// #100: create_status is copied back after create_file whatever it
/// returns (fdhost logs the packet after the call at debug level 150).
#[test]
fn create_status_is_copied_back_even_when_create_file_fails() {
    let env = Env::new();
    env.backup("a", &[&conf("create=skip_error")], &[])
        .expect_ok();
    let w = env.path("w");
    let run = env.restore("a", &w, &["-d", "150"]);
    assert!(
        run.stderr.contains("-> rc=2 create_status=1 "),
        "{}",
        run.all()
    );
    assert!(
        run.stdout.contains("Plugin createFile call failed. Stat=2"),
        "{}",
        run.all()
    );
}

/// #110 (D1): a non-int from end_restore_file is bRC_Error with a message
/// naming the function and the type, not -1: the core does not abort the
/// restore, every file is restored.
#[test]
fn a_non_int_from_end_restore_file_is_an_error_not_an_abort() {
    let env = Env::new();
    env.backup("a", &[&conf("end_restore=str:files=a,b")], &[])
        .expect_ok();
    let w = env.path("w");
    let run = env.restore("a", &w, &[]);
    assert!(
        run.stdout.contains(
            "Error: python3-fd (sidecar): end_restore_file() returned str, not an int (bRC); treated as bRC_Error"
        ),
        "{}",
        run.all()
    );
    assert!(run.ok(), "{}", run.all());
    assert!(
        !run.stdout
            .contains("Return value of endRestoreFile invalid"),
        "{}",
        run.all()
    );
    assert_eq!(std::fs::read(w.join("conf/a")).unwrap(), b"a");
    assert_eq!(std::fs::read(w.join("conf/b")).unwrap(), b"b");
}

/// #120: IO_OPEN answering iostat_do_in_core without a descriptor fails
/// the open: the core reports the file not saved and goes on.
#[test]
fn in_core_io_without_a_descriptor_fails_the_open() {
    let env = Env::new();
    let run = env.backup("a", &[&conf("io_open=core_nofd:files=a,b")], &[]);
    assert!(
        run.stdout.contains("Cannot open \"/conf/a\""),
        "{}",
        run.all()
    );
    assert!(
        run.stdout.contains("Cannot open \"/conf/b\""),
        "{}",
        run.all()
    );
}

/// #125: the plugin's io_errno is the errno of the core's message.
#[test]
fn io_errno_becomes_the_errno_of_the_core_message() {
    let env = Env::new();
    let run = env.backup("a", &[&conf("read_errno=28")], &[]);
    assert!(
        run.stdout
            .contains("Read error on file /conf/a. ERR=No space left on device"),
        "{}",
        run.all()
    );
}

// ---- H. job messages -----------------------------------------------------

/// #157 (decision): M_ABORT and M_ERROR_TERM from Python are logged as
/// fatal job errors; the daemon is not stopped and runs the next job.
#[test]
fn m_abort_from_python_fails_the_job_and_the_daemon_goes_on() {
    let env = Env::new();
    let archives = env.path("archives");
    std::fs::create_dir_all(&archives).unwrap();
    let run = fdhost(&[
        "jobs",
        "--plugin-dir",
        env.plugins.to_str().unwrap(),
        "--archive-dir",
        archives.to_str().unwrap(),
        "--reports",
        "--job",
        &conf("jobmsg=abort"),
        "--job",
        &conf("jobmsg=error_term"),
        "--job",
        &conf("files=a"),
    ]);
    let all = run.all();
    assert!(
        all.contains("Fatal error: python3-fd-mod: conf: plugin sent M_ABORT"),
        "{all}"
    );
    assert!(
        all.contains("Fatal error: python3-fd-mod: conf: plugin sent M_ERROR_TERM"),
        "{all}"
    );
    let terms: Vec<&str> = run
        .stdout
        .lines()
        .filter(|l| l.starts_with("fdhost: JobId "))
        .collect();
    assert_eq!(terms.len(), 3, "{all}");
    assert!(terms[0].contains("Backup Error"), "{all}");
    assert!(terms[1].contains("Backup Error"), "{all}");
    assert!(terms[2].contains("Backup OK"), "{all}");
}

// ---- A. shared object ----------------------------------------------------

/// #2: the installed python3-fd.so defines exactly `loadPlugin` and
/// `unloadPlugin` in its dynamic symbol table (needs binutils' `nm`).
#[test]
fn the_shared_object_exports_only_load_and_unload_plugin() {
    let env = Env::new();
    let out = std::process::Command::new("nm")
        .args(["-D", "--defined-only"])
        .arg(env.plugins.join("python3-fd.so"))
        .output()
        .expect("nm (binutils) runs");
    assert!(out.status.success(), "{out:?}");
    let mut names: Vec<String> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.split_whitespace().nth(2).map(str::to_string))
        .collect();
    names.sort();
    assert_eq!(names, ["loadPlugin", "unloadPlugin"]);
}

// ---- B. routing and events -----------------------------------------------

/// #29: a command string with a space before any `:` is rejected by the
/// core before any plugin sees it.
#[test]
fn a_command_without_a_colon_but_with_a_space_is_malformed() {
    let env = Env::new();
    let run = env.backup("a", &["python3 module_name=conf_plugin"], &["-d", "10"]);
    assert!(
        run.stdout
            .contains("Malformed plugin command: python3 module_name=conf_plugin"),
        "{}",
        run.all()
    );
    assert!(runner_pids(&run.all()).is_empty(), "{}", run.all());
}

/// #30: a plugin that registers every event does not see bEventJobStart or
/// the first bEventLevel (its module is loaded at the command event), but
/// sees the events after it, e.g. bEventEndBackupJob (4).
#[test]
fn job_start_and_the_first_level_are_not_seen_by_python() {
    let env = Env::new();
    let run = env.backup("a", &[&conf("events=1")], &[]);
    run.expect_ok();
    for early in ["conf: event 1\n", "conf: event 12\n", "conf: event 13\n"] {
        assert!(!run.stdout.contains(early), "{early}: {}", run.all());
    }
    assert!(run.stdout.contains("conf: event 4\n"), "{}", run.all());
    // #36: loaded at the FileSet's bEventPluginCommand, it sees
    // bEventEndFileSet (16) and bEventStartBackupJob (3).
    assert!(run.stdout.contains("conf: event 16\n"), "{}", run.all());
    assert!(run.stdout.contains("conf: event 3\n"), "{}", run.all());
}

/// #23: job and debug messages reach the core through a fixed "%s"
/// format: printf directives in the text arrive verbatim.
#[test]
fn messages_are_passed_with_a_fixed_format() {
    let env = Env::new();
    let run = env.backup("a", &[&conf("jobmsg=percent")], &["-d", "100"]);
    run.expect_ok();
    assert!(
        run.stdout.contains("python3-fd-mod: conf: 100%s %n %d%%\n"),
        "{}",
        run.all()
    );
    assert!(
        run.stderr.contains("conf: debug 100%s %n %d%%\n"),
        "{}",
        run.all()
    );
}

// ---- D. call conventions -------------------------------------------------

/// #61: entry points are looked up at every call: rebinding the module's
/// end_backup_file from Python takes effect for the next call.
#[test]
fn entry_points_are_looked_up_at_every_call() {
    let env = Env::new();
    let run = env.backup("a", &[&conf("rebind=1:files=a,b")], &["-d", "150"]);
    run.expect_ok();
    assert_eq!(
        count(&run.stdout, "conf: rebound end_backup_file"),
        2,
        "{}",
        run.all()
    );
    assert!(run.stderr.contains("saving /conf/b "), "{}", run.all());
}

/// #63: integer semantics: `True` is 1 (bRC_Stop, so createFile fails
/// with Stat=1), an object with `__index__` is accepted (no "not an int").
#[test]
fn return_values_use_integer_semantics() {
    let env = Env::new();
    env.backup("a", &[&conf("index_rc=1")], &[]).expect_ok();
    let w = env.path("w");
    let run = env.restore("a", &w, &[]);
    assert!(
        run.stdout
            .contains("Plugin createFile call failed. Stat=1 "),
        "{}",
        run.all()
    );
    assert!(
        run.stdout.contains("conf: end_restore_file"),
        "{}",
        run.all()
    );
    assert!(!run.stdout.contains("not an int"), "{}", run.all());
}

// ---- E. backup -----------------------------------------------------------

/// #80: type 0 after bRC_OK is a fatal error naming the command.
#[test]
fn no_type_in_the_save_packet_is_fatal() {
    let env = Env::new();
    let run = env.backup("a", &[&conf("ftype=0")], &[]);
    run.expect_failure();
    assert!(
        run.stdout
            .contains("Fatal error: Command plugin \"python3:")
            && run
                .stdout
                .contains("\": no type in startBackupFile packet."),
        "{}",
        run.all()
    );
}

/// #88, #89, #90: FT_DIRBEGIN is dropped silently, a socket (FT_SPEC with
/// S_IFSOCK) is skipped with a message, FT_NOACCESS is "not saved" and
/// counted as an error; the following file is saved in each case.
#[test]
fn dirbegin_socket_and_noaccess_entries() {
    let env = Env::new();
    let dirbegin = env.backup(
        "a",
        &[&conf("ftype=18:files=a,b")],
        &["-d", "150", "--no-acl", "--no-xattr"],
    );
    dirbegin.expect_ok();
    assert!(
        !dirbegin.stderr.contains("saving /conf/a "),
        "{}",
        dirbegin.all()
    );
    assert!(
        dirbegin.stderr.contains("saving /conf/b "),
        "{}",
        dirbegin.all()
    );
    assert!(!dirbegin.stdout.contains("/conf/a"), "{}", dirbegin.all());
    assert!(
        dirbegin.stdout.contains("Backup OK\n"),
        "{}",
        dirbegin.all()
    );

    let socket = env.backup(
        "b",
        &[&conf("ftype=6:mode=140755:files=a,b")],
        &["-d", "150", "--no-acl", "--no-xattr"],
    );
    socket.expect_ok();
    assert!(
        socket.stdout.contains("Socket file skipped: /conf/a"),
        "{}",
        socket.all()
    );
    assert!(
        socket.stderr.contains("saving /conf/b "),
        "{}",
        socket.all()
    );

    let noaccess = env.backup(
        "c",
        &[&conf("ftype=7:files=a,b")],
        &["-d", "150", "--no-acl", "--no-xattr"],
    );
    assert!(
        noaccess.stdout.contains("Could not access \"/conf/a\""),
        "{}",
        noaccess.all()
    );
    assert!(
        noaccess.stdout.contains("FD Errors:              1"),
        "{}",
        noaccess.all()
    );
    assert!(
        noaccess.stderr.contains("saving /conf/b "),
        "{}",
        noaccess.all()
    );
}

/// #130: ACL support (on by default, as in bareos) with a plugin without
/// get_acl: the missing entry point is bRC_Error, which the core reports
/// as an ACL error and counts.
#[test]
fn a_missing_get_acl_is_an_acl_error() {
    let env = Env::new();
    let run = env.backup("a", &[&conf("")], &["--no-xattr"]);
    assert!(
        run.stdout
            .contains("Error: getAcl failed for /conf/a (rc=2)"),
        "{}",
        run.all()
    );
    assert!(
        run.stdout.contains("FD Errors:              1"),
        "{}",
        run.all()
    );
}

// ---- F/G. restore --------------------------------------------------------

/// #98: start_restore_file failing makes the core refuse the createFile
/// that follows (M_FATAL "Unbalanced call to createFile=0 0").
#[test]
fn a_failed_start_restore_file_refuses_create_file() {
    let env = Env::new();
    env.backup("a", &[&conf("start_restore=error")], &[])
        .expect_ok();
    let w = env.path("w");
    let run = env.restore("a", &w, &[]);
    run.expect_failure();
    assert!(
        run.stdout
            .contains("Fatal error: Unbalanced call to createFile=0 0"),
        "{}",
        run.all()
    );
    assert!(!run.stdout.contains("conf: create_file"), "{}", run.all());
    assert!(!w.join("conf/a").exists());
}

/// #102, #103: CF_ERROR is an error naming the file, which is skipped;
/// CF_SKIP is counted, gets no data and no set_file_attributes.
#[test]
fn cf_error_and_cf_skip() {
    let env = Env::new();
    env.backup("e", &[&conf("create=error:files=a,b")], &[])
        .expect_ok();
    env.backup("s", &[&conf("create=skip:files=a,b")], &[])
        .expect_ok();
    let w = env.path("w");
    let error = env.restore("e", &w, &[]);
    assert!(
        error
            .stdout
            .contains("Plugin createFile call failed. Returned CF_ERROR file="),
        "{}",
        error.all()
    );
    assert!(
        !error.stdout.contains("conf: set_file_attributes"),
        "{}",
        error.all()
    );
    assert!(!w.join("conf/a").exists());
    let skip = env.restore("s", &w, &[]);
    skip.expect_ok();
    assert!(skip.stdout.contains("Restore OK\n"), "{}", skip.all());
    assert!(
        !skip.stdout.contains("conf: set_file_attributes"),
        "{}",
        skip.all()
    );
    assert!(!w.join("conf/a").exists());
    assert!(!w.join("conf/b").exists());
}

/// #108: a short IO_WRITE is a write error, the file is closed and gets
/// no set_file_attributes.
#[test]
fn a_short_write_is_a_write_error_without_set_file_attributes() {
    let env = Env::new();
    env.backup("a", &[&conf("short_write=1")], &[]).expect_ok();
    let w = env.path("w");
    let run = env.restore("a", &w, &[]);
    assert!(
        run.stdout.contains("Error: Write error on "),
        "{}",
        run.all()
    );
    assert!(run.stdout.contains("conf: create_file"), "{}", run.all());
    assert!(
        !run.stdout.contains("conf: set_file_attributes"),
        "{}",
        run.all()
    );
}

/// #111: the last file's endRestoreFile comes before bEventEndRestoreJob.
#[test]
fn the_open_restore_file_ends_before_end_restore_job() {
    let env = Env::new();
    env.backup("a", &[&conf("events=1:files=a,b")], &[])
        .expect_ok();
    let w = env.path("w");
    let run = env.restore("a", &w, &[]);
    run.expect_ok();
    let last_end = run.stdout.rfind("conf: end_restore_file").expect("ended");
    let end_job = run.stdout.find("conf: event 6\n").expect("EndRestoreJob");
    assert!(last_end < end_job, "{}", run.all());
    assert_eq!(
        count(&run.stdout, "conf: end_restore_file"),
        2,
        "{}",
        run.all()
    );
}
