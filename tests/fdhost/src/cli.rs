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
    fdhost: resources before|after: fds=<n> threads=<n> rss_kib=<n> children=<n>
  stdout, job report (last lines), e.g.
    Termination:            Backup OK   (| Backup OK -- with warnings | Backup Error
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
    /// JobId.
    #[arg(long, default_value_t = 1)]
    pub jobid: u32,
    /// Debug level: debug messages up to this level go to stderr.
    #[arg(short = 'd', long = "debug", value_name = "LEVEL", default_value_t = 0)]
    pub debug: i32,
    /// Working directory reported to plugins (bVarWorkingDir).
    #[arg(long, value_name = "DIR", default_value = "/tmp")]
    pub working_dir: PathBuf,
    /// Client name reported to plugins (bVarClient).
    #[arg(long, default_value = "fdhost-fd")]
    pub client: String,
}

/// What the FileSet and the `level` command carry.
#[derive(Debug, Args)]
pub struct FileSetArgs {
    /// A FileSet `Plugin =` line (repeatable, in FileSet order).
    #[arg(long = "plugin", value_name = "PLUGIN-STRING", required = true)]
    pub plugins: Vec<String>,
    /// Job level: F(ull), I(ncremental) or D(ifferential).
    #[arg(long, default_value = "F", value_parser = parse_level)]
    pub level: u8,
    /// Since time (seconds since the epoch) for I/D levels.
    #[arg(long, default_value_t = 0)]
    pub since: i64,
    /// Run as an accurate job (bVarAccurate = 1; there is no catalog, so no
    /// file is ever "found").
    #[arg(long)]
    pub accurate: bool,
    /// Set FO_ACL in the Include options (the core then calls getAcl).
    #[arg(long)]
    pub acl: bool,
    /// Set FO_XATTR in the Include options (the core then calls getXattr).
    #[arg(long)]
    pub xattr: bool,
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
}

#[derive(Debug, Args)]
pub struct RestoreArgs {
    #[command(flatten)]
    pub common: Common,
    /// Archive file to read.
    #[arg(long, value_name = "FILE")]
    pub archive: PathBuf,
    /// Restore location prefix (`where=`); "" or "/" restores to the
    /// original names.
    #[arg(long = "where", value_name = "DIR")]
    pub where_: String,
    /// Replace mode: a(lways), w (if newer), n(ever), o (if older).
    #[arg(long, default_value = "a", value_parser = parse_replace)]
    pub replace: u8,
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
