//! Backup job (fd-call-sequences §3.1, §4): level and FileSet events, then
//! for each `Plugin =` line the command-plugin file loop, with the data of
//! each file read through pluginIO (or directly from an in-core descriptor)
//! into the archive.

use std::collections::HashMap;
use std::ffi::{CStr, CString, c_char};
use std::io;

use sidecar_shim::abi::{
    self, acl_pkt, bRC, bRC_Error, bRC_More, bRC_OK, bRC_Seen, bRC_Skip, bRC_Stop, event, fo, ft,
    io_pkt, iostat, msg, save_pkt, xattr_pkt,
};

use super::{Job, Route, call};
use crate::archive::{Attributes, Object, Record, Stat, Writer};
use crate::{catalog, jdebug};

/// STREAM_FILE_DATA.
const STREAM_FILE_DATA: i32 = 2;
/// Serialized plugin xattrs may not exceed this (MAX_XATTR_STREAM).
const MAX_XATTR: usize = 1 << 20;

#[derive(Clone)]
pub struct BackupOptions {
    /// FileSet option bits (FO_*) of the command line; an Include block
    /// adds those of its Options blocks.
    pub flags: [u8; abi::FOPTS_BYTES],
    pub read_size: usize,
    /// `pluginoptions` commands (bEventNewPluginOptions).
    pub plugin_options: Vec<CString>,
    /// The previous job's restore objects (delivered in I/D jobs, §3.1.5).
    pub prev_objects: Vec<Object>,
}

/// How one plugin entry's walk ended.
enum Walk {
    Ok,
    /// The FileSet walk is aborted (job error).
    Abort,
}

/// Run a backup job over the job's FileSet (set before). Archive I/O
/// errors are fatal job errors.
pub fn run(job: &mut Job, opts: &BackupOptions, w: &mut Writer) {
    let cmds: Vec<CString> = job
        .shared
        .fileset()
        .includes
        .iter()
        .flat_map(|i| i.plugins.iter())
        .map(|c| CString::new(c.as_str()).unwrap_or_default())
        .collect();
    job.level_events();
    job.fileset_events(&cmds);
    job.plugin_options_events(&opts.plugin_options);
    if matches!(job.shared.params.level, b'I' | b'D') {
        job.restore_object_events(&opts.prev_objects);
    }
    job.broadcast(event::StartBackupJob, std::ptr::null_mut());
    if let Err(e) = walk_fileset(job, opts, w) {
        job.shared
            .jmsg(msg::FATAL, &format!("Archive write error: {e}\n"));
    }
    deleted_files(job);
    job.broadcast(event::EndBackupJob, std::ptr::null_mut());
    if let Err(e) = w.write(&Record::End {
        files: job.files,
        bytes: job.bytes,
    }) {
        job.shared
            .jmsg(msg::FATAL, &format!("Archive write error: {e}\n"));
    }
}

/// Every Include block in order: its `File =` entries (the core's own
/// walk), then its `Plugin =` entries (§4). Blocks and entries plugins add
/// on the way are walked too.
fn walk_fileset(job: &mut Job, opts: &BackupOptions, w: &mut Writer) -> io::Result<()> {
    let mut links = HashMap::new();
    let mut inc = 0;
    loop {
        let (files, cmds, block) = {
            let mut fs = job.shared.fileset();
            if inc >= fs.includes.len() {
                return Ok(());
            }
            fs.current = inc;
            let i = &fs.includes[inc];
            let block = BackupOptions {
                flags: i.flags(opts.flags),
                ..opts.clone()
            };
            let cmds: Vec<CString> = i
                .plugins
                .iter()
                .map(|c| CString::new(c.as_str()).unwrap_or_default())
                .collect();
            let option_plugin = i
                .option_plugin()
                .map(|p| CString::new(p).unwrap_or_default());
            ((i.files.clone(), option_plugin), cmds, block)
        };
        let (files, option_plugin) = files;
        super::native::walk(job, &block, inc, &files, option_plugin.as_ref(), w)?;
        for cmd in &cmds {
            if job.shared.is_canceled() {
                return Ok(());
            }
            if let Walk::Abort = walk_plugin(job, &block, cmd, w, &mut links)? {
                job.walk_failed = true;
                return Ok(());
            }
        }
        inc += 1;
    }
}

/// The accurate deleted-file pass (§5.4): every accurate entry nobody
/// marked seen is offered to each enabled instance's checkFile; the first
/// bRC_Seen keeps it, otherwise it is recorded as deleted.
fn deleted_files(job: &mut Job) {
    let p = &job.shared.params;
    if !p.accurate || !matches!(p.level, b'I' | b'D') || job.shared.is_canceled() {
        return;
    }
    for name in job.shared.accurate.unseen() {
        let cname = CString::new(name.as_str()).unwrap_or_default();
        let mut keep = false;
        for i in 0..job.slots.len() {
            if job.slots[i].disabled || job.funcs(i).and_then(|f| f.checkFile).is_none() {
                continue;
            }
            let rc = call!(job, i, checkFile, cname.as_ptr().cast_mut());
            jdebug!(job.shared, 150, "checkFile {name} -> {rc}");
            if rc == bRC_Seen {
                keep = true;
                break;
            }
        }
        if !keep {
            job.shared
                .jmsg(msg::INFO, &format!("     Deleted: {name}\n"));
            job.deleted.push(name);
        }
    }
}

/// Read a `bool` the plugin may have set to any byte.
fn flag(b: &bool) -> bool {
    // SAFETY: a bool field is one readable byte.
    unsafe { *(b as *const bool as *const u8) != 0 }
}

fn fresh_save_pkt(cmd: &CString, flags: [u8; abi::FOPTS_BYTES]) -> save_pkt {
    // SAFETY: save_pkt is ints, pointers, bools and a stat: all-zero is valid.
    let mut sp: save_pkt = unsafe { std::mem::zeroed() };
    sp.pkt_size = std::mem::size_of::<save_pkt>() as i32;
    sp.pkt_end = sp.pkt_size;
    sp.portable = true;
    sp.no_read = false;
    sp.flags = flags;
    sp.cmd = cmd.as_ptr().cast_mut();
    sp
}

/// A plugin-owned C string as bytes (None for NULL).
fn bytes(p: *const c_char) -> Option<Vec<u8>> {
    // SAFETY: NULL or a NUL-terminated string the plugin keeps valid until
    // its next startBackupFile/endBackupFile (fd-abi §8.2).
    (!p.is_null()).then(|| unsafe { CStr::from_ptr(p) }.to_bytes().to_vec())
}

fn set_bit(flags: &mut [u8], n: usize, on: bool) {
    if on {
        flags[n >> 3] |= 1 << (n & 7);
    } else {
        flags[n >> 3] &= !(1 << (n & 7));
    }
}

/// Pre-checks, routing and bEventBackupCommand for one `Plugin =` line,
/// then its file loop (§4.1-§4.4).
#[allow(non_upper_case_globals)] // bRC_* constants in patterns
fn walk_plugin(
    job: &mut Job,
    opts: &BackupOptions,
    cmd: &CString,
    w: &mut Writer,
    links: &mut HashMap<(u64, u64), Vec<u8>>,
) -> io::Result<Walk> {
    let text = cmd.to_string_lossy().into_owned();
    if job.slots.is_empty() {
        job.shared.jmsg(
            msg::FATAL,
            &format!("PluginSave: Command plugin \"{text}\" requested, but is not loaded.\n"),
        );
        return Ok(Walk::Abort);
    }
    if job.shared.is_canceled() {
        job.shared.jmsg(
            msg::FATAL,
            &format!(
                "PluginSave: Command plugin \"{text}\" requested, but job is already cancelled.\n"
            ),
        );
        return Ok(Walk::Abort);
    }
    let i = match job.route(&text, event::BackupCommand) {
        Route::Found(i) => i,
        Route::Disabled(i) => {
            jdebug!(
                job.shared,
                10,
                "plugin {} is disabled: walk aborted",
                job.file(i)
            );
            return Ok(Walk::Abort);
        }
        Route::NotFound | Route::NoName => {
            job.shared.jmsg(
                msg::FATAL,
                &format!("Command plugin \"{text}\" not found.\n"),
            );
            return Ok(Walk::Abort);
        }
    };
    let rc = job.event(i, event::BackupCommand, cmd.as_ptr().cast_mut().cast());
    if rc != bRC_OK {
        jdebug!(
            job.shared,
            10,
            "bEventBackupCommand returned {rc}: walk aborted"
        );
        return Ok(Walk::Abort);
    }
    let accurate = job.shared.params.accurate;

    while !job.shared.is_canceled() {
        let mut sp = fresh_save_pkt(cmd, opts.flags);
        let rc = call!(job, i, startBackupFile, &mut sp);
        jdebug!(job.shared, 150, "startBackupFile -> {rc}");
        let check_type = match rc {
            bRC_OK => true,
            bRC_Stop => break,
            bRC_Skip => continue,
            bRC_Error => {
                job.shared.jmsg(
                    msg::FATAL,
                    &format!("Command plugin \"{text}\": startBackupFile failed.\n"),
                );
                return Ok(Walk::Abort);
            }
            -1 | 3..=6 | 8 | 9999 => {
                job.shared.jmsg(
                    msg::ERROR,
                    &format!(
                        "Command plugin \"{text}\": unhandled returncode from startBackupFile.\n"
                    ),
                );
                break;
            }
            _ => false,
        };
        if check_type && sp.type_ == 0 {
            job.shared.jmsg(
                msg::FATAL,
                &format!("Command plugin \"{text}\": no type in startBackupFile packet.\n"),
            );
            return Ok(Walk::Abort);
        }
        if !save_file(job, i, opts, cmd, &text, &mut sp, w, links)? {
            return Ok(Walk::Abort);
        }
        // The name endBackupFile's OK/More marks seen (for object types
        // the core's buffer is stale: nothing to mark).
        let seen_name = (!ft::is_object(sp.type_))
            .then(|| bytes(sp.fname))
            .flatten();
        let rc = call!(job, i, endBackupFile);
        jdebug!(job.shared, 150, "endBackupFile -> {rc}");
        if accurate
            && (rc == bRC_OK || rc == bRC_More)
            && let Some(n) = seen_name
        {
            job.shared.accurate.mark(&String::from_utf8_lossy(&n), true);
        }
        if rc != bRC_More {
            break;
        }
    }
    Ok(Walk::Ok)
}

/// Save what startBackupFile described (§4.4 steps 3-5, §4.6-§4.9).
/// Ok(false) aborts the walk.
#[allow(clippy::too_many_arguments)]
fn save_file(
    job: &mut Job,
    i: usize,
    opts: &BackupOptions,
    cmd: &CString,
    text: &str,
    sp: &mut save_pkt,
    w: &mut Writer,
    links: &mut HashMap<(u64, u64), Vec<u8>>,
) -> io::Result<bool> {
    let shared = job.shared.clone();
    let jobid = shared.params.jobid;
    if ft::is_object(sp.type_) {
        let Some(object_name) = bytes(sp.object_name) else {
            shared.jmsg(
                msg::FATAL,
                &format!("Command plugin \"{text}\": no object_name in startBackupFile packet.\n"),
            );
            return Ok(false);
        };
        if sp.type_ == ft::PLUGIN_CONFIG_FILLED {
            shared.jmsg(
                msg::NOTSAVED,
                &format!(
                    "     Unknown file type {}; not saved: {}\n",
                    sp.type_,
                    String::from_utf8_lossy(&object_name)
                ),
            );
            shared.count_error();
            return Ok(true);
        }
        let len = sp.object_len.max(0) as usize;
        if sp.object.is_null() && len > 0 {
            shared.jmsg(
                msg::FATAL,
                &format!("Command plugin \"{text}\": no object in startBackupFile packet.\n"),
            );
            return Ok(false);
        }
        let data = if len == 0 {
            Vec::new()
        } else {
            // SAFETY: the plugin's object buffer of object_len bytes (§8.2).
            unsafe { std::slice::from_raw_parts(sp.object.cast::<u8>(), len) }.to_vec()
        };
        job.files += 1;
        let fi = job.files as u32;
        job.objects.push(catalog::ObjectEntry {
            plugin_name: cmd.to_string_lossy().into_owned(),
            object_name: String::from_utf8_lossy(&object_name).into_owned(),
            data: data.clone(),
            object_type: sp.type_,
            index: sp.index,
            full_len: len as i32,
            compression: 0,
        });
        w.write(&Record::PluginStart {
            file_index: fi,
            cmd: cmd.as_bytes().to_vec(),
        })?;
        w.write(&Record::Object(Object {
            file_index: fi,
            plugin_name: cmd.as_bytes().to_vec(),
            object_name,
            full_len: len as i32,
            data,
            object_type: sp.type_,
            index: sp.index,
            compression: 0,
            jobid,
        }))?;
        w.write(&Record::PluginEnd { files: fi })?;
        return Ok(true);
    }

    let Some(fname) = bytes(sp.fname) else {
        shared.jmsg(
            msg::FATAL,
            &format!("Command plugin \"{text}\": no fname in startBackupFile packet.\n"),
        );
        return Ok(false);
    };
    let link = bytes(sp.link).unwrap_or_default();
    let shown = String::from_utf8_lossy(&fname).into_owned();
    let mut no_read = flag(&sp.no_read);

    // Flag merge (§4.5).
    let mut flags = opts.flags;
    for bit in [fo::DELTA, fo::OFFSETS, fo::SPARSE, fo::PORTABLE_DATA] {
        set_bit(&mut flags, bit, fo::is_set(&sp.flags, bit));
    }
    set_bit(&mut flags, fo::PLUGIN, true);
    let delta_seq = if fo::is_set(&flags, fo::DELTA) {
        sp.delta_seq.wrapping_add(1)
    } else {
        0
    };

    let mut ftype = sp.type_;
    let mut link = link;
    let st = Stat::from_libc(&sp.statp);
    // Hard links (§4.4 step 4).
    let fmt = st.mode as u32 & libc::S_IFMT;
    if !fo::is_set(&opts.flags, fo::NO_HARDLINK)
        && st.nlink > 1
        && matches!(
            fmt,
            libc::S_IFREG | libc::S_IFCHR | libc::S_IFBLK | libc::S_IFIFO | libc::S_IFSOCK
        )
    {
        let key = (st.dev as u64, st.ino as u64);
        match links.get(&key) {
            Some(first) if *first != fname => {
                ftype = ft::LNKSAVED;
                link = first.clone();
                no_read = true;
            }
            Some(_) => no_read = true,
            None => {
                links.insert(key, fname.clone());
            }
        }
    }

    // Per-type handling (§4.6).
    let mut record_name = fname.clone();
    match ftype {
        ft::REG | ft::REGE | ft::RAW => {}
        ft::LNK
        | ft::LNKSAVED
        | ft::FIFO
        | ft::DIREND
        | ft::REPARSE
        | ft::JUNCTION
        | ft::RESTORE_FIRST
        | ft::PLUGIN_CONFIG
        | ft::DELETED => {}
        ft::SPEC if fmt == libc::S_IFSOCK => {
            shared.jmsg(
                msg::SKIPPED,
                &format!("     Socket file skipped: {shown}\n"),
            );
            return Ok(true);
        }
        ft::SPEC => {}
        ft::DIRBEGIN => return Ok(true),
        ft::NOCHG | ft::DIRNOCHG => {
            shared.jmsg(
                msg::SKIPPED,
                &format!("     Unchanged file skipped: {shown}\n"),
            );
            return Ok(true);
        }
        ft::NORECURSE | ft::NOFSCHG | ft::INVALIDFS => {
            let why = match ftype {
                ft::NORECURSE => "Recursion turned off. Directory not entered",
                ft::NOFSCHG => "File system change prohibited. Directory not entered",
                _ => "Disallowed filesystem. Directory not entered",
            };
            shared.jmsg(msg::INFO, &format!("     {why}: {shown}\n"));
            ftype = ft::DIREND;
        }
        ft::INVALIDDT => {
            shared.jmsg(
                msg::INFO,
                &format!("     Disallowed drive type. Will not descend into {shown}\n"),
            );
        }
        ft::NOACCESS | ft::NOFOLLOW | ft::NOSTAT | ft::NOOPEN => {
            let what = match ftype {
                ft::NOACCESS => "Could not access",
                ft::NOFOLLOW => "Could not follow link",
                ft::NOSTAT => "Could not stat",
                _ => "Could not open directory",
            };
            shared.jmsg(msg::NOTSAVED, &format!("     {what} \"{shown}\"\n"));
            shared.count_error();
            return Ok(true);
        }
        ft::ISARCH => {
            shared.jmsg(
                msg::NOTSAVED,
                &format!("     Archive file not saved: {shown}\n"),
            );
            return Ok(true);
        }
        other => {
            shared.jmsg(
                msg::NOTSAVED,
                &format!("     Unknown file type {other}; not saved: {shown}\n"),
            );
            shared.count_error();
            return Ok(true);
        }
    }
    if matches!(ftype, ft::DIREND | ft::REPARSE) {
        // Directories are recorded under their `link` name (trailing '/').
        record_name = if link.is_empty() {
            let mut n = fname.clone();
            if !n.ends_with(b"/") {
                n.push(b'/');
            }
            n
        } else {
            link.clone()
        };
    }
    let read_data = !no_read && ftype != ft::DELETED;

    job.files += 1;
    let fi = job.files as u32;
    jdebug!(shared, 100, "saving {shown} type={ftype} no_read={no_read}");
    w.write(&Record::PluginStart {
        file_index: fi,
        cmd: cmd.as_bytes().to_vec(),
    })?;
    job.saved.push(catalog::FileEntry {
        name: String::from_utf8_lossy(&record_name).into_owned(),
        ftype,
        stat: st,
        delta_seq,
    });
    w.write(&Record::Attributes(Attributes {
        file_index: fi,
        ftype,
        fname: record_name,
        link: if matches!(ftype, ft::DIREND | ft::REPARSE) {
            Vec::new()
        } else {
            link
        },
        stat: st,
        delta_seq,
        flags,
        data_stream: if read_data { STREAM_FILE_DATA } else { 0 },
    }))?;
    let fname_c = CString::new(fname.clone()).unwrap_or_default();
    let mut opened = true;
    if read_data {
        opened = save_data(job, i, &fname_c, &shown, &flags, opts.read_size, w)?;
    }
    if opened {
        if fo::is_set(&opts.flags, fo::ACL) && ftype != ft::LNK {
            save_acl(job, i, &fname_c, &shown, w)?;
        }
        if fo::is_set(&opts.flags, fo::XATTR) {
            save_xattr(job, i, &fname_c, &shown, w)?;
        }
    }
    w.write(&Record::PluginEnd { files: fi })?;
    Ok(true)
}

fn fresh_io(func: i32) -> io_pkt {
    // SAFETY: io_pkt is ints, pointers and a bool: all-zero is valid.
    let mut io: io_pkt = unsafe { std::mem::zeroed() };
    io.pkt_size = std::mem::size_of::<io_pkt>() as i32;
    io.pkt_end = io.pkt_size;
    io.func = func;
    io.filedes = -1;
    io
}

pub fn strerror(errno: i32) -> String {
    std::io::Error::from_raw_os_error(errno).to_string()
}

/// Where the data of an open plugin file comes from / goes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Handle {
    /// I/O through pluginIO; the handle's fd value is the marker 0.
    Plugin,
    /// "I/O in core" on the plugin's descriptor (never closed by us).
    InCore(i32),
}

impl Handle {
    pub fn fd(self) -> i32 {
        match self {
            Handle::Plugin => 0,
            Handle::InCore(fd) => fd,
        }
    }
}

/// pluginIO(IO_OPEN) and its interpretation (§13.2). Err(errno) on failure.
pub fn plugin_open(
    job: &Job,
    i: usize,
    fname: &CStr,
    flags: i32,
    mode: u32,
) -> Result<Handle, i32> {
    let mut io = fresh_io(abi::io::OPEN);
    io.fname = fname.as_ptr();
    io.flags = flags;
    io.mode = mode;
    let rc = call!(job, i, pluginIO, &mut io);
    jdebug!(
        job.shared,
        150,
        "IO_OPEN {} -> rc={rc} status={} filedes={}",
        fname.to_string_lossy(),
        io.status,
        io.filedes
    );
    if rc == bRC_Error {
        return Err(io.io_errno);
    }
    if io.status == iostat::DO_IO_IN_CORE {
        if io.filedes == -1 {
            return Err(io.io_errno);
        }
        return Ok(Handle::InCore(io.filedes));
    }
    if io.status < 0 {
        return Err(io.io_errno);
    }
    Ok(Handle::Plugin)
}

/// pluginIO(IO_CLOSE) with the handle's fd value.
pub fn plugin_close(job: &Job, i: usize, h: Handle) -> bRC {
    let mut io = fresh_io(abi::io::CLOSE);
    io.filedes = h.fd();
    let rc = call!(job, i, pluginIO, &mut io);
    jdebug!(job.shared, 150, "IO_CLOSE -> rc={rc} status={}", io.status);
    rc
}

/// One read: Ok((bytes, offset the plugin reported)), 0 bytes at EOF,
/// Err(errno) on error.
fn plugin_read(job: &Job, i: usize, h: Handle, buf: &mut [u8]) -> Result<(usize, i64), i32> {
    match h {
        Handle::InCore(fd) => {
            // Coalesce short reads like the core does (§13.3).
            let mut got = 0;
            while got < buf.len() {
                // SAFETY: reading into the unfilled part of our buffer.
                let n = unsafe { libc::read(fd, buf[got..].as_mut_ptr().cast(), buf.len() - got) };
                if n < 0 {
                    let e = std::io::Error::last_os_error().raw_os_error().unwrap_or(0);
                    if e == libc::EINTR {
                        continue;
                    }
                    return Err(e);
                }
                if n == 0 {
                    break;
                }
                got += n as usize;
            }
            Ok((got, 0))
        }
        Handle::Plugin => {
            let mut retries = 0;
            loop {
                let mut io = fresh_io(abi::io::READ);
                io.count = buf.len() as i32;
                io.buf = buf.as_mut_ptr().cast();
                io.filedes = h.fd();
                call!(job, i, pluginIO, &mut io);
                if io.status < 0 {
                    if io.io_errno == libc::EINTR && retries < 5 {
                        retries += 1;
                        continue;
                    }
                    return Err(io.io_errno);
                }
                let n = io.status as usize;
                if n > buf.len() {
                    return Err(libc::EOVERFLOW);
                }
                return Ok((n, io.offset));
            }
        }
    }
}

/// Open, read until EOF, close (§4.7). Ok(false) if the open failed.
pub(super) fn save_data(
    job: &mut Job,
    i: usize,
    fname: &CStr,
    shown: &str,
    flags: &[u8],
    read_size: usize,
    w: &mut Writer,
) -> io::Result<bool> {
    let h = match plugin_open(job, i, fname, libc::O_RDONLY, 0) {
        Ok(h) => h,
        Err(errno) => {
            job.shared.jmsg(
                msg::NOTSAVED,
                &format!("     Cannot open \"{shown}\": ERR={}.\n", strerror(errno)),
            );
            job.shared.count_error();
            return Ok(false);
        }
    };
    let with_offsets = fo::is_set(flags, fo::OFFSETS) || fo::is_set(flags, fo::SPARSE);
    let sparse = fo::is_set(flags, fo::SPARSE);
    let size = if with_offsets {
        read_size.saturating_sub(8).max(1)
    } else {
        read_size
    };
    let mut buf = vec![0u8; size];
    let mut pos = 0u64;
    let mut result = Ok(());
    // A cancel ends the transfer (the core's SD connection is gone).
    while !job.shared.is_canceled() {
        match plugin_read(job, i, h, &mut buf) {
            Ok((0, _)) => break,
            Ok((n, reported)) => {
                let chunk = &buf[..n];
                let start = pos;
                pos += n as u64;
                job.bytes += n as u64;
                let r = if with_offsets {
                    // With FO_OFFSETS the plugin's reported offset (plugin
                    // I/O) says where the block belongs; sparse all-zero
                    // blocks are omitted.
                    let at = if fo::is_set(flags, fo::OFFSETS) && h == Handle::Plugin {
                        reported.max(0) as u64
                    } else {
                        start
                    };
                    if sparse && chunk.iter().all(|b| *b == 0) {
                        Ok(())
                    } else {
                        w.data_at(at, chunk)
                    }
                } else {
                    w.data(chunk)
                };
                if let Err(e) = r {
                    result = Err(e);
                    break;
                }
            }
            Err(errno) => {
                job.shared.jmsg(
                    msg::ERROR,
                    &format!("Read error on file {shown}. ERR={}\n", strerror(errno)),
                );
                break;
            }
        }
    }
    plugin_close(job, i, h);
    result.map(|_| true)
}

/// getAcl once (§4.8); content is freed with free() (fd-abi §8.3).
pub(super) fn save_acl(
    job: &mut Job,
    i: usize,
    fname: &CStr,
    shown: &str,
    w: &mut Writer,
) -> io::Result<()> {
    if job.funcs(i).and_then(|f| f.getAcl).is_none() {
        return Ok(());
    }
    // SAFETY: acl_pkt is ints and pointers: all-zero is valid.
    let mut ap: acl_pkt = unsafe { std::mem::zeroed() };
    ap.pkt_size = std::mem::size_of::<acl_pkt>() as i32;
    ap.pkt_end = ap.pkt_size;
    ap.fname = fname.as_ptr();
    let rc = call!(job, i, getAcl, &mut ap);
    if rc != bRC_OK {
        job.shared.jmsg(
            msg::ERROR,
            &format!("getAcl failed for {shown} (rc={rc})\n"),
        );
        return Ok(());
    }
    if !ap.content.is_null() && ap.content_length > 0 {
        // SAFETY: the plugin's malloc'ed buffer of content_length bytes,
        // now owned (and freed) by the core.
        let acl = unsafe {
            let v = std::slice::from_raw_parts(ap.content.cast::<u8>(), ap.content_length as usize)
                .to_vec();
            libc::free(ap.content.cast());
            v
        };
        w.write(&Record::Acl(acl))?;
    }
    Ok(())
}

/// getXattr loop (§4.9); names and values are freed with free() (§8.4).
pub(super) fn save_xattr(
    job: &mut Job,
    i: usize,
    fname: &CStr,
    shown: &str,
    w: &mut Writer,
) -> io::Result<()> {
    if job.funcs(i).and_then(|f| f.getXattr).is_none() {
        return Ok(());
    }
    let mut pairs = Vec::new();
    let mut total = 0usize;
    loop {
        // SAFETY: xattr_pkt is ints and pointers: all-zero is valid.
        let mut xp: xattr_pkt = unsafe { std::mem::zeroed() };
        xp.pkt_size = std::mem::size_of::<xattr_pkt>() as i32;
        xp.pkt_end = xp.pkt_size;
        xp.fname = fname.as_ptr();
        let rc = call!(job, i, getXattr, &mut xp);
        if rc != bRC_OK && rc != bRC_More {
            job.shared.jmsg(
                msg::ERROR,
                &format!("getXattr failed for {shown} (rc={rc})\n"),
            );
            return Ok(());
        }
        if !xp.name.is_null() && xp.name_length > 0 {
            // SAFETY: malloc'ed name/value of the given lengths, now ours.
            let (n, v) = unsafe {
                let n = std::slice::from_raw_parts(xp.name.cast::<u8>(), xp.name_length as usize)
                    .to_vec();
                libc::free(xp.name.cast());
                let v = if xp.value_length > 0 && !xp.value.is_null() {
                    let v =
                        std::slice::from_raw_parts(xp.value.cast::<u8>(), xp.value_length as usize)
                            .to_vec();
                    libc::free(xp.value.cast());
                    v
                } else {
                    Vec::new()
                };
                (n, v)
            };
            total += n.len() + v.len() + 8;
            pairs.push((n, v));
            if total >= MAX_XATTR {
                job.shared.jmsg(
                    msg::ERROR,
                    &format!("Xattr stream of {shown} exceeds {MAX_XATTR} bytes\n"),
                );
                return Ok(());
            }
        }
        if rc == bRC_OK {
            break;
        }
    }
    if !pairs.is_empty() {
        w.write(&Record::Xattr(pairs))?;
    }
    Ok(())
}
