//! Command line. The output formats are part of the interface (tests grep
//! them), so they are documented here, in `--help`.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

const AFTER_HELP: &str = "\
OUTPUT (stable; tests may grep it)
  stdout, one line per message:
    fdhost JobId <n>: [Fatal error: |Error: |Warning: ]<text>   job message
    fdhost: [Error: |Warning: ]<text>                           daemon message (plugin loading)
  stdout, estimate listing: one ls -l style line per file, then
    2000 OK estimate files=<n> bytes=<n>
  stdout, `jobs`: one line per job, then the daemon's resources
    fdhost: JobId <n>: Termination: <termination> (elapsed <seconds> s)
    fdhost: resources before|after first round|after: fds=<n> threads=<n> rss_kib=<n> children=<n>
  stdout, accurate deleted-file pass (fdhost's own line, per entry):
    fdhost JobId <n>:      Deleted: <name>
  stdout, job report (last lines), e.g.
    Termination:            Backup OK   (| Backup OK -- with warnings | Backup Error | Backup Canceled
                                          | Restore OK | Restore OK -- with errors | Restore Error
                                          | Estimate OK | Estimate Error)
  stderr, debug messages up to -d LEVEL:
    fdhost: <file>:<line>-<jobid> <text>      (plugin messages: <text> = \"<plugin>.so: ...\")

EXIT STATUS
  0 job terminated OK (possibly with warnings/errors); 1 the job failed (a fatal
  error, M_ABORT/M_ERROR_TERM message, or a plugin call the core treats as fatal);
  2 usage or archive I/O error.";

/// A stand-in Bareos file daemon: loads FD plugins (`*-fd.so`) exactly as
/// bareos-fd does and runs backup, restore and estimate jobs against a local
/// archive file.
#[derive(Debug, Parser)]
#[command(name = "fdhost", version, after_help = AFTER_HELP)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Back up what the FileSet's `Plugin =` lines produce into an archive.
    Backup(BackupArgs),
    /// Restore an archive through the plugins that wrote it.
    Restore(RestoreArgs),
    /// List what a backup would save (like bconsole `estimate listing`).
    Estimate(EstimateArgs),
    /// Run many backup jobs in one daemon process (soak and fault tests):
    /// the `--job` list in order, `--repeat` times, each step `--parallel`
    /// times concurrently. Prints one `Termination` line per job (with its elapsed time) and the
    /// daemon's descriptors, threads, RSS and child processes before and
    /// after (`fdhost: resources before|after: fds=N threads=N rss_kib=N
    /// children=N`).
    Jobs(JobsArgs),
    /// Benchmark: the same workloads backed up and restored with no plugin
    /// (native), with the Python plugin in the daemon process (inprocess,
    /// python3-fd's design) and out of process (sidecar); prints a table
    /// with min and median times and the ratios. Build with `cargo build
    /// --release --workspace` and run `target/release/fdhost bench`.
    Bench(BenchArgs),
    /// One measured run of `bench` in a fresh daemon process (internal).
    #[command(hide = true)]
    BenchRun(BenchRunArgs),
}

/// Daemon (Client resource) and job settings shared by all job kinds.
#[derive(Debug, Args)]
pub struct Common {
    /// The Client resource's `Plugin Directory`.
    #[arg(long, value_name = "DIR")]
    pub plugin_dir: PathBuf,
    /// The Client resource's `Plugin Names` (comma-separated): load only
    /// `<DIR>/<NAME>-fd.so` for each; default: every `*-fd.so` in DIR.
    #[arg(long, value_name = "NAME,NAME", value_delimiter = ',')]
    pub plugin_names: Vec<String>,
    /// JobId (default: backups take the next free JobId of the catalog,
    /// other jobs 1).
    #[arg(long)]
    pub jobid: Option<u32>,
    /// Debug level: debug messages up to this level go to stderr.
    #[arg(short = 'd', long = "debug", value_name = "LEVEL", default_value_t = 0)]
    pub debug: i32,
    /// Working directory reported to plugins (bVarWorkingDir).
    #[arg(long, value_name = "DIR", default_value = "/tmp")]
    pub working_dir: PathBuf,
    /// Client name reported to plugins (bVarClient).
    #[arg(long, default_value = "fdhost-fd")]
    pub client: String,
    /// The configuration bareos-fd would be started with (`-c`): a file,
    /// or a directory holding `bareos-fd.conf` or `bareos-fd.d/`. Resolved
    /// as bareos-fd resolves it and reported as bVarUsedConfig (a file as
    /// given, else `<DIR>/bareos-fd.conf` or `<DIR>/bareos-fd.d/*/*.conf`);
    /// unresolvable: exit 2. fdhost reads nothing from it; without it
    /// bVarUsedConfig is "" (fdhost's configuration is its command line).
    #[arg(long, value_name = "PATH")]
    pub config: Option<PathBuf>,
}

/// What the FileSet and the `level` command carry. The FileSet has one
/// Include block: the `--file` entries (walked by fdhost itself, as the
/// core walks `File =` lines), then the `--plugin` entries; an Options
/// block with `--option-plugin`; `--exclude` entries form the Exclude
/// block. Plugins may edit it (AddInclude, AddExclude, AddWild, ...).
#[derive(Debug, Args)]
pub struct FileSetArgs {
    /// A FileSet `Plugin =` line (repeatable, in FileSet order).
    #[arg(
        long = "plugin",
        value_name = "PLUGIN-STRING",
        required_unless_present = "files"
    )]
    pub plugins: Vec<String>,
    /// A FileSet `File =` line (repeatable): a path the core walks and
    /// saves itself (or through the option plugin).
    #[arg(long = "file", value_name = "PATH")]
    pub files: Vec<String>,
    /// `Plugin =` inside the Include's Options block: an option plugin
    /// consulted for every file the core walks (bEventHandleBackupFile).
    #[arg(long, value_name = "PLUGIN-STRING")]
    pub option_plugin: Option<String>,
    /// An Exclude block `File =` entry (repeatable).
    #[arg(long = "exclude", value_name = "PATH")]
    pub excludes: Vec<String>,
    /// Job level: F(ull), I(ncremental) or D(ifferential). I/D take their
    /// since time from the catalog (the last job resp. the last Full);
    /// without a Full in the catalog the job is upgraded to Full.
    #[arg(long, default_value = "F", value_parser = parse_level)]
    pub level: u8,
    /// Since time (seconds since the epoch) for I/D levels, instead of the
    /// catalog's.
    #[arg(long)]
    pub since: Option<i64>,
    /// Run as an accurate job (bVarAccurate = 1): I/D jobs get the accurate
    /// file list of the catalog's job chain, compare against it, and report
    /// unseen entries as deleted (after asking checkFile).
    #[arg(long)]
    pub accurate: bool,
    /// The Include block's `Accurate =` letters (default `mcs`).
    #[arg(long, value_name = "LETTERS", default_value = "mcs")]
    pub accurate_options: String,
    /// The catalog directory (one JSON file per successful backup job).
    /// Default: `catalog/` beside the archive (estimate: none).
    #[arg(long, value_name = "DIR")]
    pub catalog: Option<PathBuf>,
    /// A `pluginoptions` command (repeatable): bEventNewPluginOptions after
    /// the FileSet, as the director sends a run-time `pluginoptions=`.
    #[arg(long, value_name = "STRING")]
    pub plugin_options: Vec<String>,
    /// FileSet `ACL Support = yes` (the default, as in bareos): FO_ACL is
    /// set in the Include options, the core calls getAcl for each saved
    /// file but symlinks (a plugin without get_acl: an error per file).
    #[arg(long, overrides_with = "no_acl")]
    pub acl: bool,
    /// `ACL Support = no`: FO_ACL is not set, no getAcl.
    #[arg(long, overrides_with = "acl")]
    pub no_acl: bool,
    /// FileSet `XAttr Support = yes` (the default, as in bareos): FO_XATTR
    /// is set, the core calls getXattr for each saved file.
    #[arg(long, overrides_with = "no_xattr")]
    pub xattr: bool,
    /// `XAttr Support = no`: FO_XATTR is not set, no getXattr.
    #[arg(long, overrides_with = "xattr")]
    pub no_xattr: bool,
}

#[derive(Debug, Args)]
pub struct BackupArgs {
    #[command(flatten)]
    pub common: Common,
    #[command(flatten)]
    pub fileset: FileSetArgs,
    /// Archive file to write (replaced).
    #[arg(long, value_name = "FILE")]
    pub archive: PathBuf,
    /// Read size of the core's data buffer (bytes per IO_READ).
    #[arg(long, default_value_t = 65536, value_parser = clap::value_parser!(u32).range(1..=16 << 20))]
    pub read_size: u32,
    /// Cancel the job after SECS seconds, as the director's `cancel` does:
    /// bEventCancelCommand from another thread (while the job thread may
    /// be inside the plugin), then the job is marked canceled.
    #[arg(long, value_name = "SECS")]
    pub cancel_after: Option<f64>,
}

#[derive(Debug, Args)]
pub struct RestoreArgs {
    #[command(flatten)]
    pub common: Common,
    /// Archive file to read. Repeatable: the archives of a job chain,
    /// oldest first (Full, Differential, Incrementals), restored in one
    /// job as the director restores a chain: the restore objects of all
    /// of them first, then each archive's files in archive order, only the
    /// newest version of each name, without the names an accurate job of
    /// the chain found deleted (from the catalog).
    #[arg(long, value_name = "FILE", required = true)]
    pub archive: Vec<PathBuf>,
    /// The catalog with the chain's deleted-file lists (only read with
    /// several `--archive`s). Default: `catalog/` beside the first archive.
    #[arg(long, value_name = "DIR")]
    pub catalog: Option<PathBuf>,
    /// Restore location prefix (`where=`); "" or "/" restores to the
    /// original names. Plugins see it as bVarWhere and restore_pkt.where
    /// ("/" as "").
    #[arg(
        long = "where",
        value_name = "DIR",
        required_unless_present = "regex_where",
        conflicts_with = "regex_where"
    )]
    pub where_: Option<String>,
    /// File relocation instead of `--where` (`regexwhere=`): comma-separated
    /// sed-like expressions `!from!to![i]` (POSIX extended regex; `$1`/`\1`
    /// back references; any of `!:;|,&%=~/#` as separator), applied in turn
    /// to each restored name (and to hard-link targets). As in bareos-fd,
    /// plugins then see NULL as bVarWhere, bVarRegexWhere, and the
    /// restore_pkt's where and RegexWhere. A list whose first expression
    /// does not parse is fatal (`Bad where regexp. where=...`).
    #[arg(long = "regexwhere", value_name = "EXPRS")]
    pub regex_where: Option<String>,
    /// Replace mode: a(lways), w (if newer), n(ever), o (if older).
    #[arg(long, default_value = "a", value_parser = parse_replace)]
    pub replace: u8,
    /// A `pluginoptions` command (repeatable): bEventNewPluginOptions
    /// before the restore objects and the restore.
    #[arg(long, value_name = "STRING")]
    pub plugin_options: Vec<String>,
}

#[derive(Debug, Args)]
pub struct EstimateArgs {
    #[command(flatten)]
    pub common: Common,
    #[command(flatten)]
    pub fileset: FileSetArgs,
}

#[derive(Debug, Args)]
pub struct JobsArgs {
    #[command(flatten)]
    pub common: Common,
    /// One job's FileSet `Plugin =` line (repeatable; run in order).
    #[arg(long = "job", value_name = "PLUGIN-STRING", required = true)]
    pub jobs: Vec<String>,
    /// Where the archives go (`job-<n>.archive`, reused across repeats).
    #[arg(long, value_name = "DIR")]
    pub archive_dir: PathBuf,
    /// How often to run the whole `--job` list.
    #[arg(long, default_value_t = 1)]
    pub repeat: u32,
    /// How many copies of each job run at the same time.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=64))]
    pub parallel: u32,
    /// Print the full report of every job (default: one line per job).
    #[arg(long)]
    pub reports: bool,
}

impl FileSetArgs {
    /// FO_ACL: `ACL Support` (on unless `--no-acl`).
    pub fn acl_support(&self) -> bool {
        !self.no_acl
    }

    /// FO_XATTR: `XAttr Support` (on unless `--no-xattr`).
    pub fn xattr_support(&self) -> bool {
        !self.no_xattr
    }

    /// A FileSet of just these `Plugin =` lines (full, not accurate, ACL
    /// and xattr support on as by default).
    pub fn plugins_only(plugins: Vec<String>) -> FileSetArgs {
        FileSetArgs {
            plugins,
            files: Vec::new(),
            option_plugin: None,
            excludes: Vec::new(),
            level: b'F',
            since: None,
            accurate: false,
            accurate_options: "mcs".into(),
            catalog: None,
            plugin_options: Vec::new(),
            acl: false,
            no_acl: false,
            xattr: false,
            no_xattr: false,
        }
    }
}

#[derive(Debug, Args)]
pub struct BenchArgs {
    /// Runs per workload and mode (min and median are reported).
    #[arg(long, default_value_t = 3)]
    pub runs: u32,
    /// Tiny workloads and one run: checks every mode, not speed (CI).
    #[arg(long)]
    pub quick: bool,
    /// Modes to compare, in table order.
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "native,inprocess,sidecar"
    )]
    pub modes: Vec<String>,
    /// Only these workloads (start, small-pluginio, small-direct,
    /// big-direct, pydata, pydata-x2, small-pluginio-x2); default all.
    #[arg(long, value_delimiter = ',')]
    pub workloads: Vec<String>,
    /// Where workloads, archives and restores go (kept); default: a
    /// temporary directory, removed afterwards.
    #[arg(long, value_name = "DIR")]
    pub work_dir: Option<PathBuf>,
    /// The example plugins (default: the source tree's python/examples).
    #[arg(long, value_name = "DIR")]
    pub examples: Option<PathBuf>,
    /// Debug level of the measured daemons.
    #[arg(short = 'd', long = "debug", value_name = "LEVEL", default_value_t = 0)]
    pub debug: i32,
}

#[derive(Debug, Args)]
pub struct BenchRunArgs {
    /// Plugin directory (plugin modes); none: native.
    #[arg(long, value_name = "DIR")]
    pub plugin_dir: Option<PathBuf>,
    /// The FileSet `Plugin =` line (plugin backups).
    #[arg(long, value_name = "PLUGIN-STRING")]
    pub plugin: Option<String>,
    /// Back up this tree without a plugin (native).
    #[arg(long, value_name = "PATH")]
    pub native: Option<PathBuf>,
    /// Restore `job-<k>.archive` instead of backing up.
    #[arg(long)]
    pub restore: bool,
    /// Restore location; job k restores under `<DIR>/<k>`.
    #[arg(long = "where", value_name = "DIR")]
    pub where_: Option<PathBuf>,
    #[arg(long, value_name = "DIR")]
    pub archive_dir: PathBuf,
    /// Concurrent jobs.
    #[arg(long, default_value_t = 1)]
    pub parallel: u32,
    #[arg(short = 'd', long = "debug", value_name = "LEVEL", default_value_t = 0)]
    pub debug: i32,
}

fn parse_level(s: &str) -> Result<u8, String> {
    match s {
        "F" | "f" | "full" | "Full" => Ok(b'F'),
        "I" | "i" | "incremental" | "Incremental" => Ok(b'I'),
        "D" | "d" | "differential" | "Differential" => Ok(b'D'),
        _ => Err(format!("unknown level {s:?} (F, I or D)")),
    }
}

fn parse_replace(s: &str) -> Result<u8, String> {
    match s {
        "a" | "always" => Ok(b'a'),
        "w" | "ifnewer" => Ok(b'w'),
        "n" | "never" => Ok(b'n'),
        "o" | "ifolder" => Ok(b'o'),
        _ => Err(format!("unknown replace mode {s:?} (a, w, n or o)")),
    }
}
