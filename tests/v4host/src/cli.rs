//! Command line of both binaries, the job description it gives, the job
//! report, and `main`.

use std::ffi::CString;
use std::os::unix::ffi::OsStrExt;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, CommandFactory, FromArgMatches, Parser, Subcommand};

use crate::core::{self, Daemon, JobDesc, JobState, Kind};
use crate::loader;

const AFTER_HELP: &str = "\
OUTPUT (stdout)
  <name>: <type prefix><text>            daemon messages (loading, checks)
  <name> JobId N: <type prefix><text>    job messages; prefixes as Bareos:
                                         'Fatal error: ', 'Error: ', 'Warning: '
  <name> JobId N: [core] SetValue ...    a plugin's setBareosValue
  <name> JobId N: Job report: ...        one line per job at its end, then
    Job, JobId, Type, Level, Status, Termination, Errors, Warnings,
    Priority, VolumeName, Files, Bytes, Instances, SetValue lines
  Debug output (stderr, from -d LEVEL): '<name>: <file>:<line>-<jobid> <text>';
  plugins' DebugMessage without a plugin prefix, as the daemons print it.
  Event tracing from -d 150 (dirhost) / -d 250 (sdhost): every delivered
  event with the instance and its return code, newPlugin, freePlugin.

JOB SEQUENCE
  dirhost: newPlugin (instance 0 of each plugin), Dir Plugin Options
  dispatch (bDirEventNewPluginOptions), JobStart, JobInit, JobRun,
  [NewVolume with --new-volume, backups only], [--extra-event ...], JobEnd,
  freePlugin. A job canceled by JobStart (fatal message, --cancel-after)
  gets no JobInit/JobRun/JobEnd. Event return values are ignored.
  sdhost (backup to a file device): newPlugin, SD Plugin Options dispatch,
  JobStart (value \"JobStart\"), DeviceReserve, VolumeUnload, VolumeLoad,
  DeviceOpen, LabelRead, LabelVerified (with --new-volume first three
  DeviceOpen and LabelWrite), SetupRecordTranslation, one
  WriteRecordTranslation per file, [--extra-event ...], DeviceClose,
  DeviceRelease (not after a failure), JobEnd, freePlugin. Non-OK from
  DeviceReserve/DeviceOpen/Label*/record events fails the job.
  Only events an instance registered are delivered; a broadcast stops at
  the first instance returning bRC_Stop, bRC_Error or bRC_Skip.

EXIT STATUS
  0 every job terminated OK; 1 a job failed (fatal message, a refused
  device event, a cancel); 2 usage error or unreadable plugin directory.";

#[derive(Parser, Debug)]
#[command(version)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Run one job (or --repeat N identical jobs) with the --options entries.
    Run(RunArgs),
    /// Run one job per --job-options (entries separated by ';'), in one
    /// process, JobIds counting up from --jobid.
    Jobs(JobsArgs),
    /// Load the plugins, print what they report about themselves, unload.
    List(LoadArgs),
}

#[derive(Args, Debug)]
pub struct LoadArgs {
    /// Plugin Directory: plugins are <name>-dir.so (dirhost) / <name>-sd.so
    /// (sdhost), regular files only (symlinks are skipped).
    #[arg(long, value_name = "DIR")]
    pub plugin_dir: PathBuf,
    /// Plugin Names: load only these (comma-separated, without suffix).
    #[arg(long, value_name = "A,B", value_delimiter = ',')]
    pub plugin_names: Vec<String>,
    /// Debug level (as the daemons' -d).
    #[arg(short = 'd', long = "debug", value_name = "LEVEL", default_value_t = 0)]
    pub debug: i32,
}

#[derive(Args, Debug)]
pub struct RunArgs {
    #[command(flatten)]
    pub load: LoadArgs,
    /// A `Dir Plugin Options` / `SD Plugin Options` entry, e.g.
    /// 'python3:instance=0:module_path=DIR:module_name=NAME:k=v'
    /// (repeatable; dispatched in order).
    #[arg(long = "options", value_name = "ENTRY")]
    pub options: Vec<String>,
    /// Run the job N times in this process (JobIds counting up).
    #[arg(long, value_name = "N", default_value_t = 1)]
    pub repeat: u32,
    #[command(flatten)]
    pub job: JobArgs,
}

#[derive(Args, Debug)]
pub struct JobsArgs {
    #[command(flatten)]
    pub load: LoadArgs,
    /// One job's plugin options entries, separated by ';' (repeatable:
    /// one job each).
    #[arg(long = "job-options", value_name = "ENTRY;ENTRY", required = true)]
    pub job_options: Vec<String>,
    #[command(flatten)]
    pub job: JobArgs,
}

/// The job description (what the daemon knows about the job).
#[derive(Args, Debug, Clone)]
pub struct JobArgs {
    /// Job resource name (bDirVarJob / bsdVarJob).
    #[arg(long = "job", value_name = "NAME", default_value = "BackupClient1")]
    pub job: String,
    /// Unique job name (bDirVarJobName / bsdVarJobName); default
    /// <job>.<date>_<time>_<jobid>.
    #[arg(long, value_name = "NAME")]
    pub job_name: Option<String>,
    #[arg(long, value_name = "N", default_value_t = 1)]
    pub jobid: u32,
    /// Level: F, I, D, ... (one character).
    #[arg(long, value_name = "L", default_value = "F")]
    pub level: String,
    /// Type: B (backup) or R (restore), or any job type character.
    #[arg(long = "type", value_name = "T", default_value = "B")]
    pub job_type: String,
    #[arg(long, value_name = "NAME", default_value = "bareos-fd")]
    pub client: String,
    #[arg(long, value_name = "NAME", default_value = "Full")]
    pub pool: String,
    /// Pool type (sdhost's bsdVarPoolType).
    #[arg(long, value_name = "TYPE", default_value = "Backup")]
    pub pool_type: String,
    /// Storage resource (dirhost: write storage of a backup, read storage
    /// of a restore) / device resource (sdhost).
    #[arg(long, value_name = "NAME", default_value = "File")]
    pub storage: String,
    #[arg(long, value_name = "NAME", default_value = "MyCatalog")]
    pub catalog: String,
    #[arg(long, value_name = "TYPE", default_value = "File")]
    pub media_type: String,
    /// sdhost: the volume the director names for the job (dcr
    /// VolumeName). dirhost: unused (jcr->VolumeName starts empty).
    #[arg(long, value_name = "NAME", default_value = "Full-0001")]
    pub volume: String,
    /// Initial job status character (C = created).
    #[arg(long, value_name = "C", default_value = "C")]
    pub job_status: String,
    #[arg(long, value_name = "N", default_value_t = 10)]
    pub priority: i32,
    /// Files the job transfers (sdhost: records written or read).
    #[arg(long, value_name = "N", default_value_t = 3)]
    pub files: u32,
    /// Bytes the job transfers (dirhost; sdhost counts 64 KiB per record).
    #[arg(long, value_name = "N", default_value_t = 196608)]
    pub bytes: u64,
    /// Volumes in the pool (dirhost's bDirVarNumVols).
    #[arg(long, value_name = "N", default_value_t = 1)]
    pub num_vols: i32,
    /// dirhost: a new volume is created during the backup
    /// (bDirEventNewVolume; LABEL unless a plugin sets VolumeName). sdhost:
    /// the volume is new and gets labeled (bSdEventLabelWrite).
    #[arg(long, value_name = "LABEL", num_args = 0..=1, default_missing_value = "Vol-0001")]
    pub new_volume: Option<String>,
    /// Deliver event N as a broadcast during the job (after the data, before
    /// JobEnd / DeviceClose; value NULL / the device record). Repeatable;
    /// reaches the events the test bed does not generate otherwise.
    #[arg(long, value_name = "N")]
    pub extra_event: Vec<u32>,
    /// Cancel the job after this event: JobStart, JobInit, JobRun
    /// (dirhost); JobStart, DeviceReserve, DeviceOpen (sdhost). Later
    /// broadcasts return bRC_Cancel; the job ends with status A.
    #[arg(long, value_name = "EVENT")]
    pub cancel_after: Option<String>,
}

pub fn cstring(s: &str) -> CString {
    CString::new(s.replace('\0', "")).unwrap_or_default()
}

fn first_char(s: &str, what: &str) -> Result<u8, String> {
    match s.as_bytes() {
        [c] => Ok(*c),
        _ => Err(format!("{what} must be one character, got {s:?}")),
    }
}

/// `YYYY-MM-DD_HH.MM.SS` local time, as the director's unique job names.
fn now_stamp() -> String {
    // SAFETY: time and localtime_r with valid pointers.
    unsafe {
        let t = libc::time(std::ptr::null_mut());
        let mut tm: libc::tm = std::mem::zeroed();
        libc::localtime_r(&t, &mut tm);
        format!(
            "{:04}-{:02}-{:02}_{:02}.{:02}.{:02}",
            tm.tm_year + 1900,
            tm.tm_mon + 1,
            tm.tm_mday,
            tm.tm_hour,
            tm.tm_min,
            tm.tm_sec
        )
    }
}

fn job_desc(a: &JobArgs, jobid: u32) -> Result<JobDesc, String> {
    let job_name = match &a.job_name {
        Some(n) => n.clone(),
        None => format!("{}.{}_{:02}", a.job, now_stamp(), jobid),
    };
    Ok(JobDesc {
        jobid,
        job: cstring(&a.job),
        job_name: cstring(&job_name),
        job_type: first_char(&a.job_type, "--type")?,
        level: first_char(&a.level, "--level")?,
        status: first_char(&a.job_status, "--job-status")?,
        client: cstring(&a.client),
        pool: cstring(&a.pool),
        pool_type: cstring(&a.pool_type),
        storage: cstring(&a.storage),
        catalog: cstring(&a.catalog),
        media_type: cstring(&a.media_type),
        volume: cstring(a.new_volume.as_deref().unwrap_or(&a.volume)),
        priority: a.priority,
        files: a.files,
        bytes: a.bytes,
        num_vols: a.num_vols,
    })
}

/// Prints the job report; true if the job terminated OK.
pub fn report(kind: Kind, state: &JobState, instances: &[String]) -> bool {
    let d = &state.desc;
    let failed = state.failed();
    let v = state.vars();
    let what = match d.job_type {
        b'B' => "Backup",
        b'R' => "Restore",
        _ => "Job",
    };
    let termination = match v.status {
        b'A' => format!("{what} Canceled"),
        _ if failed => format!("*** {what} Error ***"),
        _ if v.errors > 0 || v.warnings > 0 => format!("{what} OK -- with warnings"),
        _ => format!("{what} OK"),
    };
    let mut lines = vec![
        format!("Job report: {}", d.job_name.to_string_lossy()),
        format!("  Job:          {}", d.job.to_string_lossy()),
        format!("  JobId:        {}", d.jobid),
        format!("  Type:         {}", d.job_type as char),
        format!("  Level:        {}", v.level as char),
        format!("  Status:       {}", v.status as char),
        format!("  Termination:  {termination}"),
        format!("  Errors:       {}", v.errors),
        format!("  Warnings:     {}", v.warnings),
        format!("  Priority:     {}", v.priority),
        format!("  VolumeName:   \"{}\"", v.volume.to_string_lossy()),
        format!("  Files:        {}", v.files),
        format!("  Bytes:        {}", v.bytes),
        format!("  Instances:    {}", instances.join(", ")),
    ];
    for s in &v.set_values {
        lines.push(format!("  SetValue:     {s}"));
    }
    let mut text = lines.join("\n");
    text.push('\n');
    drop(v);
    print!(
        "{}",
        text.lines()
            .map(|l| format!("{} JobId {}: {l}\n", kind.name(), d.jobid))
            .collect::<String>()
    );
    !failed
}

fn about(kind: Kind) -> &'static str {
    match kind {
        Kind::Dir => {
            "A stand-in bareos-dir: loads DIR plugins (*-dir.so) exactly as bareos-dir does \
             and drives director jobs described on the command line."
        }
        Kind::Sd => {
            "A stand-in bareos-sd: loads SD plugins (*-sd.so) exactly as bareos-sd does and \
             drives storage daemon jobs (a backup to a file device) described on the command line."
        }
    }
}

fn setup(kind: Kind, load: &LoadArgs) -> Result<Vec<loader::LoadedPlugin>, ExitCode> {
    core::init_daemon(Daemon {
        kind,
        debug: load.debug,
        plugin_dir: CString::new(load.plugin_dir.as_os_str().as_bytes().to_vec())
            .unwrap_or_default(),
    });
    loader::load_plugins(kind, &load.plugin_dir, &load.plugin_names).map_err(|e| {
        core::daemon_msg(sidecar_shim::dir::abi::msg::ERROR_TERM, &format!("{e}\n"));
        ExitCode::from(2)
    })
}

fn run_jobs(
    kind: Kind,
    plugins: &[loader::LoadedPlugin],
    job: &JobArgs,
    each: &[Vec<String>],
) -> ExitCode {
    let mut ok = true;
    for (n, options) in each.iter().enumerate() {
        let jobid = job.jobid + n as u32;
        let desc = match job_desc(job, jobid) {
            Ok(d) => d,
            Err(e) => {
                eprintln!("{}: {e}", kind.name());
                return ExitCode::from(2);
            }
        };
        let good = match kind {
            Kind::Dir => crate::dir::run_job(plugins, desc, job, options),
            Kind::Sd => crate::sd::run_job(plugins, desc, job, options),
        };
        ok &= good;
    }
    if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

fn list(plugins: &[loader::LoadedPlugin]) {
    for p in plugins {
        println!("{}", p.file());
        for (k, v) in p.information() {
            println!("  {k}: {v}");
        }
    }
}

/// `main` of both binaries.
pub fn main(kind: Kind) -> ExitCode {
    let cmd = Cli::command()
        .name(kind.name())
        .bin_name(kind.name())
        .about(about(kind))
        .after_help(AFTER_HELP)
        .mut_subcommand("run", |s| s.after_help(AFTER_HELP))
        .mut_subcommand("jobs", |s| s.after_help(AFTER_HELP));
    let matches = cmd.get_matches();
    let cli = match Cli::from_arg_matches(&matches) {
        Ok(c) => c,
        Err(e) => e.exit(),
    };
    match cli.command {
        Command::List(load) => {
            let plugins = match setup(kind, &load) {
                Ok(p) => p,
                Err(code) => return code,
            };
            list(&plugins);
            loader::unload_all(plugins);
            ExitCode::SUCCESS
        }
        Command::Run(r) => {
            let plugins = match setup(kind, &r.load) {
                Ok(p) => p,
                Err(code) => return code,
            };
            let each = vec![r.options.clone(); r.repeat.max(1) as usize];
            let code = run_jobs(kind, &plugins, &r.job, &each);
            loader::unload_all(plugins);
            code
        }
        Command::Jobs(j) => {
            let plugins = match setup(kind, &j.load) {
                Ok(p) => p,
                Err(code) => return code,
            };
            let each: Vec<Vec<String>> = j
                .job_options
                .iter()
                .map(|s| {
                    s.split(';')
                        .filter(|e| !e.is_empty())
                        .map(str::to_string)
                        .collect()
                })
                .collect();
            let code = run_jobs(kind, &plugins, &j.job, &each);
            loader::unload_all(plugins);
            code
        }
    }
}
