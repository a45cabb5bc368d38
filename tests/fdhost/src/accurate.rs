//! The core's change detection (fd-call-sequences §5.1): the accurate list
//! of an accurate Incremental/Differential with its "seen" marks, and the
//! checkChanges algorithm shared by the checkChanges callback and the
//! native walker.

use std::collections::HashMap;
use std::sync::Mutex;

use crate::archive::Stat;
use crate::catalog::AccurateEntry;

/// Accurate option bits (fd-abi §7.10).
pub mod opt {
    pub const INODE: u64 = 1 << 0;
    pub const PERMISSIONS: u64 = 1 << 1;
    pub const NLINK: u64 = 1 << 2;
    pub const UID: u64 = 1 << 3;
    pub const GID: u64 = 1 << 4;
    pub const SIZE: u64 = 1 << 5;
    pub const ATIME: u64 = 1 << 6;
    pub const MTIME: u64 = 1 << 7;
    pub const CTIME: u64 = 1 << 8;
    pub const SIZE_DECREASE: u64 = 1 << 9;
    pub const ALWAYS: u64 = 1 << 10;
    /// The default of an Include block without `Accurate =`.
    pub const DEFAULT: u64 = MTIME | CTIME | SIZE;
}

/// Parse FileSet `Accurate =` letters (`i p n u g s a m c d A`; `5`/`1`
/// checksums are accepted but not compared: fdhost keeps no digests).
pub fn parse_options(letters: &str) -> Result<u64, String> {
    let mut bits = 0;
    for c in letters.chars() {
        bits |= match c {
            'i' => opt::INODE,
            'p' => opt::PERMISSIONS,
            'n' => opt::NLINK,
            'u' => opt::UID,
            'g' => opt::GID,
            's' => opt::SIZE,
            'a' => opt::ATIME,
            'm' => opt::MTIME,
            'c' => opt::CTIME,
            'd' => opt::SIZE_DECREASE,
            'A' => opt::ALWAYS,
            '5' => 1 << 11,
            '1' => 1 << 12,
            other => return Err(format!("unknown accurate option {other:?}")),
        };
    }
    Ok(bits)
}

/// Does `now` differ from the catalog's `then` in a field `opts` selects?
fn differs(opts: u64, then: &Stat, now: &Stat) -> bool {
    let on = |b| opts & b != 0;
    on(opt::ALWAYS)
        || (on(opt::INODE) && then.ino != now.ino)
        || (on(opt::PERMISSIONS) && then.mode != now.mode)
        || (on(opt::NLINK) && then.nlink != now.nlink)
        || (on(opt::UID) && then.uid != now.uid)
        || (on(opt::GID) && then.gid != now.gid)
        || (on(opt::SIZE) && then.size != now.size)
        || (on(opt::ATIME) && then.atime != now.atime)
        || (on(opt::MTIME) && then.mtime != now.mtime)
        || (on(opt::CTIME) && then.ctime != now.ctime)
        || (on(opt::SIZE_DECREASE) && now.size < then.size)
}

/// The entry to check, as checkChanges gets it in the save_pkt.
pub struct Candidate<'a> {
    pub fname: &'a str,
    /// For directories the accurate lookup uses `link` (trailing `/`).
    pub link: &'a str,
    pub stat: Stat,
    /// Non-zero: compare with this time and force incremental mode.
    pub save_time: i64,
    /// FO_MTIMEONLY of the entry's flags.
    pub mtime_only: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Verdict {
    pub changed: bool,
    pub delta_seq: u32,
    pub found: bool,
}

type List = HashMap<String, AccurateEntry>;

/// The job's accurate state.
pub struct Accurate {
    /// Some for accurate I/D jobs.
    list: Mutex<Option<List>>,
    pub options: u64,
}

impl Accurate {
    pub fn new(list: Option<List>, options: u64) -> Accurate {
        Accurate {
            list: Mutex::new(list),
            options,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Option<List>> {
        self.list.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The director's accurate list arrives (accurate I/D jobs).
    pub fn install(&self, list: Option<List>) {
        *self.lock() = list;
    }

    /// checkChanges (§5.1). `accurate`: the job is accurate; `level`,
    /// `since`: the job's level and since time.
    pub fn check(&self, accurate: bool, level: u8, since: i64, c: &Candidate) -> Verdict {
        let incremental = c.save_time != 0 || matches!(level, b'I' | b'D');
        let since = if c.save_time != 0 { c.save_time } else { since };
        if accurate {
            let mut guard = self.lock();
            let is_dir = c.stat.mode as u32 & libc::S_IFMT == libc::S_IFDIR;
            let key = if is_dir { c.link } else { c.fname };
            let Some(entry) = guard.as_mut().and_then(|l| l.get_mut(key)) else {
                return Verdict {
                    changed: true,
                    delta_seq: 0,
                    found: false,
                };
            };
            let changed = differs(self.options, &entry.stat, &c.stat);
            if incremental || !changed {
                entry.seen = true;
            }
            return Verdict {
                changed,
                delta_seq: entry.delta_seq,
                found: true,
            };
        }
        let unchanged =
            incremental && c.stat.mtime < since && (c.mtime_only || c.stat.ctime < since);
        Verdict {
            changed: !unchanged,
            delta_seq: 0,
            found: false,
        }
    }

    /// Mark `name` seen (or unseen); false if the job has no list.
    pub fn mark(&self, name: &str, seen: bool) -> bool {
        let mut guard = self.lock();
        let Some(list) = guard.as_mut() else {
            return false;
        };
        if let Some(e) = list.get_mut(name) {
            e.seen = seen;
        }
        true
    }

    /// Mark every entry; false without a list.
    pub fn mark_all(&self, seen: bool) -> bool {
        let mut guard = self.lock();
        let Some(list) = guard.as_mut() else {
            return false;
        };
        for e in list.values_mut() {
            e.seen = seen;
        }
        true
    }

    /// The entries nobody marked seen, sorted (the deleted-file pass).
    pub fn unseen(&self) -> Vec<String> {
        let guard = self.lock();
        let mut v: Vec<String> = guard
            .iter()
            .flat_map(|l| l.iter().filter(|(_, e)| !e.seen).map(|(n, _)| n.clone()))
            .collect();
        v.sort();
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cand(fname: &str, mtime: i64, ctime: i64, size: i64) -> Candidate<'_> {
        Candidate {
            fname,
            link: "",
            stat: Stat {
                mode: 0o100644,
                mtime,
                ctime,
                size,
                ..Default::default()
            },
            save_time: 0,
            mtime_only: false,
        }
    }

    #[test]
    fn non_accurate_uses_the_since_time() {
        let a = Accurate::new(None, opt::DEFAULT);
        assert!(!a.check(false, b'I', 100, &cand("/f", 50, 60, 1)).changed);
        assert!(a.check(false, b'I', 100, &cand("/f", 50, 100, 1)).changed);
        assert!(a.check(false, b'F', 100, &cand("/f", 50, 60, 1)).changed);
    }

    #[test]
    fn accurate_compares_with_the_list_and_marks_seen() {
        let mut list = HashMap::new();
        list.insert(
            "/f".to_string(),
            AccurateEntry {
                stat: cand("/f", 5, 5, 1).stat,
                delta_seq: 3,
                seen: false,
            },
        );
        list.insert(
            "/g".to_string(),
            AccurateEntry {
                stat: Stat::default(),
                delta_seq: 0,
                seen: false,
            },
        );
        let a = Accurate::new(Some(list), opt::DEFAULT);
        let v = a.check(true, b'I', 0, &cand("/f", 5, 5, 1));
        assert_eq!(
            v,
            Verdict {
                changed: false,
                delta_seq: 3,
                found: true
            }
        );
        assert!(a.check(true, b'I', 0, &cand("/new", 5, 5, 1)).changed);
        assert_eq!(a.unseen(), ["/g"]);
        assert!(a.mark("/g", true));
        assert!(a.unseen().is_empty());
    }
}
