//! fdhost: a stand-in Bareos file daemon for testing FD plugins.
//! See `fdhost --help`; the modules: `cli` (arguments), `loader` (plugin
//! discovery and checks), `core` (CoreFunctions and per-job core state),
//! `job` (backup/restore/estimate driving), `archive` (the local "storage
//! daemon"), `report` (output).

mod archive;
mod batch;
mod cli;
mod core;
mod job;
mod loader;
mod report;

use std::ffi::CString;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;
use std::process::ExitCode;

use clap::Parser;
use sidecar_shim::abi::{FOPTS_BYTES, fo, msg};

use crate::archive::{Reader, Record, Writer};
use crate::cli::{Cli, Command, Common, FileSetArgs};
use crate::core::{JobParams, daemon_msg};
use crate::job::{Job, Totals};
use crate::report::Kind;

fn cstring(s: &str) -> CString {
    CString::new(s.replace('\0', "")).unwrap_or_default()
}

fn path_cstring(p: &Path) -> CString {
    CString::new(p.as_os_str().as_bytes().to_vec()).unwrap_or_default()
}

fn params(c: &Common, kind: Kind, fs: Option<&FileSetArgs>) -> JobParams {
    let base = match kind {
        Kind::Backup => "fdhost-backup",
        Kind::Restore => "fdhost-restore",
        Kind::Estimate => "fdhost-estimate",
    };
    JobParams {
        jobid: c.jobid,
        job_name: job::job_name(base, c.jobid),
        job_type: if kind == Kind::Restore { b'R' } else { b'B' },
        level: fs.map_or(b' ', |f| f.level),
        since: fs.map_or(0, |f| if f.level == b'F' { 0 } else { f.since }),
        accurate: fs.is_some_and(|f| f.accurate),
        client: cstring(&c.client),
        where_: None,
        regex_where: None,
        prev_job: None,
        prefix_links: false,
        has_fileset: fs.is_some(),
    }
}

fn fileset_flags(fs: &FileSetArgs) -> [u8; FOPTS_BYTES] {
    let mut flags = [0u8; FOPTS_BYTES];
    for (on, bit) in [(fs.acl, fo::ACL), (fs.xattr, fo::XATTR)] {
        if on {
            flags[bit >> 3] |= 1 << (bit & 7);
        }
    }
    flags
}

/// Run `f` on a job thread of its own (as bareos-fd does; plugins were
/// loaded on the main thread).
fn on_job_thread<T: Send>(f: impl FnOnce() -> T + Send) -> Option<T> {
    std::thread::scope(|s| s.spawn(f).join().ok())
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let common = match &cli.command {
        Command::Backup(a) => &a.common,
        Command::Restore(a) => &a.common,
        Command::Estimate(a) => &a.common,
        Command::Jobs(a) => &a.common,
    };
    core::init_daemon(core::Daemon {
        debug: common.debug,
        working_dir: path_cstring(&common.working_dir),
        exe_path: std::env::current_exe()
            .ok()
            .and_then(|p| p.parent().map(path_cstring))
            .unwrap_or_default(),
        plugin_dir: path_cstring(&common.plugin_dir),
    });
    let plugins = match loader::load_plugins(&common.plugin_dir, &common.plugin_names) {
        Ok(p) => p,
        Err(e) => {
            daemon_msg(msg::ERROR_TERM, &format!("{e}\n"));
            return ExitCode::from(2);
        }
    };

    if let Command::Jobs(a) = &cli.command {
        let code = batch::run(&plugins, a);
        loader::unload_all(plugins);
        return code;
    }
    let outcome = match &cli.command {
        Command::Backup(a) => match backup(
            &plugins,
            &a.common,
            &a.fileset,
            &a.archive,
            a.common.jobid,
            a.read_size,
        ) {
            Ok(t) => t.map(|t| (Kind::Backup, t)),
            Err(code) => return code,
        },
        Command::Restore(a) => {
            if let Err(e) = Reader::open(&a.archive) {
                daemon_msg(
                    msg::ERROR,
                    &format!("Cannot open archive {}: {e}\n", a.archive.display()),
                );
                return ExitCode::from(2);
            }
            let mut p = params(&a.common, Kind::Restore, None);
            p.where_ = Some(cstring(&a.where_));
            let opts = job::restore::RestoreOptions {
                where_: a.where_.clone(),
                replace: a.replace,
            };
            let debug = a.common.debug;
            on_job_thread(|| {
                let mut job = Job::start(&plugins, p, debug);
                job::restore::run(&mut job, &opts, &a.archive);
                job.finish()
            })
            .map(|t| (Kind::Restore, t))
        }
        Command::Estimate(a) => {
            let p = params(&a.common, Kind::Estimate, Some(&a.fileset));
            let cmds: Vec<CString> = a.fileset.plugins.iter().map(|s| cstring(s)).collect();
            let flags = fileset_flags(&a.fileset);
            let debug = a.common.debug;
            on_job_thread(|| {
                let mut job = Job::start(&plugins, p, debug);
                job::estimate::run(&mut job, &cmds, flags);
                println!("2000 OK estimate files={} bytes={}", job.files, job.bytes);
                job.finish()
            })
            .map(|t| (Kind::Estimate, t))
        }
        Command::Jobs(_) => unreachable!("handled above"),
    };
    loader::unload_all(plugins);
    match outcome {
        Some((kind, totals)) => {
            report::print(kind, &totals);
            exit_code(&totals)
        }
        None => {
            daemon_msg(msg::FATAL, "the job thread panicked (an fdhost bug)\n");
            ExitCode::from(1)
        }
    }
}

/// One backup job into `archive`, on a job thread of its own. `Err` is the
/// exit code when the archive cannot be created; `Ok(None)` when the job
/// thread panicked.
fn backup(
    plugins: &[loader::LoadedPlugin],
    common: &Common,
    fileset: &FileSetArgs,
    archive: &Path,
    jobid: u32,
    read_size: u32,
) -> Result<Option<Totals>, ExitCode> {
    let mut w = match Writer::create(archive) {
        Ok(w) => w,
        Err(e) => {
            daemon_msg(
                msg::ERROR,
                &format!("Cannot create archive {}: {e}\n", archive.display()),
            );
            return Err(ExitCode::from(2));
        }
    };
    let mut p = params(common, Kind::Backup, Some(fileset));
    p.jobid = jobid;
    p.job_name = job::job_name("fdhost-backup", jobid);
    let opts = job::backup::BackupOptions {
        cmds: fileset.plugins.iter().map(|s| cstring(s)).collect(),
        flags: fileset_flags(fileset),
        read_size: read_size as usize,
    };
    let head = Record::Job {
        jobid: p.jobid,
        level: p.level,
        job_name: p.job_name.as_bytes().to_vec(),
        time: job::now_secs(),
    };
    let debug = common.debug;
    let res = on_job_thread(|| {
        let mut job = Job::start(plugins, p, debug);
        if let Err(e) = w.write(&head) {
            job.shared
                .jmsg(msg::FATAL, &format!("Archive write error: {e}\n"));
        } else {
            job::backup::run(&mut job, &opts, &mut w);
        }
        let totals = job.finish();
        (totals, w.finish())
    });
    Ok(res.map(|(t, fin)| {
        if let Err(e) = fin {
            daemon_msg(
                msg::ERROR,
                &format!("Cannot write archive {}: {e}\n", archive.display()),
            );
        }
        t
    }))
}

fn exit_code(t: &Totals) -> ExitCode {
    if report::failed(t) {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}
