//! A private PostgreSQL cluster for the catalog (as user postgres, data and
//! socket in the scratch directory, 127.0.0.1 only) and the Bareos catalog
//! created in it with the installation's own scripts.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{Context, Result, bail};

use crate::daemons;
use crate::installation::{Installation, PgBinaries};

pub const DB_NAME: &str = "bareos";
pub const DB_USER: &str = "bareos";
pub const DB_PASSWORD: &str = "bareos-acceptance";

pub struct Postgres {
    pub bins: PgBinaries,
    pub data: PathBuf,
    pub socket_dir: PathBuf,
    pub port: u16,
    pub log_dir: PathBuf,
}

impl Postgres {
    pub fn new(bins: PgBinaries, dir: &Path, port: u16, log_dir: &Path) -> Postgres {
        Postgres {
            bins,
            data: dir.join("data"),
            socket_dir: dir.join("socket"),
            port,
            log_dir: log_dir.to_path_buf(),
        }
    }

    /// `runuser -u postgres -- env PGHOST=... PGPORT=... PATH=<pg bin>:... <args>`
    fn as_postgres(&self, args: &[&std::ffi::OsStr]) -> Command {
        let mut cmd = Command::new("runuser");
        cmd.args(["-u", "postgres", "--", "env"])
            .arg(format!("PGHOST={}", self.socket_dir.display()))
            .arg(format!("PGPORT={}", self.port))
            .arg(format!(
                "PATH={}:{}",
                self.bins.bin.display(),
                daemons::SERVICE_PATH
            ))
            .args(args)
            .current_dir("/")
            .stdin(Stdio::null());
        cmd
    }

    fn run_logged(&self, what: &str, mut cmd: Command) -> Result<()> {
        let log = self.log_dir.join(format!("{what}.log"));
        let out = std::fs::File::create(&log)?;
        let status = cmd
            .stdout(out.try_clone()?)
            .stderr(out)
            .status()
            .with_context(|| format!("run {what}"))?;
        if !status.success() {
            bail!("{what} failed ({status}):\n{}", daemons::tail(&log, 20));
        }
        Ok(())
    }

    /// initdb + start + catalog database, tables and grants.
    pub fn start_with_catalog(&self, inst: &Installation) -> Result<()> {
        let parent = self.data.parent().context("pg dir")?;
        for d in [parent, &self.socket_dir] {
            std::fs::create_dir_all(d)?;
            chown_postgres(d)?;
        }
        std::fs::create_dir_all(&self.data)?;
        chown_postgres(&self.data)?;
        std::fs::set_permissions(
            &self.data,
            std::os::unix::fs::PermissionsExt::from_mode(0o700),
        )?;
        let initdb = self.bins.bin.join("initdb");
        let cmd = self.as_postgres(&[
            initdb.as_os_str(),
            "-D".as_ref(),
            self.data.as_os_str(),
            "-U".as_ref(),
            "postgres".as_ref(),
            "-E".as_ref(),
            "UTF8".as_ref(),
            "--locale=C.UTF-8".as_ref(),
            "--auth-local=peer".as_ref(),
            "--auth-host=scram-sha-256".as_ref(),
        ]);
        self.run_logged("initdb", cmd)?;
        let conf = format!(
            "\n# bareos-acceptance\nlisten_addresses = '127.0.0.1'\nport = {}\nunix_socket_directories = '{}'\nfsync = off\nsynchronous_commit = off\nfull_page_writes = off\n",
            self.port,
            self.socket_dir.display()
        );
        append(&self.data.join("postgresql.conf"), &conf)?;

        let log = self.log_dir.join("postgresql.log");
        std::fs::write(&log, "")?;
        chown_postgres(&log)?;
        let pg_ctl = self.bins.bin.join("pg_ctl");
        let mut cmd = self.as_postgres(&[
            pg_ctl.as_os_str(),
            "-D".as_ref(),
            self.data.as_os_str(),
            "-l".as_ref(),
            log.as_os_str(),
            "-w".as_ref(),
            "-t".as_ref(),
            "60".as_ref(),
            "start".as_ref(),
        ]);
        daemons::unblock_signals_in_child(&mut cmd);
        daemons::register_postgres(&pg_ctl, &self.data);
        self.run_logged("pg_ctl-start", cmd)?;

        for script in [
            "create_bareos_database",
            "make_bareos_tables",
            "grant_bareos_privileges",
        ] {
            let path = inst.scripts_dir.join(script);
            let mut cmd = self.as_postgres(&[
                format!("db_name={DB_NAME}").as_ref(),
                format!("db_user={DB_USER}").as_ref(),
                format!("db_password={DB_PASSWORD}").as_ref(),
                path.as_os_str(),
            ]);
            cmd.env_clear().env("PATH", daemons::SERVICE_PATH);
            self.run_logged(script, cmd)?;
        }
        Ok(())
    }
}

fn append(path: &Path, text: &str) -> Result<()> {
    use std::io::Write;
    let mut f = std::fs::OpenOptions::new().append(true).open(path)?;
    f.write_all(text.as_bytes())?;
    Ok(())
}

fn chown_postgres(path: &Path) -> Result<()> {
    let user = nix::unistd::User::from_name("postgres")?.context("no user postgres")?;
    nix::unistd::chown(path, Some(user.uid), Some(user.gid))
        .with_context(|| format!("chown {}", path.display()))?;
    Ok(())
}
