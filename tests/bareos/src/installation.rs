//! The Bareos installation under test (found under a prefix) and the
//! PostgreSQL binaries for the catalog.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};

/// Where the parts of one Bareos installation are.
#[derive(Debug, Clone)]
pub struct Installation {
    pub prefix: PathBuf,
    pub sbin: PathBuf,
    /// The stock plugin directory (shipped `.py` plugins, stock python3-fd.so).
    pub plugin_dir: PathBuf,
    /// Catalog scripts (create_bareos_database, make_bareos_tables, ...).
    pub scripts_dir: PathBuf,
    /// Storage backends (libbareossd-file.so); optional in older layouts.
    pub backend_dir: Option<PathBuf>,
    pub version: String,
}

impl Installation {
    pub fn daemon(&self, name: &str) -> PathBuf {
        self.sbin.join(name)
    }

    /// Finds the installation under `prefix` (`/opt/bareos`, `/usr`, ...).
    /// The error says what is missing: the caller turns it into a skip.
    pub fn find(prefix: &Path) -> Result<Installation> {
        let sbin = [prefix.join("sbin"), prefix.join("bin")]
            .into_iter()
            .find(|d| d.join("bareos-fd").is_file())
            .with_context(|| format!("no sbin/bareos-fd under {}", prefix.display()))?;
        for bin in ["bareos-dir", "bareos-sd", "bconsole"] {
            if !sbin.join(bin).is_file() {
                bail!("{} is missing", sbin.join(bin).display());
            }
        }
        let libdirs = [
            "lib",
            "lib64",
            "lib/x86_64-linux-gnu",
            "lib/aarch64-linux-gnu",
        ];
        let under_lib = |sub: &str| {
            libdirs
                .iter()
                .map(|l| prefix.join(l).join("bareos").join(sub))
                .find(|d| d.is_dir())
        };
        let plugin_dir = under_lib("plugins")
            .with_context(|| format!("no lib/bareos/plugins under {}", prefix.display()))?;
        let scripts_dir = under_lib("scripts")
            .or_else(|| Some(prefix.join("share/bareos/scripts")).filter(|d| d.is_dir()))
            .filter(|d| d.join("make_bareos_tables").is_file())
            .with_context(|| {
                format!(
                    "no catalog scripts (make_bareos_tables) under {}",
                    prefix.display()
                )
            })?;
        let backend_dir = under_lib("backends");
        let version = Command::new(sbin.join("bareos-fd"))
            .arg("--version")
            .env_clear()
            .env("PATH", crate::daemons::SERVICE_PATH)
            .output()
            .ok()
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
            .unwrap_or_default();
        Ok(Installation {
            prefix: prefix.to_path_buf(),
            sbin,
            plugin_dir,
            scripts_dir,
            backend_dir,
            version,
        })
    }
}

/// The PostgreSQL server binaries (initdb, pg_ctl, psql).
#[derive(Debug, Clone)]
pub struct PgBinaries {
    pub bin: PathBuf,
}

impl PgBinaries {
    /// `explicit` if given, else the newest `/usr/lib/postgresql/*/bin`.
    pub fn find(explicit: Option<&Path>) -> Result<PgBinaries> {
        let ok = |d: &Path| {
            ["initdb", "pg_ctl", "psql"]
                .iter()
                .all(|b| d.join(b).is_file())
        };
        if let Some(d) = explicit {
            if ok(d) {
                return Ok(PgBinaries {
                    bin: d.to_path_buf(),
                });
            }
            bail!("no initdb/pg_ctl/psql in {}", d.display());
        }
        let mut found: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
            .into_iter()
            .flatten()
            .flatten()
            .filter_map(|e| {
                let v = e.file_name().to_string_lossy().parse::<u32>().ok()?;
                let bin = e.path().join("bin");
                ok(&bin).then_some((v, bin))
            })
            .collect();
        found.sort();
        match found.pop() {
            Some((_, bin)) => Ok(PgBinaries { bin }),
            None => {
                bail!("no PostgreSQL server binaries (initdb, pg_ctl) in /usr/lib/postgresql/*/bin")
            }
        }
    }
}
