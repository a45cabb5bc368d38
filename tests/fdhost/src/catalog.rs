//! The director's catalog, as far as an FD job needs it: one small JSON
//! file per successful backup job (`job-<jobid>.json` in the catalog
//! directory, by default `catalog/` beside the archive) listing what the
//! job saved (name → stat, delta_seq, type), what it found deleted, and
//! its restore objects. From it fdhost derives what the director would
//! send: the since time of an Incremental/Differential, the accurate file
//! list of the job chain (Full + Differential + Incrementals) and the
//! previous job's restore objects (fd-call-sequences §3.1, §5).

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::archive::{Object, Stat};

/// One saved entry. `name` is the recorded name (directories with a
/// trailing `/`), the key of accurate lookups.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FileEntry {
    pub name: String,
    pub ftype: i32,
    pub stat: Stat,
    pub delta_seq: u32,
}

/// A restore object as the catalog keeps it (FT_RESTORE_FIRST,
/// FT_PLUGIN_CONFIG).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ObjectEntry {
    pub plugin_name: String,
    pub object_name: String,
    pub data: Vec<u8>,
    pub object_type: i32,
    pub index: i32,
    pub full_len: i32,
    pub compression: i32,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct JobRecord {
    pub jobid: u32,
    /// `F`, `I` or `D`.
    pub level: char,
    pub job_name: String,
    /// Start time (seconds): the next job's since time.
    pub start: i64,
    pub files: Vec<FileEntry>,
    /// Names the deleted-file pass reported.
    pub deleted: Vec<String>,
    pub objects: Vec<ObjectEntry>,
}

impl JobRecord {
    pub fn object(&self, o: &ObjectEntry) -> Object {
        Object {
            file_index: 0,
            plugin_name: o.plugin_name.as_bytes().to_vec(),
            object_name: o.object_name.as_bytes().to_vec(),
            data: o.data.clone(),
            object_type: o.object_type,
            index: o.index,
            full_len: o.full_len,
            compression: o.compression,
            jobid: self.jobid,
        }
    }
}

/// An accurate-list entry (what the director sends per file).
#[derive(Debug, Clone)]
pub struct AccurateEntry {
    pub stat: Stat,
    pub delta_seq: u32,
    pub seen: bool,
}

pub struct Catalog {
    dir: PathBuf,
    /// Successful jobs, by jobid.
    pub jobs: Vec<JobRecord>,
}

/// What the director derives for a new backup job from the catalog.
#[derive(Debug, Default)]
pub struct Plan {
    /// The level actually run (an I/D without a Full becomes F).
    pub level: u8,
    pub since: i64,
    pub prev_job: Option<String>,
    /// The accurate list (accurate I/D jobs only).
    pub accurate: Option<HashMap<String, AccurateEntry>>,
    /// The previous job's restore objects (I/D only).
    pub objects: Vec<Object>,
    /// A message for the job log (the upgrade to Full).
    pub note: Option<String>,
}

impl Catalog {
    /// The default catalog directory for an archive: `catalog/` beside it.
    pub fn default_dir(archive: &Path) -> PathBuf {
        archive
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."))
            .join("catalog")
    }

    /// Read every job record of `dir` (a missing directory is empty).
    pub fn open(dir: &Path) -> std::io::Result<Catalog> {
        let mut jobs = Vec::new();
        match std::fs::read_dir(dir) {
            Ok(entries) => {
                for e in entries {
                    let p = e?.path();
                    let is_job = p
                        .file_name()
                        .and_then(|n| n.to_str())
                        .is_some_and(|n| n.starts_with("job-") && n.ends_with(".json"));
                    if !is_job {
                        continue;
                    }
                    let text = std::fs::read(&p)?;
                    let rec: JobRecord = serde_json::from_slice(&text).map_err(|e| {
                        std::io::Error::new(
                            std::io::ErrorKind::InvalidData,
                            format!("{}: {e}", p.display()),
                        )
                    })?;
                    jobs.push(rec);
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(e),
        }
        jobs.sort_by_key(|j| j.jobid);
        Ok(Catalog {
            dir: dir.to_path_buf(),
            jobs,
        })
    }

    /// The JobId the next job gets when none was given.
    pub fn next_jobid(&self) -> u32 {
        self.jobs.last().map_or(1, |j| j.jobid + 1)
    }

    /// Store a finished job (replacing a record with the same JobId).
    pub fn store(&self, rec: &JobRecord) -> std::io::Result<()> {
        std::fs::create_dir_all(&self.dir)?;
        let path = self.dir.join(format!("job-{:08}.json", rec.jobid));
        let tmp = path.with_extension("tmp");
        let text = serde_json::to_vec_pretty(rec).map_err(std::io::Error::other)?;
        std::fs::write(&tmp, text)?;
        std::fs::rename(tmp, path)
    }

    /// The jobs whose files make up the state an I/D job at `level`
    /// compares against, oldest first: the last Full, then (for I) the
    /// last Differential after it and every Incremental after that.
    fn chain(&self, level: u8) -> Vec<&JobRecord> {
        let Some(full) = self.jobs.iter().rposition(|j| j.level == 'F') else {
            return Vec::new();
        };
        let mut chain = vec![&self.jobs[full]];
        if level == b'D' {
            return chain;
        }
        let after = &self.jobs[full + 1..];
        let rest = match after.iter().rposition(|j| j.level == 'D') {
            Some(d) => {
                chain.push(&after[d]);
                &after[d + 1..]
            }
            None => after,
        };
        chain.extend(rest.iter().filter(|j| j.level == 'I'));
        chain
    }

    /// What the director sends for a new backup at `level` (F/I/D).
    /// `since` overrides the derived since time (`--since`).
    pub fn plan(&self, level: u8, since: Option<i64>, accurate: bool) -> Plan {
        if level == b'F' {
            return Plan {
                level,
                ..Default::default()
            };
        }
        let chain = self.chain(level);
        let Some(prev) = chain.last() else {
            if let Some(since) = since {
                // An explicit since time needs no catalog.
                return Plan {
                    level,
                    since,
                    accurate: accurate.then(HashMap::new),
                    ..Default::default()
                };
            }
            return Plan {
                level: b'F',
                note: Some(
                    "No prior Full backup Job record found.\n\
                     No prior or suitable Full backup found in catalog. Doing FULL backup.\n"
                        .into(),
                ),
                ..Default::default()
            };
        };
        let list = accurate.then(|| {
            let mut list = HashMap::new();
            for job in &chain {
                for f in &job.files {
                    list.insert(
                        f.name.clone(),
                        AccurateEntry {
                            stat: f.stat,
                            delta_seq: f.delta_seq,
                            seen: false,
                        },
                    );
                }
                for d in &job.deleted {
                    list.remove(d);
                }
            }
            list
        });
        Plan {
            level,
            since: since.unwrap_or(prev.start),
            prev_job: Some(prev.job_name.clone()),
            accurate: list,
            objects: prev.objects.iter().map(|o| prev.object(o)).collect(),
            note: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn job(jobid: u32, level: char, start: i64, files: &[&str], deleted: &[&str]) -> JobRecord {
        JobRecord {
            jobid,
            level,
            job_name: format!("j{jobid}"),
            start,
            files: files
                .iter()
                .map(|n| FileEntry {
                    name: n.to_string(),
                    ftype: 3,
                    stat: Stat::default(),
                    delta_seq: jobid,
                })
                .collect(),
            deleted: deleted.iter().map(|s| s.to_string()).collect(),
            objects: Vec::new(),
        }
    }

    #[test]
    fn chains_since_times_and_accurate_lists() {
        let dir = tempfile::tempdir().unwrap();
        let c = Catalog::open(dir.path()).unwrap();
        assert_eq!(c.plan(b'I', None, true).level, b'F', "no Full: upgraded");
        for j in [
            job(1, 'F', 100, &["/a", "/b", "/c"], &[]),
            job(2, 'I', 200, &["/a"], &["/b"]),
            job(3, 'D', 300, &["/a", "/d"], &[]),
            job(4, 'I', 400, &["/e"], &["/c"]),
        ] {
            c.store(&j).unwrap();
        }
        let c = Catalog::open(dir.path()).unwrap();
        assert_eq!(c.next_jobid(), 5);
        let p = c.plan(b'I', None, true);
        assert_eq!((p.level, p.since), (b'I', 400));
        let list = p.accurate.unwrap();
        let mut names: Vec<_> = list.keys().cloned().collect();
        names.sort();
        // Full {a,b,c} + Diff {a,d} + Incr {e, -c}; the first Incr is
        // superseded by the Diff.
        assert_eq!(names, ["/a", "/b", "/d", "/e"]);
        assert_eq!(list["/a"].delta_seq, 3);
        let p = c.plan(b'D', None, false);
        assert_eq!((p.since, p.accurate.is_none()), (100, true));
        assert_eq!(c.plan(b'I', Some(7), false).since, 7);
    }
}
