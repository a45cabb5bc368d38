//! fdhost: a stand-in Bareos file daemon for testing FD plugins.
//! See `fdhost --help`; the modules: `cli` (arguments), `loader` (plugin
//! discovery and checks), `core` (CoreFunctions and per-job core state),
//! `job` (backup/restore/estimate driving), `archive` (the local "storage
//! daemon"), `catalog` and `bootstrap` (the director's side of backups and
//! restores), `regexwhere` (restore relocation), `used_config`
//! (bVarUsedConfig), `report` (output).

mod accurate;
mod archive;
mod batch;
mod bench;
mod bootstrap;
mod catalog;
mod cli;
mod core;
mod fileset;
mod job;
mod loader;
mod regexwhere;
mod report;
mod used_config;

use std::ffi::CString;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Parser;
use sidecar_shim::abi::{FOPTS_BYTES, fo, msg};

use crate::archive::{Record, Writer};
use crate::bootstrap::Bootstrap;
use crate::catalog::{Catalog, JobRecord, Plan};
use crate::cli::{Cli, Command, Common, FileSetArgs};
use crate::core::{JobParams, daemon_msg};
use crate::fileset::FileSet;
use crate::job::{Job, Totals};
use crate::report::Kind;

fn cstring(s: &str) -> CString {
    CString::new(s.replace('\0', "")).unwrap_or_default()
}

fn path_cstring(p: &Path) -> CString {
    CString::new(p.as_os_str().as_bytes().to_vec()).unwrap_or_default()
}

/// What the director tells the FD about a job, without a catalog (level
/// and since time as given; JobId as given or 1).
fn params(c: &Common, kind: Kind, fs: Option<&FileSetArgs>) -> JobParams {
    let plan = fs.map(|f| plan(f, None));
    let fs = fs.zip(plan.as_ref());
    params_for(c, kind, fs, c.jobid.unwrap_or(1))
}

/// What the director tells the FD about a job. `fs` (backup/estimate)
/// carries the FileSet options and the level and since time the catalog
/// gave.
fn params_for(c: &Common, kind: Kind, fs: Option<(&FileSetArgs, &Plan)>, jobid: u32) -> JobParams {
    let base = match kind {
        Kind::Backup => "fdhost-backup",
        Kind::Restore => "fdhost-restore",
        Kind::Estimate => "fdhost-estimate",
    };
    JobParams {
        jobid,
        job_name: job::job_name(base, jobid),
        job_type: if kind == Kind::Restore { b'R' } else { b'B' },
        level: fs.map_or(b' ', |(_, p)| p.level),
        since: fs.map_or(0, |(_, p)| if p.level == b'F' { 0 } else { p.since }),
        accurate: fs.is_some_and(|(f, _)| f.accurate),
        client: cstring(&c.client),
        where_: None,
        prev_job: fs.and_then(|(_, p)| p.prev_job.as_deref().map(cstring)),
        prefix_links: false,
        has_fileset: fs.is_some(),
        accurate_options: fs
            .and_then(|(f, _)| accurate::parse_options(&f.accurate_options).ok())
            .unwrap_or(accurate::opt::DEFAULT),
    }
}

/// The level, since time and accurate list of a backup/estimate: from the
/// catalog if there is one, else from the command line alone.
fn plan(fs: &FileSetArgs, catalog: Option<&Catalog>) -> Plan {
    match catalog {
        Some(c) => c.plan(fs.level, fs.since, fs.accurate),
        None => Plan {
            level: fs.level,
            since: fs.since.unwrap_or(0),
            accurate: (fs.accurate && fs.level != b'F').then(Default::default),
            ..Default::default()
        },
    }
}

/// The job's FileSet from the command line.
fn fileset(fs: &FileSetArgs) -> FileSet {
    let mut set = FileSet::new(&fs.files, &fs.plugins, fs.option_plugin.as_deref());
    set.excludes = fs.excludes.clone();
    set
}

/// Per-run settings of a backup beyond the FileSet.
pub struct BackupRun {
    pub read_size: u32,
    pub cancel_after: Option<f64>,
    /// Where the catalog lives (None: no catalog, e.g. `fdhost jobs`).
    pub catalog: Option<PathBuf>,
}

fn fileset_flags(fs: &FileSetArgs) -> [u8; FOPTS_BYTES] {
    let mut flags = [0u8; FOPTS_BYTES];
    for (on, bit) in [(fs.acl_support(), fo::ACL), (fs.xattr_support(), fo::XATTR)] {
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
    match &cli.command {
        Command::Bench(a) => return bench::run(a),
        Command::BenchRun(a) => return bench::run_child(a),
        _ => {}
    }
    let common = match &cli.command {
        Command::Backup(a) => &a.common,
        Command::Restore(a) => &a.common,
        Command::Estimate(a) => &a.common,
        Command::Jobs(a) => &a.common,
        Command::Bench(_) | Command::BenchRun(_) => unreachable!("handled above"),
    };
    let used_config = match common.config.as_deref().map(used_config::resolve) {
        None => CString::default(),
        Some(Ok(p)) => cstring(&p),
        Some(Err(e)) => {
            daemon_msg(msg::ERROR_TERM, &format!("{e}\n"));
            return ExitCode::from(2);
        }
    };
    core::init_daemon(core::Daemon {
        debug: common.debug,
        used_config,
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
        Command::Backup(a) => match backup_with(
            &plugins,
            &a.common,
            &a.fileset,
            &a.archive,
            a.common.jobid,
            &BackupRun {
                read_size: a.read_size,
                cancel_after: a.cancel_after,
                catalog: Some(
                    a.fileset
                        .catalog
                        .clone()
                        .unwrap_or_else(|| Catalog::default_dir(&a.archive)),
                ),
            },
        ) {
            Ok(t) => t.map(|t| (Kind::Backup, t)),
            Err(code) => return code,
        },
        Command::Restore(a) => match restore(&plugins, a) {
            Ok(t) => t.map(|t| (Kind::Restore, t)),
            Err(code) => {
                loader::unload_all(plugins);
                return code;
            }
        },
        Command::Estimate(a) => {
            let catalog = match a.fileset.catalog.as_deref().map(Catalog::open).transpose() {
                Ok(c) => c,
                Err(e) => {
                    daemon_msg(msg::ERROR, &format!("Cannot read the catalog: {e}\n"));
                    return ExitCode::from(2);
                }
            };
            let plan = plan(&a.fileset, catalog.as_ref());
            let p = params_for(
                &a.common,
                Kind::Estimate,
                Some((&a.fileset, &plan)),
                a.common.jobid.unwrap_or(1),
            );
            let cmds: Vec<CString> = a.fileset.plugins.iter().map(|s| cstring(s)).collect();
            let flags = fileset_flags(&a.fileset);
            let debug = a.common.debug;
            on_job_thread(|| {
                let mut job = Job::start(&plugins, p, debug);
                *job.shared.fileset() = fileset(&a.fileset);
                job.shared.accurate.install(plan.accurate);
                job::estimate::run(&mut job, &cmds, flags);
                println!("2000 OK estimate files={} bytes={}", job.files, job.bytes);
                job.finish()
            })
            .map(|t| (Kind::Estimate, t))
        }
        Command::Jobs(_) | Command::Bench(_) | Command::BenchRun(_) => {
            unreachable!("handled above")
        }
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

/// A restore job of one archive or a chain of them. `Err` is the exit
/// code when an archive or the catalog cannot be read; `Ok(None)` when the
/// job thread panicked.
fn restore(
    plugins: &[loader::LoadedPlugin],
    a: &cli::RestoreArgs,
) -> Result<Option<Totals>, ExitCode> {
    let catalog = if a.archive.len() > 1 {
        let dir = a
            .catalog
            .clone()
            .unwrap_or_else(|| Catalog::default_dir(&a.archive[0]));
        match Catalog::open(&dir) {
            Ok(c) => Some(c),
            Err(e) => {
                daemon_msg(msg::ERROR, &format!("Cannot read the catalog: {e}\n"));
                return Err(ExitCode::from(2));
            }
        }
    } else {
        None
    };
    let bootstrap = match Bootstrap::build(&a.archive, catalog.as_ref()) {
        Ok(b) => b,
        Err(e) => {
            daemon_msg(msg::ERROR, &format!("{e}\n"));
            return Err(ExitCode::from(2));
        }
    };
    let mut p = params(&a.common, Kind::Restore, None);
    // bareos-fd: `where=/` is "", and with `regexwhere=` jcr->where (and
    // jcr->RegexWhere, which the FD never sets) stay NULL.
    p.where_ = a
        .where_
        .as_deref()
        .map(|w| cstring(if w == "/" { "" } else { w }));
    let opts = job::restore::RestoreOptions {
        where_: a
            .where_
            .clone()
            .map(|w| if w == "/" { String::new() } else { w }),
        regex_where: a.regex_where.clone(),
        replace: a.replace,
    };
    let plugin_options: Vec<CString> = a.plugin_options.iter().map(|s| cstring(s)).collect();
    let debug = a.common.debug;
    Ok(on_job_thread(|| {
        let mut job = Job::start(plugins, p, debug);
        for id in &bootstrap.unknown_jobs {
            job.shared.jmsg(
                msg::WARNING,
                &format!(
                    "JobId {id} is not in the catalog: names its job found deleted are restored.\n"
                ),
            );
        }
        // `pluginoptions` precedes the restore objects (§3.3.3).
        job.plugin_options_events(&plugin_options);
        job::restore::run(&mut job, &opts, &bootstrap);
        job.finish()
    }))
}

/// A backup job without a catalog (`jobs`, `bench`).
fn backup(
    plugins: &[loader::LoadedPlugin],
    common: &Common,
    fs: &FileSetArgs,
    archive: &Path,
    jobid: u32,
    read_size: u32,
) -> Result<Option<Totals>, ExitCode> {
    let run = BackupRun {
        read_size,
        cancel_after: None,
        catalog: None,
    };
    backup_with(plugins, common, fs, archive, Some(jobid), &run)
}

/// One backup job into `archive`, on a job thread of its own; with a
/// catalog, its level/since/accurate list come from there and a successful
/// job is recorded in it. `Err` is the exit code when the archive or the
/// catalog cannot be used; `Ok(None)` when the job thread panicked.
fn backup_with(
    plugins: &[loader::LoadedPlugin],
    common: &Common,
    fs: &FileSetArgs,
    archive: &Path,
    jobid: Option<u32>,
    run: &BackupRun,
) -> Result<Option<Totals>, ExitCode> {
    let catalog = match run.catalog.as_deref().map(Catalog::open).transpose() {
        Ok(c) => c,
        Err(e) => {
            daemon_msg(msg::ERROR, &format!("Cannot read the catalog: {e}\n"));
            return Err(ExitCode::from(2));
        }
    };
    let jobid = jobid.unwrap_or_else(|| catalog.as_ref().map_or(1, Catalog::next_jobid));
    let plan = plan(fs, catalog.as_ref());
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
    let p = params_for(common, Kind::Backup, Some((fs, &plan)), jobid);
    let opts = job::backup::BackupOptions {
        flags: fileset_flags(fs),
        read_size: run.read_size as usize,
        plugin_options: fs.plugin_options.iter().map(|s| cstring(s)).collect(),
        prev_objects: plan.objects.clone(),
    };
    let start = job::now_secs();
    let head = Record::Job {
        jobid: p.jobid,
        level: p.level,
        job_name: p.job_name.as_bytes().to_vec(),
        time: start,
    };
    let debug = common.debug;
    let res = on_job_thread(|| {
        let mut job = Job::start(plugins, p, debug);
        if let Some(note) = &plan.note {
            job.shared.jmsg(msg::INFO, note);
        }
        *job.shared.fileset() = fileset(fs);
        job.shared.accurate.install(plan.accurate.clone());
        if let Some(secs) = run.cancel_after {
            let shared = job.shared.clone();
            std::thread::spawn(move || {
                std::thread::sleep(std::time::Duration::from_secs_f64(secs.max(0.0)));
                shared.cancel();
            });
        }
        if let Err(e) = w.write(&head) {
            job.shared
                .jmsg(msg::FATAL, &format!("Archive write error: {e}\n"));
        } else {
            job::backup::run(&mut job, &opts, &mut w);
        }
        let record = JobRecord {
            jobid: job.shared.params.jobid,
            level: job.shared.params.level as char,
            job_name: job.shared.params.job_name.to_string_lossy().into_owned(),
            start,
            files: std::mem::take(&mut job.saved),
            deleted: std::mem::take(&mut job.deleted),
            objects: std::mem::take(&mut job.objects),
        };
        let totals = job.finish();
        (totals, w.finish(), record)
    });
    Ok(res.map(|(t, fin, record)| {
        if let Err(e) = fin {
            daemon_msg(
                msg::ERROR,
                &format!("Cannot write archive {}: {e}\n", archive.display()),
            );
        } else if let Some(c) = catalog.as_ref().filter(|_| !report::failed(&t))
            && let Err(e) = c.store(&record)
        {
            daemon_msg(msg::ERROR, &format!("Cannot write the catalog: {e}\n"));
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
