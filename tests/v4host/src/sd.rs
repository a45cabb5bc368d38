//! The storage daemon's job, for a backup to a file device in the order of
//! core/src/stored/ (dir-sd-api §3.3):
//!
//! * director's job command (dir_cmd.cc, job.cc): newPlugin (instance 0 of
//!   every plugin), the `SD Plugin Options` dispatch, bSdEventJobStart with
//!   the value `"JobStart"`;
//! * use device command (reserve.cc): bSdEventDeviceReserve — from here on
//!   the job has a device record (Pool, PoolType, Storage, MediaType,
//!   VolumeName answer; before they are bRC_Error); non-OK fails the
//!   reservation and the job;
//! * the FD connects (fd_cmds.cc RunJob): status `R`; append (append.cc,
//!   mount.cc MountNextWriteVolume): bSdEventVolumeUnload (DoUnload),
//!   bSdEventVolumeLoad (DoLoad; results ignored there), the director names
//!   the volume, bSdEventDeviceOpen (non-OK: the open fails);
//!   existing volume: bSdEventLabelRead, bSdEventLabelVerified (non-OK
//!   fails the label check); with `--new-volume`: the open of the missing
//!   file fails and autolabel creates it (WriteNewVolumeLabelToDev: two
//!   more bSdEventDeviceOpen, bSdEventLabelWrite), the mode change reopens
//!   it (bSdEventDeviceOpen), then bSdEventLabelRead, bSdEventLabelVerified;
//!   bSdEventSetupRecordTranslation (non-OK: job error-terminated); one
//!   bSdEventWriteRecordTranslation per record (`--files`; non-OK: write
//!   error); `--extra-event`s; ReleaseDevice (acquire.cc):
//!   bSdEventDeviceClose, then bSdEventDeviceRelease only if the job is not
//!   canceled or failed;
//! * end of job: status `T` (unless failed), bSdEventJobEnd, freePlugin.
//!
//! A restore (`--type R`) is simplified: reserve, DeviceOpen, LabelRead,
//! LabelVerified, SetupRecordTranslation, one ReadRecordTranslation per
//! record (broadcast in reverse instance order, as read_record.cc asks),
//! DeviceClose, DeviceRelease, JobEnd. Device event values are a pointer to
//! a zeroed stand-in for the DeviceControlRecord (correct plugins never
//! dereference it).

use std::ffi::{CString, c_void};
use std::sync::Arc;

use sidecar_shim::dir::abi::{bRC_OK, msg};

use crate::cli::JobArgs;
use crate::core::{JobDesc, JobState, Kind};
use crate::job::Job;
use crate::loader::LoadedPlugin;

pub const JOB_START: u32 = 1;
pub const JOB_END: u32 = 2;
pub const VOLUME_LOAD: u32 = 5;
pub const DEVICE_RESERVE: u32 = 6;
pub const DEVICE_OPEN: u32 = 7;
pub const LABEL_READ: u32 = 8;
pub const LABEL_VERIFIED: u32 = 9;
pub const LABEL_WRITE: u32 = 10;
pub const DEVICE_CLOSE: u32 = 11;
pub const VOLUME_UNLOAD: u32 = 12;
pub const SETUP_RECORD_TRANSLATION: u32 = 18;
pub const READ_RECORD_TRANSLATION: u32 = 19;
pub const WRITE_RECORD_TRANSLATION: u32 = 20;
pub const DEVICE_RELEASE: u32 = 21;

/// Record size the byte counter grows by per record.
const RECORD: u64 = 64 * 1024;

/// Runs one storage daemon job; true if it terminated OK.
pub fn run_job(
    plugins: &[LoadedPlugin],
    desc: JobDesc,
    args: &JobArgs,
    options: &[String],
) -> bool {
    let state = Arc::new(JobState::new(desc));
    let mut job = Job::new(Kind::Sd, plugins, state.clone());
    // The DeviceControlRecord stand-in: zeroed, big enough that a plugin
    // peeking at a few fields reads zeros instead of faulting.
    let mut dcr_block = vec![0u64; 1024];
    let dcr = dcr_block.as_mut_ptr().cast::<c_void>();
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
    let fail = |text: &str| state.jmsg(msg::FATAL, text);
    let device = state.desc.storage.to_string_lossy().into_owned();
    let volume = state.desc.volume.to_string_lossy().into_owned();

    job.new_plugins();
    job.dispatch_options(options);
    let mut job_start = *b"JobStart\0";
    job.generate(JOB_START, job_start.as_mut_ptr().cast(), false);
    cancel("JobStart");

    let mut opened = false;
    let mut reserved = false;
    'device: {
        if state.is_canceled() {
            break 'device;
        }
        state.vars().dcr_volume = Some(CString::default());
        if job.generate(DEVICE_RESERVE, dcr, false) != bRC_OK {
            if !state.is_canceled() {
                fail(&format!(
                    "Device reservation failed for JobId={}: a plugin refused device \"{device}\" (bSdEventDeviceReserve)\n",
                    state.desc.jobid
                ));
            }
            break 'device;
        }
        reserved = true;
        cancel("DeviceReserve");
        if state.is_canceled() {
            break 'device;
        }
        state.vars().set_status(b'R');
        let reads = state.desc.reads();
        if !reads {
            job.generate(VOLUME_UNLOAD, dcr, false);
            job.generate(VOLUME_LOAD, dcr, false);
        }
        state.vars().dcr_volume = Some(state.desc.volume.clone());
        let open_failed = || {
            fail(&format!(
                "Open device \"{device}\" Volume \"{volume}\" failed: a plugin refused bSdEventDeviceOpen\n"
            ))
        };
        if !reads && args.new_volume.is_some() {
            // open(RW) of the missing file fails, autolabel: open(RW) fails
            // again, open(CREATE) succeeds, label written.
            for _ in 0..3 {
                if job.generate(DEVICE_OPEN, dcr, false) != bRC_OK {
                    open_failed();
                    break 'device;
                }
            }
            opened = true;
            if job.generate(LABEL_WRITE, dcr, false) != bRC_OK {
                fail(&format!(
                    "Labeling of Volume \"{volume}\" failed: a plugin refused bSdEventLabelWrite\n"
                ));
                break 'device;
            }
            state.jmsg(
                msg::INFO,
                &format!("Labeled new Volume \"{volume}\" on device \"{device}\".\n"),
            );
        }
        // (Re)open in read/write mode.
        if job.generate(DEVICE_OPEN, dcr, false) != bRC_OK {
            open_failed();
            break 'device;
        }
        opened = true;
        cancel("DeviceOpen");
        if state.is_canceled() {
            break 'device;
        }
        if job.generate(LABEL_READ, dcr, false) != bRC_OK {
            fail(&format!(
                "Read of the label of Volume \"{volume}\" on device \"{device}\" failed: a plugin refused bSdEventLabelRead\n"
            ));
            break 'device;
        }
        if job.generate(LABEL_VERIFIED, dcr, false) != bRC_OK {
            fail(&format!(
                "Volume \"{volume}\" on device \"{device}\" not usable: a plugin refused bSdEventLabelVerified\n"
            ));
            break 'device;
        }
        if !reads && args.new_volume.is_none() {
            state.jmsg(
                msg::INFO,
                &format!("Moving to end of data on volume \"{volume}\"\n"),
            );
        }
        if job.generate(SETUP_RECORD_TRANSLATION, dcr, false) != bRC_OK {
            state.vars().set_status(b'E');
            break 'device;
        }
        let (ev, reverse) = if reads {
            (READ_RECORD_TRANSLATION, true)
        } else {
            (WRITE_RECORD_TRANSLATION, false)
        };
        for _ in 0..state.desc.files {
            if job.generate(ev, dcr, reverse) != bRC_OK {
                if !state.is_canceled() {
                    fail(&format!(
                        "Fatal {} error on device \"{device}\": a plugin refused {}\n",
                        if reads { "read" } else { "append" },
                        Kind::Sd.event_name(ev)
                    ));
                }
                break 'device;
            }
            let mut v = state.vars();
            v.files += 1;
            v.bytes += RECORD;
        }
    }
    for &ev in &args.extra_event {
        job.generate(ev, dcr, false);
    }
    if opened {
        job.generate(DEVICE_CLOSE, dcr, false);
    }
    if reserved && !state.is_canceled() {
        job.generate(DEVICE_RELEASE, dcr, false);
    }
    state.vars().set_status(b'T');
    job.generate(JOB_END, std::ptr::null_mut(), false);
    let instances = job.instances();
    drop(job);
    drop(dcr_block);
    crate::cli::report(Kind::Sd, &state, &instances)
}
