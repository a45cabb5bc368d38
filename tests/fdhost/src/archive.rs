//! The fdhost archive: everything bareos-fd would send to the storage
//! daemon, in one local file, so a later restore job can replay it.
//!
//! Format (all integers little-endian; `bytes` = u32 length + raw bytes,
//! no NUL):
//!
//! ```text
//! file    = "FDHOSTA1" record*
//! record  = kind:u8 body
//! kind 1  Job          jobid:u32 level:u8 job_name:bytes time:i64       (first record)
//! kind 2  PluginStart  file_index:u32 cmd:bytes          (plugin-name start record)
//! kind 3  Attributes   file_index:u32 type:i32 fname:bytes link:bytes stat
//!                      delta_seq:u32 flags:[u8;5] data_stream:i32
//! kind 4  Data         bytes                               (one chunk, <= read size)
//! kind 10 DataAt       offset:u64 bytes                    (FO_SPARSE / FO_OFFSETS chunk)
//! kind 5  Acl          bytes
//! kind 6  Xattr        count:u32 (name:bytes value:bytes)*
//! kind 7  PluginEnd    files:u32                           (plugin-name end record)
//! kind 8  Object       file_index:u32 plugin_name:bytes object_name:bytes object:bytes
//!                      type:i32 index:i32 full_len:i32 compression:i32 jobid:u32
//! kind 9  End          files:u64 bytes:u64                 (last record; absent = truncated)
//! stat    = 16 x i64: dev ino mode nlink uid gid rdev size blksize blocks
//!                      atime atime_nsec mtime mtime_nsec ctime ctime_nsec
//! ```
//!
//! A backed-up file is `PluginStart Attributes (Data|DataAt)* [Acl] [Xattr]
//! PluginEnd`; restore objects are `PluginStart Object PluginEnd`. Data is
//! written and read one chunk at a time, so file size does not matter.

use std::fs::File;
use std::io::{self, BufReader, BufWriter, Read, Write};
use std::path::Path;

const MAGIC: &[u8; 8] = b"FDHOSTA1";
/// Upper bound for one length-prefixed field: guards against garbage.
const MAX_FIELD: u32 = 256 << 20;

/// The recorded `struct stat` (the fields Bareos encodes, plus nanoseconds).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Stat {
    pub dev: i64,
    pub ino: i64,
    pub mode: i64,
    pub nlink: i64,
    pub uid: i64,
    pub gid: i64,
    pub rdev: i64,
    pub size: i64,
    pub blksize: i64,
    pub blocks: i64,
    pub atime: i64,
    pub atime_nsec: i64,
    pub mtime: i64,
    pub mtime_nsec: i64,
    pub ctime: i64,
    pub ctime_nsec: i64,
}

impl Stat {
    pub fn from_libc(s: &libc::stat) -> Self {
        Stat {
            dev: s.st_dev as i64,
            ino: s.st_ino as i64,
            mode: s.st_mode as i64,
            nlink: s.st_nlink as i64,
            uid: s.st_uid as i64,
            gid: s.st_gid as i64,
            rdev: s.st_rdev as i64,
            size: s.st_size,
            blksize: s.st_blksize,
            blocks: s.st_blocks,
            atime: s.st_atime,
            atime_nsec: s.st_atime_nsec,
            mtime: s.st_mtime,
            mtime_nsec: s.st_mtime_nsec,
            ctime: s.st_ctime,
            ctime_nsec: s.st_ctime_nsec,
        }
    }

    pub fn to_libc(self) -> libc::stat {
        // SAFETY: libc::stat is plain old data; all-zero is valid.
        let mut s: libc::stat = unsafe { std::mem::zeroed() };
        s.st_dev = self.dev as _;
        s.st_ino = self.ino as _;
        s.st_mode = self.mode as _;
        s.st_nlink = self.nlink as _;
        s.st_uid = self.uid as _;
        s.st_gid = self.gid as _;
        s.st_rdev = self.rdev as _;
        s.st_size = self.size;
        s.st_blksize = self.blksize;
        s.st_blocks = self.blocks;
        s.st_atime = self.atime;
        s.st_atime_nsec = self.atime_nsec;
        s.st_mtime = self.mtime;
        s.st_mtime_nsec = self.mtime_nsec;
        s.st_ctime = self.ctime;
        s.st_ctime_nsec = self.ctime_nsec;
        s
    }

    fn fields(&self) -> [i64; 16] {
        [
            self.dev,
            self.ino,
            self.mode,
            self.nlink,
            self.uid,
            self.gid,
            self.rdev,
            self.size,
            self.blksize,
            self.blocks,
            self.atime,
            self.atime_nsec,
            self.mtime,
            self.mtime_nsec,
            self.ctime,
            self.ctime_nsec,
        ]
    }

    fn from_fields(f: [i64; 16]) -> Self {
        Stat {
            dev: f[0],
            ino: f[1],
            mode: f[2],
            nlink: f[3],
            uid: f[4],
            gid: f[5],
            rdev: f[6],
            size: f[7],
            blksize: f[8],
            blocks: f[9],
            atime: f[10],
            atime_nsec: f[11],
            mtime: f[12],
            mtime_nsec: f[13],
            ctime: f[14],
            ctime_nsec: f[15],
        }
    }
}

/// The attribute record of one file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Attributes {
    pub file_index: u32,
    pub ftype: i32,
    pub fname: Vec<u8>,
    pub link: Vec<u8>,
    pub stat: Stat,
    pub delta_seq: u32,
    pub flags: [u8; 5],
    /// STREAM_FILE_DATA (2) if data records follow, else 0.
    pub data_stream: i32,
}

/// A restore object, with everything the catalog would keep.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Object {
    pub file_index: u32,
    pub plugin_name: Vec<u8>,
    pub object_name: Vec<u8>,
    pub data: Vec<u8>,
    pub object_type: i32,
    pub index: i32,
    pub full_len: i32,
    pub compression: i32,
    pub jobid: u32,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Record {
    Job {
        jobid: u32,
        level: u8,
        job_name: Vec<u8>,
        time: i64,
    },
    PluginStart {
        file_index: u32,
        cmd: Vec<u8>,
    },
    Attributes(Attributes),
    Data(Vec<u8>),
    DataAt(u64, Vec<u8>),
    /// A data record that was skipped (its length).
    DataSkipped(u64),
    Acl(Vec<u8>),
    Xattr(Vec<(Vec<u8>, Vec<u8>)>),
    PluginEnd {
        files: u32,
    },
    Object(Object),
    End {
        files: u64,
        bytes: u64,
    },
}

pub struct Writer {
    w: BufWriter<File>,
}

impl Writer {
    pub fn create(path: &Path) -> io::Result<Self> {
        let mut w = BufWriter::with_capacity(1 << 20, File::create(path)?);
        w.write_all(MAGIC)?;
        Ok(Writer { w })
    }

    fn u8(&mut self, v: u8) -> io::Result<()> {
        self.w.write_all(&[v])
    }
    fn u32(&mut self, v: u32) -> io::Result<()> {
        self.w.write_all(&v.to_le_bytes())
    }
    fn i32(&mut self, v: i32) -> io::Result<()> {
        self.w.write_all(&v.to_le_bytes())
    }
    fn i64(&mut self, v: i64) -> io::Result<()> {
        self.w.write_all(&v.to_le_bytes())
    }
    fn bytes(&mut self, b: &[u8]) -> io::Result<()> {
        let len = u32::try_from(b.len())
            .ok()
            .filter(|l| *l <= MAX_FIELD)
            .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "field too large"))?;
        self.u32(len)?;
        self.w.write_all(b)
    }

    /// One data chunk (kind 4) without copying it into a [`Record`].
    pub fn data(&mut self, chunk: &[u8]) -> io::Result<()> {
        self.u8(4)?;
        self.bytes(chunk)
    }

    /// One data chunk at a file offset (kind 10).
    pub fn data_at(&mut self, offset: u64, chunk: &[u8]) -> io::Result<()> {
        self.u8(10)?;
        self.w.write_all(&offset.to_le_bytes())?;
        self.bytes(chunk)
    }

    pub fn write(&mut self, r: &Record) -> io::Result<()> {
        match r {
            Record::Job {
                jobid,
                level,
                job_name,
                time,
            } => {
                self.u8(1)?;
                self.u32(*jobid)?;
                self.u8(*level)?;
                self.bytes(job_name)?;
                self.i64(*time)
            }
            Record::PluginStart { file_index, cmd } => {
                self.u8(2)?;
                self.u32(*file_index)?;
                self.bytes(cmd)
            }
            Record::Attributes(a) => {
                self.u8(3)?;
                self.u32(a.file_index)?;
                self.i32(a.ftype)?;
                self.bytes(&a.fname)?;
                self.bytes(&a.link)?;
                for f in a.stat.fields() {
                    self.i64(f)?;
                }
                self.u32(a.delta_seq)?;
                self.w.write_all(&a.flags)?;
                self.i32(a.data_stream)
            }
            Record::Data(d) => self.data(d),
            Record::DataAt(o, d) => self.data_at(*o, d),
            Record::DataSkipped(_) => Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "a skipped data record cannot be written",
            )),
            Record::Acl(d) => {
                self.u8(5)?;
                self.bytes(d)
            }
            Record::Xattr(pairs) => {
                self.u8(6)?;
                self.u32(pairs.len() as u32)?;
                for (n, v) in pairs {
                    self.bytes(n)?;
                    self.bytes(v)?;
                }
                Ok(())
            }
            Record::PluginEnd { files } => {
                self.u8(7)?;
                self.u32(*files)
            }
            Record::Object(o) => {
                self.u8(8)?;
                self.u32(o.file_index)?;
                self.bytes(&o.plugin_name)?;
                self.bytes(&o.object_name)?;
                self.bytes(&o.data)?;
                self.i32(o.object_type)?;
                self.i32(o.index)?;
                self.i32(o.full_len)?;
                self.i32(o.compression)?;
                self.u32(o.jobid)
            }
            Record::End { files, bytes } => {
                self.u8(9)?;
                self.w.write_all(&files.to_le_bytes())?;
                self.w.write_all(&bytes.to_le_bytes())
            }
        }
    }

    /// Flush and sync; the archive is complete only after this.
    pub fn finish(self) -> io::Result<()> {
        let f = self.w.into_inner().map_err(|e| e.into_error())?;
        f.sync_all()
    }
}

pub struct Reader {
    r: BufReader<File>,
}

impl Reader {
    pub fn open(path: &Path) -> io::Result<Self> {
        let mut r = BufReader::with_capacity(1 << 20, File::open(path)?);
        let mut m = [0u8; 8];
        r.read_exact(&mut m)?;
        if &m != MAGIC {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "not an fdhost archive (bad magic)",
            ));
        }
        Ok(Reader { r })
    }

    fn arr<const N: usize>(&mut self) -> io::Result<[u8; N]> {
        let mut b = [0u8; N];
        self.r.read_exact(&mut b)?;
        Ok(b)
    }
    fn u8(&mut self) -> io::Result<u8> {
        Ok(self.arr::<1>()?[0])
    }
    fn u32(&mut self) -> io::Result<u32> {
        Ok(u32::from_le_bytes(self.arr()?))
    }
    fn i32(&mut self) -> io::Result<i32> {
        Ok(i32::from_le_bytes(self.arr()?))
    }
    fn i64(&mut self) -> io::Result<i64> {
        Ok(i64::from_le_bytes(self.arr()?))
    }
    fn u64(&mut self) -> io::Result<u64> {
        Ok(u64::from_le_bytes(self.arr()?))
    }
    fn len(&mut self) -> io::Result<u32> {
        let len = self.u32()?;
        if len > MAX_FIELD {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!("archive field of {len} bytes: corrupt archive"),
            ));
        }
        Ok(len)
    }
    fn bytes(&mut self) -> io::Result<Vec<u8>> {
        let len = self.len()? as usize;
        let mut v = vec![0u8; len];
        self.r.read_exact(&mut v)?;
        Ok(v)
    }
    fn data(&mut self, skip: bool) -> io::Result<Result<Vec<u8>, u64>> {
        if skip {
            let len = self.len()?;
            self.r.seek_relative(len as i64)?;
            Ok(Err(len as u64))
        } else {
            Ok(Ok(self.bytes()?))
        }
    }

    /// The next record; None at the end of the file. With `skip_data`,
    /// data chunks are seeked over and returned as [`Record::DataSkipped`].
    pub fn next(&mut self, skip_data: bool) -> io::Result<Option<Record>> {
        let mut kind = [0u8; 1];
        if self.r.read(&mut kind)? == 0 {
            return Ok(None);
        }
        let rec = match kind[0] {
            1 => Record::Job {
                jobid: self.u32()?,
                level: self.u8()?,
                job_name: self.bytes()?,
                time: self.i64()?,
            },
            2 => Record::PluginStart {
                file_index: self.u32()?,
                cmd: self.bytes()?,
            },
            3 => {
                let file_index = self.u32()?;
                let ftype = self.i32()?;
                let fname = self.bytes()?;
                let link = self.bytes()?;
                let mut f = [0i64; 16];
                for x in &mut f {
                    *x = self.i64()?;
                }
                Record::Attributes(Attributes {
                    file_index,
                    ftype,
                    fname,
                    link,
                    stat: Stat::from_fields(f),
                    delta_seq: self.u32()?,
                    flags: self.arr()?,
                    data_stream: self.i32()?,
                })
            }
            4 => match self.data(skip_data)? {
                Ok(d) => Record::Data(d),
                Err(n) => Record::DataSkipped(n),
            },
            10 => {
                let off = self.u64()?;
                match self.data(skip_data)? {
                    Ok(d) => Record::DataAt(off, d),
                    Err(n) => Record::DataSkipped(n),
                }
            }
            5 => Record::Acl(self.bytes()?),
            6 => {
                let n = self.u32()?;
                let mut pairs = Vec::new();
                for _ in 0..n {
                    pairs.push((self.bytes()?, self.bytes()?));
                }
                Record::Xattr(pairs)
            }
            7 => Record::PluginEnd { files: self.u32()? },
            8 => Record::Object(Object {
                file_index: self.u32()?,
                plugin_name: self.bytes()?,
                object_name: self.bytes()?,
                data: self.bytes()?,
                object_type: self.i32()?,
                index: self.i32()?,
                full_len: self.i32()?,
                compression: self.i32()?,
                jobid: self.u32()?,
            }),
            9 => Record::End {
                files: self.u64()?,
                bytes: self.u64()?,
            },
            k => {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!("unknown archive record kind {k}: corrupt archive"),
                ));
            }
        };
        Ok(Some(rec))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_round_trip_and_data_can_be_skipped() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a");
        let attrs = Attributes {
            file_index: 1,
            ftype: 3,
            fname: b"/x y".to_vec(),
            link: vec![],
            stat: Stat {
                mode: 0o100644,
                size: 5,
                mtime: 7,
                ..Default::default()
            },
            delta_seq: 2,
            flags: [1, 2, 3, 4, 5],
            data_stream: 2,
        };
        let recs = vec![
            Record::Job {
                jobid: 3,
                level: b'F',
                job_name: b"j".to_vec(),
                time: 9,
            },
            Record::PluginStart {
                file_index: 1,
                cmd: b"p:a=b".to_vec(),
            },
            Record::Attributes(attrs),
            Record::Data(b"hello".to_vec()),
            Record::DataAt(100, b"xy".to_vec()),
            Record::Acl(b"acl".to_vec()),
            Record::Xattr(vec![(b"n".to_vec(), b"v".to_vec())]),
            Record::PluginEnd { files: 1 },
            Record::Object(Object {
                plugin_name: b"p:".to_vec(),
                object_name: b"o".to_vec(),
                data: vec![0, 1, 2],
                object_type: 25,
                ..Default::default()
            }),
            Record::End { files: 1, bytes: 5 },
        ];
        let mut w = Writer::create(&path).unwrap();
        for r in &recs {
            w.write(r).unwrap();
        }
        w.finish().unwrap();

        let mut r = Reader::open(&path).unwrap();
        for want in &recs {
            assert_eq!(r.next(false).unwrap().as_ref(), Some(want));
        }
        assert_eq!(r.next(false).unwrap(), None);

        let mut r = Reader::open(&path).unwrap();
        let skipped: Vec<_> = std::iter::from_fn(|| r.next(true).unwrap())
            .filter(|r| matches!(r, Record::DataSkipped(_)))
            .collect();
        assert_eq!(
            skipped,
            vec![Record::DataSkipped(5), Record::DataSkipped(2)]
        );
    }

    #[test]
    fn rejects_foreign_files() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a");
        std::fs::write(&path, b"not an archive").unwrap();
        assert!(Reader::open(&path).is_err());
    }
}
