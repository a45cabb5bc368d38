//! Restore job (fd-call-sequences §3.3, §8, §9): restore objects first,
//! then the records the bootstrap selects, archive after archive, replayed
//! as the storage daemon's stream:
//! plugin-name start → startRestoreFile, attributes → createFile and the
//! create_status handling, data → pluginIO(IO_WRITE) or the in-core
//! descriptor, plugin-name end → setFileAttributes/IO_CLOSE/endRestoreFile.

use std::ffi::{CStr, CString, c_char};
use std::fs::File;
use std::io::{Seek, SeekFrom, Write};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

use sidecar_shim::abi::{
    self, acl_pkt, bRC_OK, cf, event, ft, io_pkt, msg, restore_pkt, xattr_pkt,
};

use super::backup::{Handle, plugin_close, plugin_open, strerror};
use super::{Job, Route, call};
use crate::archive::{Attributes, Reader, Record};
use crate::bootstrap::{Bootstrap, Part};
use crate::jdebug;
use crate::regexwhere::RegexWhere;

/// STREAM_UNIX_ATTRIBUTES.
const STREAM_UNIX_ATTRIBUTES: i32 = 1;

pub struct RestoreOptions {
    /// `where=` ("/" already made ""); None with `regexwhere`.
    pub where_: Option<String>,
    /// `regexwhere=` (parsed when the restore command arrives).
    pub regex_where: Option<String>,
    pub replace: u8,
}

/// How restored names are relocated (bareos's BuildAttrOutputFnames).
enum Relocation {
    Where(String),
    Regex(RegexWhere),
}

/// Where the data of the current file goes.
enum Out {
    /// Opened through the plugin (CF_EXTRACT, or CF_CORE regular file).
    Plugin(Handle),
    /// Written by the core itself (no plugin stream active).
    Native(File),
}

/// The file whose attribute record was processed last.
struct Current {
    attrs: Attributes,
    names: Names,
    /// Some while data is accepted; None after a write error.
    out: Option<Out>,
    /// Plugin instance (None: core-restored ordinary file).
    inst: Option<usize>,
    /// Position for sparse/offset records.
    pos: u64,
    /// ACL/xattr records to apply after setFileAttributes.
    queued: Vec<Record>,
    /// CF_CREATED/CF_SKIP with a descriptor left in restore_pkt.filedes:
    /// the core sends IO_CLOSE with it when finishing (§13.4).
    stale_fd: Option<i32>,
    /// Accept ACL/xattr (extracting, or a directory).
    meta_ok: bool,
}

struct Names {
    ofname: CString,
    olname: CString,
    fname: CString,
    link: CString,
}

struct Restore<'j, 'a> {
    job: &'j mut Job<'a>,
    opts: &'j RestoreOptions,
    relocation: Relocation,
    /// The instance of the last routed plugin-name record; with
    /// `cmd_plugin` the job-wide "command plugin" flag (never cleared).
    cur: Option<usize>,
    cmd_plugin: bool,
    current: Option<Current>,
}

/// Run a restore job: the bootstrap's restore objects, the restore
/// command, then the selected records of each archive in order as one
/// stream. Archive errors are fatal job errors.
pub fn run(job: &mut Job, opts: &RestoreOptions, bootstrap: &Bootstrap) {
    // §9.2: every restore object, then one broadcast NULL; none if there
    // are none.
    job.restore_object_events(&bootstrap.objects);
    let relocation = match (&opts.regex_where, &opts.where_) {
        (Some(r), _) => match RegexWhere::parse(r) {
            Some(list) => Relocation::Regex(list),
            None => {
                // The `restore` command fails: no bEventStartRestoreJob.
                job.shared
                    .jmsg(msg::FATAL, &format!("Bad where regexp. where={r}\n"));
                return;
            }
        },
        (None, w) => Relocation::Where(w.clone().unwrap_or_default()),
    };
    for s in &mut job.slots {
        s.restore_started = false;
    }
    job.broadcast(event::StartRestoreJob, std::ptr::null_mut());
    let mut r = Restore {
        relocation,
        job,
        opts,
        cur: None,
        cmd_plugin: false,
        current: None,
    };
    for part in &bootstrap.parts {
        if r.job.shared.is_canceled() {
            break;
        }
        if let Err(e) = r.stream(part) {
            r.job.shared.jmsg(
                msg::FATAL,
                &format!("Cannot read archive {}: {e}\n", part.archive.display()),
            );
        }
    }
    r.finish_current();
    // bEventEndRestoreJob, after the implicit endRestoreFile (§2.8).
    let job = r.job;
    for i in 0..job.slots.len() {
        if job.slots[i].restore_started {
            call!(job, i, endRestoreFile);
            job.slots[i].restore_started = false;
        }
        if !job.slots[i].disabled && job.slots[i].inst.wants(event::EndRestoreJob) {
            job.event(i, event::EndRestoreJob, std::ptr::null_mut());
        }
    }
}

fn cstring(b: &[u8]) -> CString {
    CString::new(b.iter().copied().filter(|c| *c != 0).collect::<Vec<_>>()).unwrap_or_default()
}

impl Restore<'_, '_> {
    /// The records of one archive the bootstrap selects: the records of
    /// a file index it does not select (superseded or deleted files,
    /// restore objects with their plugin-name records) are not sent.
    fn stream(&mut self, part: &Part) -> std::io::Result<()> {
        let archive = &part.archive;
        let mut r = Reader::open(archive)?;
        let mut complete = false;
        // The records of an unselected file index are being passed over.
        let mut skip = false;
        while !self.job.shared.is_canceled() {
            let Some(rec) = r.next(skip)? else { break };
            match rec {
                Record::Job { .. } | Record::Object(_) | Record::DataSkipped(_) => {}
                Record::PluginStart { file_index, cmd } => {
                    skip = !part.selected.contains(&file_index);
                    if !skip {
                        self.plugin_start(&cmd);
                    }
                }
                Record::Attributes(a) => {
                    skip = !part.selected.contains(&a.file_index);
                    if !skip {
                        self.finish_current();
                        self.create(a);
                    }
                }
                Record::End { .. } => complete = true,
                _ if skip => {}
                Record::Data(d) => self.data(None, &d),
                Record::DataAt(o, d) => self.data(Some(o), &d),
                rec @ (Record::Acl(_) | Record::Xattr(_)) => self.meta(rec),
                Record::PluginEnd { .. } => self.plugin_end(),
            }
        }
        if !complete && !self.job.shared.is_canceled() {
            self.job.shared.jmsg(
                msg::FATAL,
                &format!(
                    "Archive {} is truncated (no end record).\n",
                    archive.display()
                ),
            );
        }
        Ok(())
    }

    /// Plugin-name start record (§8.3).
    fn plugin_start(&mut self, cmd: &[u8]) {
        self.finish_current();
        let cmd = cstring(cmd);
        let text = cmd.to_string_lossy().into_owned();
        let i = match self.job.route(&text, event::RestoreCommand) {
            Route::Found(i) => i,
            Route::Disabled(_) => return,
            Route::NotFound | Route::NoName => {
                self.job
                    .shared
                    .jmsg(msg::WARNING, &format!("Plugin={text} not found.\n"));
                return;
            }
        };
        self.cur = Some(i);
        self.cmd_plugin = true;
        let rc = self
            .job
            .event(i, event::RestoreCommand, cmd.as_ptr().cast_mut().cast());
        if rc != bRC_OK {
            jdebug!(self.job.shared, 10, "bEventRestoreCommand returned {rc}");
            return;
        }
        if self.job.slots[i].restore_started {
            self.job.shared.jmsg(
                msg::FATAL,
                &format!(
                    "Second call to startRestoreFile. plugin={} cmd={text}\n",
                    self.job.file(i)
                ),
            );
            self.job.slots[i].restore_started = false;
            return;
        }
        let rc = call!(self.job, i, startRestoreFile, cmd.as_ptr());
        jdebug!(self.job.shared, 150, "startRestoreFile -> {rc}");
        self.job.slots[i].restore_started = rc == bRC_OK;
    }

    /// Plugin-name end record (§8.7).
    fn plugin_end(&mut self) {
        self.finish_current();
        let Some(i) = self.cur else { return };
        if !self.job.slots[i].restore_started {
            return;
        }
        let rc = call!(self.job, i, endRestoreFile);
        jdebug!(self.job.shared, 150, "endRestoreFile -> {rc}");
        self.job.slots[i].restore_started = false;
        if rc == -1 {
            self.job.shared.jmsg(
                msg::FATAL,
                &format!(
                    "Return value of endRestoreFile invalid: -1, plugin={}\n",
                    self.job.file(i)
                ),
            );
        }
    }

    /// Output names as bareos's BuildAttrOutputFnames (prefix links off):
    /// `where` is prepended (with a `/` between unless one is there; hard
    /// link targets only if absolute), or the regexwhere list is applied
    /// (to hard link targets too).
    fn names(&self, a: &Attributes) -> Names {
        let (ofname, olname) = match &self.relocation {
            Relocation::Where(w) if w.is_empty() => (a.fname.clone(), a.link.clone()),
            Relocation::Where(w) => {
                let prefixed = |name: &[u8]| -> Vec<u8> {
                    let mut v = w.as_bytes().to_vec();
                    if !w.ends_with('/') && !name.starts_with(b"/") {
                        v.push(b'/');
                    }
                    v.extend_from_slice(name);
                    v
                };
                let olname = if a.ftype == ft::LNKSAVED && a.link.starts_with(b"/") {
                    prefixed(&a.link)
                } else {
                    a.link.clone()
                };
                (prefixed(&a.fname), olname)
            }
            Relocation::Regex(list) => {
                let olname = if a.ftype == ft::LNKSAVED {
                    list.apply(&a.link)
                } else {
                    a.link.clone()
                };
                (list.apply(&a.fname), olname)
            }
        };
        Names {
            ofname: cstring(&ofname),
            olname: cstring(&olname),
            fname: cstring(&a.fname),
            link: cstring(&a.link),
        }
    }

    fn restore_pkt(&self, a: &Attributes, n: &Names, delta_seq: u32) -> restore_pkt {
        let where_: *const c_char = self
            .job
            .shared
            .params
            .where_
            .as_ref()
            .map_or(std::ptr::null(), |w| w.as_ptr());
        restore_pkt {
            pkt_size: std::mem::size_of::<restore_pkt>() as i32,
            stream: STREAM_UNIX_ATTRIBUTES,
            data_stream: a.data_stream,
            type_: a.ftype,
            file_index: a.file_index as i32,
            LinkFI: 0,
            uid: a.stat.uid as u32,
            statp: a.stat.to_libc(),
            attrEx: c"".as_ptr(),
            ofname: n.ofname.as_ptr(),
            olname: n.olname.as_ptr(),
            where_,
            // bareos-fd passes jcr->RegexWhere, which the FD never sets.
            RegexWhere: std::ptr::null(),
            replace: self.opts.replace as i32,
            create_status: cf::ERROR,
            delta_seq,
            filedes: -1,
            original_file_name: n.fname.as_ptr(),
            original_link_name: n.link.as_ptr(),
            pkt_end: std::mem::size_of::<restore_pkt>() as i32,
        }
    }

    /// Attribute record (§8.4).
    fn create(&mut self, a: Attributes) {
        let names = self.names(&a);
        let ofname = names.ofname.to_string_lossy().into_owned();
        let mut cur = Current {
            attrs: a,
            names,
            out: None,
            inst: None,
            pos: 0,
            queued: Vec::new(),
            stale_fd: None,
            meta_ok: false,
        };
        if !self.cmd_plugin {
            // An ordinary file: the core restores it itself.
            let status = self.core_create(&mut cur, None);
            if status == cf::EXTRACT || status == cf::CREATED {
                self.job.files += 1;
            }
            cur.meta_ok = false;
            if status == cf::CREATED {
                apply_attributes(&self.job.shared, &cur);
            }
            self.current = Some(cur);
            return;
        }
        let i = match self.cur {
            Some(i) if !self.job.shared.is_canceled() && self.job.slots[i].restore_started => i,
            _ => {
                self.job
                    .shared
                    .jmsg(msg::FATAL, "Unbalanced call to createFile=0 0\n");
                return;
            }
        };
        cur.inst = Some(i);
        let mut rp = self.restore_pkt(&cur.attrs, &cur.names, cur.attrs.delta_seq);
        let rc = call!(self.job, i, createFile, &mut rp);
        jdebug!(
            self.job.shared,
            150,
            "createFile {ofname} -> rc={rc} create_status={} filedes={}",
            rp.create_status,
            rp.filedes
        );
        if rc != bRC_OK {
            self.job.shared.jmsg(
                msg::ERROR,
                &format!("Plugin createFile call failed. Stat={rc} file={ofname}\n"),
            );
            return;
        }
        let filedes = rp.filedes;
        let mut status = rp.create_status;
        if status == cf::CORE {
            status = self.core_create(&mut cur, Some(i));
            if status == cf::EXTRACT {
                self.job.files += 1;
                cur.meta_ok = true;
                self.current = Some(cur);
                return;
            }
        }
        match status {
            cf::ERROR => {
                self.job.shared.jmsg(
                    msg::ERROR,
                    &format!("Plugin createFile call failed. Returned CF_ERROR file={ofname}\n"),
                );
                return;
            }
            cf::SKIP => {
                self.job.files += 1;
                cur.stale_fd = (filedes != -1).then_some(filedes);
            }
            cf::CREATED => {
                self.job.files += 1;
                let mut rp = self.restore_pkt(&cur.attrs, &cur.names, 0);
                call!(self.job, i, setFileAttributes, &mut rp);
                if rp.create_status == cf::CORE {
                    apply_attributes(&self.job.shared, &cur);
                }
                cur.stale_fd = (filedes != -1).then_some(filedes);
                cur.meta_ok = cur.attrs.ftype == ft::DIREND;
            }
            _ => {
                // CF_EXTRACT (or any other value): open through the plugin.
                match plugin_open(
                    self.job,
                    i,
                    &cur.names.ofname,
                    libc::O_WRONLY | libc::O_CREAT | libc::O_TRUNC,
                    0o600,
                ) {
                    Ok(h) => {
                        self.job.files += 1;
                        cur.out = Some(Out::Plugin(h));
                        cur.meta_ok = true;
                    }
                    Err(errno) => {
                        self.job.shared.jmsg(
                            msg::ERROR,
                            &format!("Could not create {ofname}: ERR={}\n", strerror(errno)),
                        );
                        return;
                    }
                }
            }
        }
        self.current = Some(cur);
    }

    /// The core's own file creation (CF_CORE, or no plugin): parent
    /// directories, replace mode, then by type. Regular files are opened
    /// through the plugin when `plugin` is set. Returns a CF_* status.
    fn core_create(&mut self, cur: &mut Current, plugin: Option<usize>) -> i32 {
        let shared = self.job.shared.clone();
        let ofname = cur.names.ofname.to_string_lossy().into_owned();
        let path = Path::new(std::ffi::OsStr::from_bytes(cur.names.ofname.as_bytes()));
        let a = &cur.attrs;
        if let Some(parent) = path.parent()
            && let Err(e) = std::fs::create_dir_all(parent)
        {
            shared.jmsg(
                msg::ERROR,
                &format!("Could not create parent of {ofname}: ERR={e}\n"),
            );
            return cf::ERROR;
        }
        if let Ok(m) = std::fs::symlink_metadata(path)
            && !m.is_dir()
        {
            use std::os::unix::fs::MetadataExt;
            let skip = match self.opts.replace {
                b'n' => Some("Already exists"),
                b'w' if m.mtime() >= a.stat.mtime => Some("Not newer"),
                b'o' if m.mtime() <= a.stat.mtime => Some("Not older"),
                _ => None,
            };
            if let Some(why) = skip {
                shared.jmsg(msg::INFO, &format!("File skipped. {why}: {ofname}\n"));
                return cf::SKIP;
            }
            if a.ftype != ft::DIREND {
                let _ = std::fs::remove_file(path);
            }
        }
        let res: std::io::Result<i32> = match a.ftype {
            ft::DIREND => std::fs::create_dir_all(path).map(|_| cf::CREATED),
            ft::LNK => std::os::unix::fs::symlink(
                std::ffi::OsStr::from_bytes(cur.names.olname.as_bytes()),
                path,
            )
            .map(|_| cf::CREATED),
            ft::LNKSAVED => std::fs::hard_link(
                std::ffi::OsStr::from_bytes(cur.names.olname.as_bytes()),
                path,
            )
            .map(|_| cf::CREATED),
            ft::FIFO | ft::SPEC => {
                // SAFETY: valid C path; mode/rdev from the recorded stat.
                let r = unsafe {
                    libc::mknod(
                        cur.names.ofname.as_ptr(),
                        a.stat.mode as libc::mode_t,
                        a.stat.rdev as libc::dev_t,
                    )
                };
                if r == 0 {
                    Ok(cf::CREATED)
                } else {
                    Err(std::io::Error::last_os_error())
                }
            }
            ft::DELETED => Ok(cf::SKIP),
            ft::REG | ft::REGE | ft::RAW => match plugin {
                Some(i) => match plugin_open(
                    self.job,
                    i,
                    &cur.names.ofname,
                    libc::O_WRONLY | libc::O_CREAT | libc::O_TRUNC,
                    0,
                ) {
                    Ok(h) => {
                        cur.out = Some(Out::Plugin(h));
                        Ok(cf::EXTRACT)
                    }
                    Err(errno) => Err(std::io::Error::from_raw_os_error(errno)),
                },
                None => File::create(path).map(|f| {
                    cur.out = Some(Out::Native(f));
                    cf::EXTRACT
                }),
            },
            other => {
                shared.jmsg(
                    msg::ERROR,
                    &format!("Unknown file type {other}; not restored: {ofname}\n"),
                );
                return cf::ERROR;
            }
        };
        match res {
            Ok(s) => s,
            Err(e) => {
                shared.jmsg(msg::ERROR, &format!("Could not create {ofname}: ERR={e}\n"));
                cf::ERROR
            }
        }
    }

    /// A data record for the current file (§8.5).
    fn data(&mut self, at: Option<u64>, d: &[u8]) {
        let Some(cur) = self.current.as_mut() else {
            return;
        };
        let Some(out) = cur.out.as_mut() else { return };
        let job = &*self.job;
        let ofname = cur.names.ofname.to_string_lossy().into_owned();
        let i = cur.inst.unwrap_or(0);
        // Seek for sparse/offset records that are not contiguous.
        if let Some(off) = at
            && off != cur.pos
        {
            let ok = match out {
                Out::Native(f) => f.seek(SeekFrom::Start(off)).is_ok(),
                Out::Plugin(_) => {
                    let mut io = io_pkt_for(abi::io::SEEK);
                    io.offset = off as i64;
                    io.whence = libc::SEEK_SET;
                    call!(job, i, pluginIO, &mut io);
                    io.offset >= 0
                }
            };
            if !ok {
                job.shared
                    .jmsg(msg::ERROR, &format!("Seek error on {ofname}\n"));
            }
            cur.pos = off;
        }
        let result: Result<(), i32> = match out {
            Out::Native(f) => f
                .write_all(d)
                .map_err(|e| e.raw_os_error().unwrap_or(libc::EIO)),
            Out::Plugin(Handle::InCore(fd)) => write_all_fd(*fd, d),
            Out::Plugin(h @ Handle::Plugin) => {
                let mut io = io_pkt_for(abi::io::WRITE);
                io.count = d.len() as i32;
                io.buf = d.as_ptr().cast_mut().cast();
                io.filedes = h.fd();
                call!(job, i, pluginIO, &mut io);
                if io.status == d.len() as i32 {
                    Ok(())
                } else {
                    Err(if io.io_errno != 0 {
                        io.io_errno
                    } else {
                        libc::EIO
                    })
                }
            }
        };
        match result {
            Ok(()) => {
                cur.pos += d.len() as u64;
                self.job.bytes += d.len() as u64;
            }
            Err(errno) => {
                job.shared.jmsg(
                    msg::ERROR,
                    &format!("Write error on {ofname}: {}\n", strerror(errno)),
                );
                // Extraction stops; close, no setFileAttributes.
                if let Some(Out::Plugin(h)) = cur.out.take() {
                    plugin_close(job, i, h);
                }
                cur.meta_ok = false;
            }
        }
    }

    /// ACL/xattr records (§8.6): directories at once, others queued.
    fn meta(&mut self, rec: Record) {
        let Some(cur) = self.current.as_mut() else {
            return;
        };
        if !cur.meta_ok {
            return;
        }
        let Some(i) = cur.inst else {
            jdebug!(
                self.job.shared,
                50,
                "ACL/xattr of a core-restored file dropped"
            );
            return;
        };
        if cur.attrs.ftype == ft::DIREND {
            let fname = cur.names.ofname.clone();
            apply_meta(self.job, i, &fname, &rec);
        } else {
            cur.queued.push(rec);
        }
    }

    /// Finish the current file (§8.8): setFileAttributes, close, queued
    /// ACL/xattr; or the IO_CLOSE of a stale descriptor (§13.4).
    fn finish_current(&mut self) {
        let Some(mut cur) = self.current.take() else {
            return;
        };
        let job = &*self.job;
        match (cur.out.take(), cur.inst) {
            (Some(Out::Native(f)), _) => {
                drop(f);
                apply_attributes(&job.shared, &cur);
            }
            (Some(Out::Plugin(h)), Some(i)) => {
                let mut rp = self.restore_pkt(&cur.attrs, &cur.names, 0);
                call!(job, i, setFileAttributes, &mut rp);
                plugin_close(job, i, h);
                if rp.create_status == cf::CORE {
                    apply_attributes(&job.shared, &cur);
                }
                for rec in &cur.queued {
                    apply_meta(job, i, &cur.names.ofname, rec);
                }
            }
            _ => {
                if let (Some(fd), Some(i)) = (cur.stale_fd, cur.inst) {
                    let mut io = io_pkt_for(abi::io::CLOSE);
                    io.filedes = fd;
                    call!(job, i, pluginIO, &mut io);
                }
            }
        }
    }
}

fn io_pkt_for(func: i32) -> io_pkt {
    // SAFETY: io_pkt is ints, pointers and a bool: all-zero is valid.
    let mut io: io_pkt = unsafe { std::mem::zeroed() };
    io.pkt_size = std::mem::size_of::<io_pkt>() as i32;
    io.pkt_end = io.pkt_size;
    io.func = func;
    io.filedes = -1;
    io
}

fn write_all_fd(fd: i32, mut d: &[u8]) -> Result<(), i32> {
    while !d.is_empty() {
        // SAFETY: writing from our buffer to the plugin's descriptor.
        let n = unsafe { libc::write(fd, d.as_ptr().cast(), d.len()) };
        if n < 0 {
            let e = std::io::Error::last_os_error()
                .raw_os_error()
                .unwrap_or(libc::EIO);
            if e == libc::EINTR {
                continue;
            }
            return Err(e);
        }
        if n == 0 {
            return Err(libc::ENOSPC);
        }
        d = &d[n as usize..];
    }
    Ok(())
}

/// setAcl / setXattr for one record (§8.6).
fn apply_meta(job: &Job, i: usize, fname: &CStr, rec: &Record) {
    let shown = fname.to_string_lossy();
    match rec {
        Record::Acl(content) => {
            if job.funcs(i).and_then(|f| f.setAcl).is_none() {
                job.shared.jmsg(
                    msg::ERROR,
                    &format!("Plugin has no setAcl: ACL of {shown} not restored\n"),
                );
                return;
            }
            let mut buf = content.clone();
            let mut ap = acl_pkt {
                pkt_size: std::mem::size_of::<acl_pkt>() as i32,
                fname: fname.as_ptr(),
                content_length: buf.len() as u32,
                content: buf.as_mut_ptr().cast(),
                pkt_end: std::mem::size_of::<acl_pkt>() as i32,
            };
            let rc = call!(job, i, setAcl, &mut ap);
            if rc != bRC_OK {
                job.shared.jmsg(
                    msg::WARNING,
                    &format!("setAcl failed for {shown} (rc={rc})\n"),
                );
            }
        }
        Record::Xattr(pairs) => {
            if job.funcs(i).and_then(|f| f.setXattr).is_none() {
                job.shared.jmsg(
                    msg::ERROR,
                    &format!("Plugin has no setXattr: xattrs of {shown} not restored\n"),
                );
                return;
            }
            for (n, v) in pairs {
                let (mut n, mut v) = (n.clone(), v.clone());
                let mut xp = xattr_pkt {
                    pkt_size: std::mem::size_of::<xattr_pkt>() as i32,
                    fname: fname.as_ptr(),
                    name_length: n.len() as u32,
                    name: n.as_mut_ptr().cast(),
                    value_length: v.len() as u32,
                    value: v.as_mut_ptr().cast(),
                    pkt_end: std::mem::size_of::<xattr_pkt>() as i32,
                };
                let rc = call!(job, i, setXattr, &mut xp);
                if rc != bRC_OK {
                    job.shared.jmsg(
                        msg::ERROR,
                        &format!("setXattr failed for {shown} (rc={rc})\n"),
                    );
                    break;
                }
            }
        }
        _ => {}
    }
}

/// The core applying recorded attributes itself: owner (if permitted),
/// mode (not for symlinks), access and modification times.
fn apply_attributes(shared: &crate::core::JobShared, cur: &Current) {
    let p = cur.names.ofname.as_ptr();
    let st = &cur.attrs.stat;
    let is_link = st.mode as u32 & libc::S_IFMT == libc::S_IFLNK;
    // SAFETY: valid C path; plain syscalls.
    unsafe {
        // Not being root is normal for fdhost: ignore EPERM.
        libc::lchown(p, st.uid as libc::uid_t, st.gid as libc::gid_t);
        if !is_link && libc::chmod(p, (st.mode & 0o7777) as libc::mode_t) != 0 {
            jdebug!(
                shared,
                50,
                "chmod {} failed",
                cur.names.ofname.to_string_lossy()
            );
        }
        let times = [
            libc::timespec {
                tv_sec: st.atime,
                tv_nsec: 0,
            },
            libc::timespec {
                tv_sec: st.mtime,
                tv_nsec: 0,
            },
        ];
        if libc::utimensat(libc::AT_FDCWD, p, times.as_ptr(), libc::AT_SYMLINK_NOFOLLOW) != 0 {
            jdebug!(
                shared,
                50,
                "utimensat {} failed",
                cur.names.ofname.to_string_lossy()
            );
        }
    }
}
