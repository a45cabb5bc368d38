//! The daemons' configuration files (single files, loopback ports, all
//! paths in the scratch directory) and the FileSets/Jobs the scenarios
//! declare.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::Result;

use crate::installation::Installation;
use crate::postgres;

pub const DIRECTOR: &str = "acceptance-dir";
pub const CLIENT: &str = "acceptance-fd";
pub const STORAGE: &str = "File";
pub const RESTORE_JOB: &str = "RestoreFiles";

#[derive(Debug, Clone, Copy)]
pub struct Ports {
    pub dir: u16,
    pub fd: u16,
    pub sd: u16,
    pub pg: u16,
}

/// One FileSet and the backup Job that uses it (same name).
#[derive(Debug, Clone)]
pub struct JobDef {
    pub name: String,
    /// Lines inside `Include { ... }` after the default Options block
    /// (`File = ...`, `Plugin = ...`, or a custom `Options { ... }`).
    pub include: Vec<String>,
    /// Extra directives for the Job (`Accurate = yes`, ...).
    pub job_extra: Vec<String>,
    /// Whether to add `Options { Signature = XXH128 }` first.
    pub default_options: bool,
}

impl JobDef {
    pub fn new(name: &str) -> JobDef {
        JobDef {
            name: name.into(),
            include: vec![],
            job_extra: vec![],
            default_options: true,
        }
    }
    pub fn file(mut self, path: &Path) -> JobDef {
        self.include
            .push(format!("File = {}", quote(&path.display().to_string())));
        self
    }
    pub fn plugin(mut self, plugin: &str) -> JobDef {
        self.include.push(format!("Plugin = {}", quote(plugin)));
        self
    }
    pub fn include_line(mut self, line: &str) -> JobDef {
        self.include.push(line.into());
        self
    }
    pub fn no_default_options(mut self) -> JobDef {
        self.default_options = false;
        self
    }
    pub fn job(mut self, line: &str) -> JobDef {
        self.job_extra.push(line.into());
        self
    }
}

/// A quoted config string (Bareos: backslash escapes `"` and `\`).
pub fn quote(s: &str) -> String {
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}

pub struct ConfigFiles {
    pub dir: PathBuf,
    pub sd: PathBuf,
    pub fd: PathBuf,
    pub bconsole: PathBuf,
}

pub struct Layout<'a> {
    pub etc: &'a Path,
    pub work: &'a Path,
    pub storage: &'a Path,
    pub log_dir: &'a Path,
    /// Our plugin directory: python3-fd.so, python3-dir.so, python3-sd.so
    /// (all three daemons load from it).
    pub plugin_dir: &'a Path,
}

/// How the director's resource names its plugins.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DirPlugins {
    /// `Plugin Directory` and `Plugin Names = "python3"`.
    Named,
    /// `Plugin Directory` only: the director loads every `*-dir.so` there.
    DirectoryOnly,
}

pub fn write_all(
    inst: &Installation,
    layout: &Layout,
    ports: Ports,
    jobs: &[JobDef],
) -> Result<ConfigFiles> {
    let files = ConfigFiles {
        dir: layout.etc.join("bareos-dir.conf"),
        sd: layout.etc.join("bareos-sd.conf"),
        fd: layout.etc.join("bareos-fd.conf"),
        bconsole: layout.etc.join("bconsole.conf"),
    };
    std::fs::write(
        &files.dir,
        director(inst, layout, ports, jobs, DirPlugins::Named),
    )?;
    std::fs::write(&files.sd, storage_daemon(inst, layout, ports))?;
    std::fs::write(&files.fd, file_daemon(layout, ports))?;
    std::fs::write(&files.bconsole, bconsole(ports))?;
    for f in [&files.dir, &files.sd, &files.fd, &files.bconsole] {
        std::fs::set_permissions(f, std::os::unix::fs::PermissionsExt::from_mode(0o600))?;
    }
    Ok(files)
}

/// The director's configuration.
pub fn director(
    inst: &Installation,
    l: &Layout,
    p: Ports,
    jobs: &[JobDef],
    plugins: DirPlugins,
) -> String {
    let work = l.work.display();
    let plugin_names = match plugins {
        DirPlugins::Named => "\n  Plugin Names = \"python3\"",
        DirPlugins::DirectoryOnly => "",
    };
    let log = l.log_dir.join("bareos.log");
    let log = log.display();
    let query = inst.scripts_dir.join("query.sql");
    let mut s = format!(
        r#"Director {{
  Name = {DIRECTOR}
  Dir Addresses = {{ ip = {{ addr = 127.0.0.1; port = {dir} }} }}
  Password = "acceptance-console-pw"
  QueryFile = "{query}"
  Working Directory = "{work}"
  Maximum Concurrent Jobs = 10
  Messages = Daemon
  Plugin Directory = "{plugins}"{plugin_names}
}}
Catalog {{
  Name = MyCatalog
  DB Name = "{db}"; DB User = "{user}"; DB Password = "{pw}"
  DB Address = 127.0.0.1; DB Port = {pg}
}}
Messages {{
  Name = Daemon
  append = "{log}" = all, !skipped, !audit
}}
Messages {{
  Name = Standard
  append = "{log}" = all, !skipped, !saved, !audit
  catalog = all, !skipped, !saved, !audit
}}
Storage {{
  Name = {STORAGE}
  Address = 127.0.0.1; Port = {sd}
  Password = "acceptance-sd-pw"
  Device = FileStorage; Media Type = File
  Maximum Concurrent Jobs = 10
}}
Client {{
  Name = {CLIENT}
  Address = 127.0.0.1; Port = {fd}
  Password = "acceptance-fd-pw"
  Maximum Concurrent Jobs = 10
}}
Pool {{ Name = Full;         Pool Type = Backup; Recycle = yes; AutoPrune = no; Volume Retention = 365 days; Maximum Volume Bytes = 2G; Maximum Volumes = 100; Label Format = "Full-" }}
Pool {{ Name = Incremental;  Pool Type = Backup; Recycle = yes; AutoPrune = no; Volume Retention = 365 days; Maximum Volume Bytes = 2G; Maximum Volumes = 100; Label Format = "Incremental-" }}
Pool {{ Name = Differential; Pool Type = Backup; Recycle = yes; AutoPrune = no; Volume Retention = 365 days; Maximum Volume Bytes = 2G; Maximum Volumes = 100; Label Format = "Differential-" }}
Pool {{ Name = Scratch; Pool Type = Scratch }}
JobDefs {{
  Name = AcceptanceDefault
  Type = Backup; Level = Full
  Client = {CLIENT}; Storage = {STORAGE}; Messages = Standard
  Pool = Full; Full Backup Pool = Full; Incremental Backup Pool = Incremental; Differential Backup Pool = Differential
  Priority = 10
  Maximum Concurrent Jobs = 10
  Allow Mixed Priority = yes
  Write Bootstrap = "{work}/%c_%n.bsr"
}}
FileSet {{
  Name = RestoreDummy
  Include {{ File = "/nonexistent-acceptance" }}
}}
Job {{
  Name = {RESTORE_JOB}
  Type = Restore
  Client = {CLIENT}; FileSet = RestoreDummy; Storage = {STORAGE}; Pool = Full; Messages = Standard
  Where = "{work}/restores"
  Maximum Concurrent Jobs = 10
}}
"#,
        dir = p.dir,
        sd = p.sd,
        fd = p.fd,
        pg = p.pg,
        query = query.display(),
        plugins = l.plugin_dir.display(),
        db = postgres::DB_NAME,
        user = postgres::DB_USER,
        pw = postgres::DB_PASSWORD,
    );
    for j in jobs {
        let _ = writeln!(s, "FileSet {{\n  Name = {}\n  Include {{", quote(&j.name));
        if j.default_options {
            let _ = writeln!(s, "    Options {{ Signature = XXH128 }}");
        }
        for line in &j.include {
            let _ = writeln!(s, "    {line}");
        }
        let _ = writeln!(s, "  }}\n}}");
        let _ = writeln!(
            s,
            "Job {{\n  Name = {n}\n  JobDefs = AcceptanceDefault\n  FileSet = {n}",
            n = quote(&j.name)
        );
        for line in &j.job_extra {
            let _ = writeln!(s, "  {line}");
        }
        let _ = writeln!(s, "}}");
    }
    s
}

fn storage_daemon(inst: &Installation, l: &Layout, p: Ports) -> String {
    let backend = inst
        .backend_dir
        .as_ref()
        .map(|d| format!("  Backend Directory = \"{}\"\n", d.display()))
        .unwrap_or_default();
    format!(
        r#"Storage {{
  Name = acceptance-sd
  SD Addresses = {{ ip = {{ addr = 127.0.0.1; port = {sd} }} }}
  Working Directory = "{work}"
{backend}  Maximum Concurrent Jobs = 20
  Plugin Directory = "{plugins}"
  Plugin Names = "python3"
}}
Director {{ Name = {DIRECTOR}; Password = "acceptance-sd-pw" }}
Device {{
  Name = FileStorage
  Media Type = File
  Archive Device = "{storage}"
  LabelMedia = yes; Random Access = yes; AutomaticMount = yes; RemovableMedia = no; AlwaysOpen = no
  Maximum Concurrent Jobs = 10
}}
Messages {{ Name = Standard; Director = {DIRECTOR} = all }}
"#,
        sd = p.sd,
        work = l.work.display(),
        storage = l.storage.display(),
        plugins = l.plugin_dir.display(),
    )
}

fn file_daemon(l: &Layout, p: Ports) -> String {
    format!(
        r#"Client {{
  Name = {CLIENT}
  FD Addresses = {{ ip = {{ addr = 127.0.0.1; port = {fd} }} }}
  Working Directory = "{work}"
  Plugin Directory = "{plugins}"
  Plugin Names = "python3"
  Maximum Concurrent Jobs = 10
}}
Director {{ Name = {DIRECTOR}; Password = "acceptance-fd-pw" }}
Messages {{ Name = Standard; Director = {DIRECTOR} = all, !skipped, !restored }}
"#,
        fd = p.fd,
        work = l.work.display(),
        plugins = l.plugin_dir.display(),
    )
}

fn bconsole(p: Ports) -> String {
    format!(
        "Director {{\n  Name = {DIRECTOR}\n  Address = 127.0.0.1; Port = {}\n  Password = \"acceptance-console-pw\"\n}}\n",
        p.dir
    )
}
