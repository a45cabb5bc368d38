//! Attach in the real bareos-fd: a runner started by hand
//! (`sidecar-runner serve --socket SCRATCH/runner.sock --keep`, the
//! installed runner, a plain child of this harness) serves the jobs whose
//! plugin string has `sidecar.attach=SCRATCH/runner.sock`, allowed by
//! `[debug] allow = true` in the sidecar.toml beside python3-fd.so. Backup
//! and restore of sidecar_local_fileset with io=core and io=plugin,
//! restored data identical; without `[debug] allow` the job is refused.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

use super::{
    Scenario, example_plugin, expect_in_log, log_excerpt, restore_and_compare, run_failing, run_ok,
    sample_with_list,
};
use crate::config::JobDef;
use crate::lab::Lab;
use crate::tree;

pub fn scenarios() -> Vec<Scenario> {
    vec![
        Scenario {
            name: "attach-backup-restore",
            jobs,
            run: attach_backup_restore,
        },
        Scenario {
            name: "attach-refused-without-allow",
            jobs,
            run: attach_refused,
        },
    ]
}

const IO_MODES: [(&str, &str); 2] = [("attach-io-core", "core"), ("attach-io-plugin", "plugin")];
const REFUSED: &str = "attach-refused";

fn socket(lab: &Lab) -> PathBuf {
    lab.scratch.join("runner.sock")
}

fn plugin(lab: &Lab, name: &str, io: &str) -> String {
    example_plugin(
        lab,
        "sidecar_local_fileset",
        &format!(
            "filename={}:io={io}:sidecar.attach={}",
            lab.list_file(name).display(),
            socket(lab).display()
        ),
    )
}

fn jobs(lab: &Lab) -> Result<Vec<JobDef>> {
    let mut v: Vec<JobDef> = IO_MODES
        .iter()
        .map(|(name, io)| JobDef::new(name).plugin(&plugin(lab, name, io)))
        .collect();
    v.push(JobDef::new(REFUSED).plugin(&plugin(lab, REFUSED, "core")));
    Ok(v)
}

/// `sidecar-runner serve --socket PATH --keep`, stopped (by pid) when
/// dropped.
struct Serve {
    child: Child,
}

impl Serve {
    fn start(lab: &Lab, socket: &Path) -> Result<Serve> {
        let _ = std::fs::remove_file(socket);
        let out = std::fs::File::create(lab.log_dir.join("runner-serve.out"))?;
        let err = out.try_clone()?;
        let mut cmd = Command::new(&lab.runner);
        cmd.arg("serve")
            .arg("--socket")
            .arg(socket)
            .arg("--keep")
            .env_clear()
            .env("PATH", crate::daemons::SERVICE_PATH)
            .current_dir("/")
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err);
        crate::daemons::unblock_signals_in_child(&mut cmd);
        let child = cmd
            .spawn()
            .with_context(|| format!("start {} serve", lab.runner.display()))?;
        crate::daemons::register_process("sidecar-runner serve", child.id() as i32);
        let mut serve = Serve { child };
        let t = Instant::now();
        while !socket.exists() {
            if let Ok(Some(status)) = serve.child.try_wait() {
                bail!(
                    "sidecar-runner serve exited ({status}):\n{}",
                    crate::daemons::tail(&lab.log_dir.join("runner-serve.out"), 20)
                );
            }
            if t.elapsed() > Duration::from_secs(10) {
                bail!(
                    "sidecar-runner serve made no socket {} in 10 s",
                    socket.display()
                );
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Ok(serve)
    }
}

impl Drop for Serve {
    fn drop(&mut self) {
        let pid = self.child.id() as i32;
        crate::daemons::stop_process("sidecar-runner serve", pid, Duration::from_secs(5));
        let _ = self.child.wait();
    }
}

fn attach_backup_restore(lab: &Lab) -> Result<()> {
    if !lab.runner.is_file() {
        bail!(
            "no sidecar-runner in {} (reference run)",
            lab.sidecar_plugins.display()
        );
    }
    let socket = socket(lab);
    let _toml = lab.sidecar_toml("[debug]\nallow = true\n")?;
    let serve = Serve::start(lab, &socket)?;
    let fd_pid = lab.fd_pid();
    let attached = format!("attached at {}", socket.display());
    for (i, (name, _io)) in IO_MODES.iter().enumerate() {
        let (data, _) = sample_with_list(lab, name, 71 + i as u64)?;
        let expected = tree::snapshot(&data)?;
        let (rec, log) = run_ok(lab, name, "")?;
        expect_in_log(&log, &attached, &format!("{name} backup"))?;
        if rec.files < 5 {
            bail!(
                "{name}: only {} files backed up:\n{}",
                rec.files,
                log_excerpt(&log)
            );
        }
        let log = restore_and_compare(
            lab,
            name,
            name,
            None,
            &data,
            &expected,
            tree::CONTENTS_AND_MODES,
        )?;
        expect_in_log(&log, &attached, &format!("{name} restore"))?;
    }
    drop(serve);
    drop(_toml);
    if lab.fd_pid() != fd_pid || !crate::daemons::alive(fd_pid) {
        bail!("bareos-fd (pid {fd_pid}) did not survive");
    }
    lab.wait_no_runners(Duration::from_secs(10))?;
    Ok(())
}

fn attach_refused(lab: &Lab) -> Result<()> {
    if !lab.runner.is_file() {
        bail!(
            "no sidecar-runner in {} (reference run)",
            lab.sidecar_plugins.display()
        );
    }
    // No sidecar.toml beside the plugin, so no [debug] allow.
    let toml = lab.sidecar_plugins.join("sidecar.toml");
    if toml.exists() {
        bail!("{} exists; this scenario needs none", toml.display());
    }
    sample_with_list(lab, REFUSED, 79)?;
    let fd_pid = lab.fd_pid();
    let (rec, log, _) = run_failing(lab, REFUSED, &["E", "f"], Duration::from_secs(60))?;
    expect_in_log(
        &log,
        "sidecar.attach refused: debugging is not allowed on this client",
        "attach without [debug] allow",
    )?;
    if log.contains("sidecar-runner pid") {
        bail!(
            "jobid {}: a runner was started although the attach was refused:\n{}",
            rec.id,
            log_excerpt(&log)
        );
    }
    if let Some(crash) = lab.sd_crash_after(&log)? {
        eprintln!("  note: {crash}");
    }
    super::expect_clean_after(lab, fd_pid, Duration::from_secs(10))
}
