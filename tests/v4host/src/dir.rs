//! The director's job, in the order of core/src/dird/job.cc (dir-sd-api
//! §2.3):
//!
//! SetupJob: newPlugin (instance 0 of every plugin), the `Dir Plugin
//! Options` dispatch, bDirEventJobStart; if the job is canceled by then
//! (a fatal message, `--cancel-after JobStart`) setup fails and the job
//! never runs: no JobInit, JobRun or JobEnd, only freePlugin. Else
//! bDirEventJobInit (status still `C`). job_thread: status `R`,
//! bDirEventJobRun, the job itself (skipped when canceled): for a backup
//! with `--new-volume`, bDirEventNewVolume (jcr->VolumeName cleared
//! first; a name the plugin sets wins over the label), then the counters;
//! `--extra-event`s; the final status (`T`, or the failure's); bDirEventJobEnd;
//! freePlugin. The director ignores every event's return value: only a
//! fatal job message (or a cancel) fails the job.

use std::ffi::{CString, c_void};
use std::sync::Arc;

use sidecar_shim::dir::abi::msg;

use crate::cli::JobArgs;
use crate::core::{JobDesc, JobState, Kind};
use crate::job::Job;
use crate::loader::LoadedPlugin;

pub const JOB_START: u32 = 1;
pub const JOB_END: u32 = 2;
pub const JOB_INIT: u32 = 3;
pub const JOB_RUN: u32 = 4;
pub const NEW_VOLUME: u32 = 6;

/// Runs one director job; true if it terminated OK.
pub fn run_job(
    plugins: &[LoadedPlugin],
    desc: JobDesc,
    args: &JobArgs,
    options: &[String],
) -> bool {
    let state = Arc::new(JobState::new(desc));
    let mut job = Job::new(Kind::Dir, plugins, state.clone());
    let null = std::ptr::null_mut::<c_void>();
    let cancel = |after: &str| {
        if args
            .cancel_after
            .as_deref()
            .is_some_and(|c| c.eq_ignore_ascii_case(after))
        {
            state.vars().canceled = true;
            state.vars().set_status(b'A');
            state.jmsg(
                msg::INFO,
                &format!("Job canceled (--cancel-after {after}).\n"),
            );
        }
    };

    job.new_plugins();
    job.dispatch_options(options);
    job.generate(JOB_START, null, false);
    cancel("JobStart");
    if state.is_canceled() {
        // SetupJob bails out: the job is never queued.
        let instances = job.instances();
        drop(job);
        return crate::cli::report(Kind::Dir, &state, &instances);
    }
    job.generate(JOB_INIT, null, false);
    cancel("JobInit");

    state.vars().set_status(b'R');
    job.generate(JOB_RUN, null, false);
    cancel("JobRun");

    if !state.is_canceled() {
        if !state.desc.reads()
            && let Some(label) = &args.new_volume
        {
            state.vars().volume = CString::default();
            job.generate(NEW_VOLUME, null, false);
            let mut v = state.vars();
            if v.volume.as_bytes().is_empty() {
                v.volume = crate::cli::cstring(label);
            }
            v.num_vols += 1;
            let name = v.volume.to_string_lossy().into_owned();
            drop(v);
            state.jmsg(
                msg::INFO,
                &format!("Created new Volume \"{name}\" in catalog.\n"),
            );
        }
        let d = &state.desc;
        let mut v = state.vars();
        v.files = d.files;
        v.sd_files = d.files;
        if d.reads() {
            v.read_bytes = d.bytes;
        } else {
            v.bytes = d.bytes;
            v.read_bytes = d.bytes;
        }
        v.last_rate = (d.bytes / 1000).min(i32::MAX as u64) as i32;
        v.fd_status = b'T';
        v.sd_status = b'T';
    }
    for &ev in &args.extra_event {
        job.generate(ev, null, false);
    }
    {
        let mut v = state.vars();
        let end = if v.canceled { b'A' } else { b'T' };
        v.set_status(end);
    }
    job.generate(JOB_END, null, false);
    let instances = job.instances();
    drop(job);
    crate::cli::report(Kind::Dir, &state, &instances)
}
