//! Estimate job (fd-call-sequences §3.2, §7): the backup file loop without
//! I/O, printing an `ls -l` style line per counted file.

use std::ffi::{CStr, CString};

use sidecar_shim::abi::{bRC_More, bRC_OK, bRC_Stop, event, ft, msg};

use super::{Job, Route, call};
use crate::archive::Stat;
use crate::jdebug;
use crate::report::ls_line;

/// Run an estimate for the FileSet `cmds`; prints the listing on stdout.
pub fn run(job: &mut Job, cmds: &[CString], flags: [u8; 5]) {
    job.level_events();
    job.fileset_events(cmds);
    for cmd in cmds {
        if !walk_plugin(job, cmd, flags) {
            job.walk_failed = true;
            break;
        }
    }
}

/// One `Plugin =` line; false aborts the walk (only for the fatal cases:
/// the estimate walker itself always reports success, §7).
fn walk_plugin(job: &mut Job, cmd: &CString, flags: [u8; 5]) -> bool {
    let text = cmd.to_string_lossy().into_owned();
    if job.slots.is_empty() {
        job.shared.jmsg(
            msg::FATAL,
            &format!("PluginSave: Command plugin \"{text}\" requested, but is not loaded.\n"),
        );
        return false;
    }
    let i = match job.route(&text, event::EstimateCommand) {
        Route::Found(i) => i,
        Route::Disabled(_) => return true,
        Route::NotFound | Route::NoName => {
            job.shared.jmsg(
                msg::FATAL,
                &format!("Command plugin \"{text}\" not found.\n"),
            );
            return false;
        }
    };
    let rc = job.event(i, event::EstimateCommand, cmd.as_ptr().cast_mut().cast());
    if rc != bRC_OK {
        jdebug!(
            job.shared,
            10,
            "bEventEstimateCommand returned {rc}: walk aborted"
        );
        return false;
    }
    while !job.shared.is_canceled() {
        // SAFETY: all-zero is a valid save_pkt.
        let mut sp: sidecar_shim::abi::save_pkt = unsafe { std::mem::zeroed() };
        sp.pkt_size = std::mem::size_of_val(&sp) as i32;
        sp.pkt_end = sp.pkt_size;
        sp.portable = true;
        sp.flags = flags;
        sp.cmd = cmd.as_ptr().cast_mut();
        let rc = call!(job, i, startBackupFile, &mut sp);
        if rc != bRC_OK {
            if rc != bRC_Stop {
                jdebug!(
                    job.shared,
                    100,
                    "estimate: startBackupFile -> {rc}: loop ends"
                );
            }
            break;
        }
        if sp.type_ == 0 {
            job.shared.jmsg(
                msg::FATAL,
                &format!("Command plugin \"{text}\": no type in startBackupFile packet.\n"),
            );
            return false;
        }
        if !ft::is_object(sp.type_) {
            if sp.fname.is_null() {
                job.shared.jmsg(
                    msg::FATAL,
                    &format!("Command plugin \"{text}\": no fname in startBackupFile packet.\n"),
                );
                return false;
            }
            if matches!(
                sp.type_,
                ft::REGE
                    | ft::REG
                    | ft::LNK
                    | ft::DIREND
                    | ft::SPEC
                    | ft::RAW
                    | ft::FIFO
                    | ft::LNKSAVED
            ) {
                job.files += 1;
                let st = Stat::from_libc(&sp.statp);
                if sp.type_ != ft::LNKSAVED
                    && st.mode as u32 & libc::S_IFMT == libc::S_IFREG
                    && st.size > 0
                {
                    job.bytes += st.size as u64;
                }
                // SAFETY: NULL-checked above; plugin strings valid until
                // endBackupFile (fd-abi §8.2).
                let (name, link) = unsafe {
                    let n = if sp.type_ == ft::DIREND && !sp.link.is_null() {
                        sp.link
                    } else {
                        sp.fname
                    };
                    (
                        CStr::from_ptr(n).to_string_lossy().into_owned(),
                        (!sp.link.is_null() && matches!(sp.type_, ft::LNK | ft::LNKSAVED))
                            .then(|| CStr::from_ptr(sp.link).to_string_lossy().into_owned()),
                    )
                };
                println!("{}", ls_line(&st, &name, link.as_deref()));
            }
        }
        let rc = call!(job, i, endBackupFile);
        if rc != bRC_More {
            break;
        }
    }
    true
}
