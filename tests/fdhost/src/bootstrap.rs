//! What the director sends the FD for a restore of one or more jobs (the
//! archives, oldest first, e.g. Full + Differential + Incrementals): the
//! restore objects of all of them, and per archive the file indexes the
//! bootstrap selects. As bareos's restore tree: the newest version of each
//! name wins, and a name an accurate job found deleted (the catalog's
//! `deleted` list of that job) is gone unless a later job saved it again.
//! Restore objects are never part of the bootstrap (File records only):
//! their plugin-name records are not sent (fd-call-sequences §9.3).

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

use sidecar_shim::abi::ft;

use crate::archive::{Object, Reader, Record};
use crate::catalog::Catalog;

/// One archive of the restore and what of it is restored.
pub struct Part {
    pub archive: PathBuf,
    /// File indexes of the files restored from this archive.
    pub selected: HashSet<u32>,
}

pub struct Bootstrap {
    pub parts: Vec<Part>,
    /// In the director's order: FT_RESTORE_FIRST objects of all jobs by
    /// object index, then FT_PLUGIN_CONFIG objects by object index.
    pub objects: Vec<Object>,
    /// JobIds of archives the catalog does not know (their deletions are
    /// unknown): for a warning.
    pub unknown_jobs: Vec<u32>,
}

/// What one archive holds (data skipped).
struct Scan {
    jobid: Option<u32>,
    /// (file index, name, delta_seq) of every attribute record.
    files: Vec<(u32, Vec<u8>, u32)>,
    objects: Vec<Object>,
}

fn scan(archive: &Path) -> Result<Scan, String> {
    let mut r = Reader::open(archive)
        .map_err(|e| format!("Cannot open archive {}: {e}", archive.display()))?;
    let mut s = Scan {
        jobid: None,
        files: Vec::new(),
        objects: Vec::new(),
    };
    // A read error ends the scan; the restore stream reports it (a fatal
    // job error, as a storage daemon read error is).
    while let Ok(Some(rec)) = r.next(true) {
        match rec {
            Record::Job { jobid, .. } => s.jobid = s.jobid.or(Some(jobid)),
            Record::Attributes(a) => s.files.push((a.file_index, a.fname, a.delta_seq)),
            Record::Object(o) => s.objects.push(o),
            _ => {}
        }
    }
    Ok(s)
}

impl Bootstrap {
    /// Build the restore of `archives` (oldest first). `catalog` supplies
    /// the deleted names of each archive's job; it is only consulted when
    /// there is more than one archive (a single job's restore selects all
    /// of its files).
    pub fn build(archives: &[PathBuf], catalog: Option<&Catalog>) -> Result<Bootstrap, String> {
        let mut scans = Vec::with_capacity(archives.len());
        for a in archives {
            scans.push(scan(a)?);
        }
        let chain = archives.len() > 1;
        // name -> (archive, file index) of the versions restored: the
        // newest, plus the earlier parts of a delta chain (FO_DELTA,
        // delta_seq > 0) and repeats within one job.
        let mut newest: HashMap<Vec<u8>, Vec<(usize, u32)>> = HashMap::new();
        let mut unknown_jobs = Vec::new();
        for (k, s) in scans.iter().enumerate() {
            if chain {
                let job = s
                    .jobid
                    .and_then(|id| catalog?.jobs.iter().find(|j| j.jobid == id));
                match job {
                    Some(j) => {
                        for d in &j.deleted {
                            newest.remove(d.as_bytes());
                        }
                    }
                    None => unknown_jobs.extend(s.jobid),
                }
            }
            for (fi, name, delta_seq) in &s.files {
                let versions = newest.entry(name.clone()).or_default();
                if *delta_seq == 0 && versions.last().is_some_and(|(j, _)| *j != k) {
                    versions.clear();
                }
                versions.push((k, *fi));
            }
        }
        let mut parts: Vec<Part> = archives
            .iter()
            .map(|a| Part {
                archive: a.clone(),
                selected: HashSet::new(),
            })
            .collect();
        for (k, fi) in newest.into_values().flatten() {
            parts[k].selected.insert(fi);
        }
        let all: Vec<Object> = scans.into_iter().flat_map(|s| s.objects).collect();
        let mut objects = Vec::new();
        for typ in [ft::RESTORE_FIRST, ft::PLUGIN_CONFIG] {
            let mut of_type: Vec<Object> = all
                .iter()
                .filter(|o| o.object_type == typ)
                .cloned()
                .collect();
            of_type.sort_by_key(|o| o.index); // stable: chain order within an index
            objects.extend(of_type);
        }
        Ok(Bootstrap {
            parts,
            objects,
            unknown_jobs,
        })
    }
}
