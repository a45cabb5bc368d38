//! The core's own FileSet walk for `File =` entries: directories are
//! walked depth first (a directory is saved after its contents, so its
//! restored mtime survives), every entry passes the Include/Exclude rules,
//! Incremental/Differential/accurate change detection (§5.1), and — if the
//! Include has one — the option plugin (§6: bEventHandleBackupFile; OK =
//! save through the plugin's pluginIO, Skip = not saved, Core = the core
//! saves it). Hard-link detection is not done for native files; FIFOs are
//! saved without data (no `ReadFifo`).

use std::ffi::CString;
use std::io::{self, Read};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

use sidecar_shim::abi::{bRC_Core, bRC_OK, bRC_Skip, event, fo, ft, msg, save_pkt};

use super::backup::{BackupOptions, save_acl, save_data, save_xattr};
use super::{Job, Route};
use crate::accurate::Candidate;
use crate::archive::{Attributes, Record, Stat, Writer};
use crate::fileset::bit;
use crate::{catalog, jdebug};

/// STREAM_FILE_DATA.
const STREAM_FILE_DATA: i32 = 2;

/// One entry found by the walk.
struct Entry {
    /// The name as walked (directories without trailing `/`).
    fname: String,
    /// Symlink target, or for directories the name with a trailing `/`.
    link: String,
    ftype: i32,
    stat: libc::stat,
}

/// What the option plugin answered.
enum Asked {
    /// Saved through instance `i`, with the plugin's flags and delta_seq.
    Plugin(usize, [u8; 5], u32),
    Skip,
    Core,
    Failed(i32),
}

struct Walker<'o> {
    opts: &'o BackupOptions,
    inc: usize,
    option_plugin: Option<&'o CString>,
}

/// Walk `files` of Include block `inc`.
pub fn walk(
    job: &mut Job,
    opts: &BackupOptions,
    inc: usize,
    files: &[String],
    option_plugin: Option<&CString>,
    w: &mut Writer,
) -> io::Result<()> {
    let walker = Walker {
        opts,
        inc,
        option_plugin,
    };
    for f in files {
        walker.visit(job, Path::new(f), w)?;
    }
    Ok(())
}

fn lstat(path: &Path) -> io::Result<libc::stat> {
    let c = CString::new(path.as_os_str().as_bytes())?;
    // SAFETY: stat is plain data that lstat fills.
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    // SAFETY: a valid path string and stat buffer.
    if unsafe { libc::lstat(c.as_ptr(), &mut st) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(st)
}

fn set_bit(flags: &mut [u8], n: usize, on: bool) {
    if on {
        flags[n >> 3] |= 1 << (n & 7);
    } else {
        flags[n >> 3] &= !(1 << (n & 7));
    }
}

impl Walker<'_> {
    fn visit(&self, job: &mut Job, path: &Path, w: &mut Writer) -> io::Result<()> {
        if job.shared.is_canceled() {
            return Ok(());
        }
        let fname = path.to_string_lossy().into_owned();
        let st = match lstat(path) {
            Ok(st) => st,
            Err(e) => {
                job.shared.jmsg(
                    msg::NOTSAVED,
                    &format!("     Could not stat \"{fname}\": ERR={e}\n"),
                );
                job.shared.count_error();
                return Ok(());
            }
        };
        let fmt = st.st_mode & libc::S_IFMT;
        let accepted = job
            .shared
            .fileset()
            .accepts(self.inc, &fname, fmt == libc::S_IFDIR);
        if !accepted {
            jdebug!(job.shared, 100, "excluded by the FileSet: {fname}");
            return Ok(());
        }
        let mut link = String::new();
        let ftype = match fmt {
            libc::S_IFREG => ft::REG,
            libc::S_IFLNK => {
                link = std::fs::read_link(path)
                    .map(|l| l.to_string_lossy().into_owned())
                    .unwrap_or_default();
                ft::LNK
            }
            libc::S_IFDIR => {
                if !fo::is_set(&self.opts.flags, bit::NO_RECURSION) {
                    self.children(job, path, &fname, w)?;
                }
                link = format!("{}/", fname.trim_end_matches('/'));
                ft::DIREND
            }
            libc::S_IFIFO => ft::FIFO,
            libc::S_IFSOCK => {
                job.shared.jmsg(
                    msg::SKIPPED,
                    &format!("     Socket file skipped: {fname}\n"),
                );
                return Ok(());
            }
            _ => ft::SPEC,
        };
        let entry = Entry {
            fname,
            link,
            ftype,
            stat: st,
        };
        self.entry(job, entry, w)
    }

    fn children(&self, job: &mut Job, path: &Path, fname: &str, w: &mut Writer) -> io::Result<()> {
        let mut children: Vec<_> = match std::fs::read_dir(path) {
            Ok(d) => d.filter_map(|e| e.ok()).map(|e| e.path()).collect(),
            Err(e) => {
                job.shared.jmsg(
                    msg::NOTSAVED,
                    &format!("     Could not open directory \"{fname}\": ERR={e}\n"),
                );
                job.shared.count_error();
                return Ok(());
            }
        };
        children.sort();
        for c in children {
            self.visit(job, &c, w)?;
        }
        Ok(())
    }

    /// Change detection, option plugin, save.
    fn entry(&self, job: &mut Job, e: Entry, w: &mut Writer) -> io::Result<()> {
        let p = &job.shared.params;
        let verdict = job.shared.accurate.check(
            p.accurate,
            p.level,
            p.since,
            &Candidate {
                fname: &e.fname,
                link: &e.link,
                stat: Stat::from_libc(&e.stat),
                save_time: 0,
                mtime_only: fo::is_set(&self.opts.flags, bit::MTIMEONLY),
            },
        );
        if !verdict.changed {
            job.shared.jmsg(
                msg::SKIPPED,
                &format!("     Unchanged file skipped: {}\n", e.fname),
            );
            return Ok(());
        }
        let mut via_plugin = None;
        let mut flags = self.opts.flags;
        let mut delta_seq = 0;
        if let Some(cmd) = self.option_plugin {
            match self.ask_option_plugin(job, cmd, &e, verdict.delta_seq, verdict.found) {
                Asked::Plugin(i, sp_flags, seq) => {
                    // Flag merge as for command plugins (§4.5).
                    for b in [fo::DELTA, fo::OFFSETS, fo::SPARSE, fo::PORTABLE_DATA] {
                        set_bit(&mut flags, b, fo::is_set(&sp_flags, b));
                    }
                    set_bit(&mut flags, fo::PLUGIN, true);
                    if fo::is_set(&flags, fo::DELTA) {
                        delta_seq = seq.wrapping_add(1);
                    }
                    via_plugin = Some(i);
                }
                Asked::Skip => return Ok(()),
                Asked::Core => {}
                Asked::Failed(rc) => {
                    job.shared.jmsg(
                        msg::ERROR,
                        &format!(
                            "Option plugin \"{}\" failed on {} (rc={rc}); not saved\n",
                            cmd.to_string_lossy(),
                            e.fname
                        ),
                    );
                    return Ok(());
                }
            }
        }
        self.save(job, &e, via_plugin, flags, delta_seq, w)
    }

    /// bEventHandleBackupFile to the option plugin (§6.2, §6.3).
    #[allow(non_upper_case_globals)] // bRC_* constants in patterns
    fn ask_option_plugin(
        &self,
        job: &mut Job,
        cmd: &CString,
        e: &Entry,
        delta_seq: u32,
        found: bool,
    ) -> Asked {
        let text = cmd.to_string_lossy().into_owned();
        if job.slots.is_empty() {
            job.shared.jmsg(
                msg::FATAL,
                &format!(
                    "PluginOptionHandleFile: Command plugin \"{text}\" requested, but is not loaded.\n"
                ),
            );
            return Asked::Core;
        }
        let i = match job.route(&text, event::HandleBackupFile) {
            Route::Found(i) => i,
            _ => return Asked::Core,
        };
        let fname = CString::new(e.fname.as_str()).unwrap_or_default();
        let link = CString::new(e.link.as_str()).unwrap_or_default();
        // SAFETY: save_pkt is ints, pointers, bools and a stat: all-zero
        // is valid.
        let mut sp: save_pkt = unsafe { std::mem::zeroed() };
        sp.pkt_size = std::mem::size_of::<save_pkt>() as i32;
        sp.pkt_end = sp.pkt_size;
        sp.portable = true;
        sp.flags = self.opts.flags;
        sp.cmd = cmd.as_ptr().cast_mut();
        sp.fname = fname.as_ptr().cast_mut();
        sp.link = link.as_ptr().cast_mut();
        sp.statp = e.stat;
        sp.type_ = e.ftype;
        sp.delta_seq = delta_seq;
        sp.accurate_found = found;
        let rc = job.event(
            i,
            event::HandleBackupFile,
            (&mut sp as *mut save_pkt).cast(),
        );
        jdebug!(
            job.shared,
            150,
            "bEventHandleBackupFile {} -> {rc}",
            e.fname
        );
        match rc {
            bRC_OK => Asked::Plugin(i, sp.flags, sp.delta_seq),
            bRC_Skip => Asked::Skip,
            bRC_Core => Asked::Core,
            other => Asked::Failed(other),
        }
    }

    /// Write the entry: attributes, data (natively or through the option
    /// plugin's pluginIO), ACL/xattr through the plugin.
    fn save(
        &self,
        job: &mut Job,
        e: &Entry,
        plugin: Option<usize>,
        flags: [u8; 5],
        delta_seq: u32,
        w: &mut Writer,
    ) -> io::Result<()> {
        let st = Stat::from_libc(&e.stat);
        let is_dir = e.ftype == ft::DIREND;
        let record_name = if is_dir { &e.link } else { &e.fname };
        // The core's rule for whether data is read (not no_read, §6.3).
        let read_data = e.ftype == ft::REG && st.size > 0;
        jdebug!(
            job.shared,
            100,
            "saving {} type={} by the {}",
            e.fname,
            e.ftype,
            if plugin.is_some() {
                "option plugin"
            } else {
                "core"
            }
        );
        job.files += 1;
        let fi = job.files as u32;
        if let (Some(cmd), Some(_)) = (self.option_plugin, plugin) {
            w.write(&Record::PluginStart {
                file_index: fi,
                cmd: cmd.as_bytes().to_vec(),
            })?;
        }
        job.saved.push(catalog::FileEntry {
            name: record_name.clone(),
            ftype: e.ftype,
            stat: st,
            delta_seq,
        });
        w.write(&Record::Attributes(Attributes {
            file_index: fi,
            ftype: e.ftype,
            fname: record_name.as_bytes().to_vec(),
            link: if is_dir {
                Vec::new()
            } else {
                e.link.as_bytes().to_vec()
            },
            stat: st,
            delta_seq,
            flags,
            data_stream: if read_data { STREAM_FILE_DATA } else { 0 },
        }))?;
        let fname_c = CString::new(e.fname.as_str()).unwrap_or_default();
        match plugin {
            Some(i) => {
                let read = self.opts.read_size;
                let opened = !read_data || save_data(job, i, &fname_c, &e.fname, &flags, read, w)?;
                if opened {
                    if fo::is_set(&flags, fo::ACL) && e.ftype != ft::LNK {
                        save_acl(job, i, &fname_c, &e.fname, w)?;
                    }
                    if fo::is_set(&flags, fo::XATTR) {
                        save_xattr(job, i, &fname_c, &e.fname, w)?;
                    }
                }
                w.write(&Record::PluginEnd { files: fi })?;
            }
            None if read_data => self.native_data(job, e, w)?,
            None => {}
        }
        Ok(())
    }

    /// The core reading a file itself.
    fn native_data(&self, job: &mut Job, e: &Entry, w: &mut Writer) -> io::Result<()> {
        let mut f = match std::fs::File::open(&e.fname) {
            Ok(f) => f,
            Err(err) => {
                job.shared.jmsg(
                    msg::NOTSAVED,
                    &format!("     Cannot open \"{}\": ERR={err}.\n", e.fname),
                );
                job.shared.count_error();
                return Ok(());
            }
        };
        let mut buf = vec![0u8; self.opts.read_size];
        while !job.shared.is_canceled() {
            match f.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => {
                    job.bytes += n as u64;
                    w.data(&buf[..n])?;
                }
                Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
                Err(err) => {
                    job.shared.jmsg(
                        msg::ERROR,
                        &format!("Read error on file {}. ERR={err}\n", e.fname),
                    );
                    break;
                }
            }
        }
        Ok(())
    }
}
