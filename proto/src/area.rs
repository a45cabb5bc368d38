//! The I/O area of a session: one block of shared memory (a memfd mapped by
//! both processes) that carries IO_READ and IO_WRITE data, so the bytes a
//! plugin produces or consumes in Python are copied once into the area and
//! once out of it instead of travelling through protobuf and the socket.
//!
//! Ownership follows the call protocol: the shim writes the area before it
//! sends an IO_WRITE call, the runner writes it before it answers an IO_READ;
//! whoever sent the last message that refers to the area leaves it alone
//! until the answer arrives. The shim creates the memfd and seals its size,
//! so a runner cannot shrink it under the daemon (which would turn the
//! daemon's next copy into SIGBUS).

use std::fs::File;
use std::io;
use std::os::fd::{AsRawFd, OwnedFd};

use memmap2::MmapRaw;
use nix::fcntl::{FcntlArg, SealFlag, fcntl};
use nix::sys::memfd::{MemFdCreateFlag, memfd_create};

/// Size of the area: far above the buffers the daemon hands a plugin (its
/// network buffer, 64 KiB by default); bigger data travels in the message.
pub const AREA_BYTES: usize = 4 << 20;

pub struct Area {
    map: MmapRaw,
}

impl Area {
    /// Creates a sealed area; the descriptor is for the runner.
    pub fn create() -> io::Result<(Area, OwnedFd)> {
        let fd = memfd_create(
            c"sidecar-io",
            MemFdCreateFlag::MFD_CLOEXEC | MemFdCreateFlag::MFD_ALLOW_SEALING,
        )?;
        let file = File::from(fd);
        file.set_len(AREA_BYTES as u64)?;
        fcntl(
            file.as_raw_fd(),
            FcntlArg::F_ADD_SEALS(
                SealFlag::F_SEAL_SHRINK | SealFlag::F_SEAL_GROW | SealFlag::F_SEAL_SEAL,
            ),
        )?;
        let map = MmapRaw::map_raw(&file)?;
        Ok((Area { map }, file.into()))
    }

    /// Maps the area the shim created (the runner's side).
    pub fn open(fd: OwnedFd) -> io::Result<Area> {
        let file = File::from(fd);
        let len = file.metadata()?.len();
        if len != AREA_BYTES as u64 {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!("the I/O area has {len} bytes, not {AREA_BYTES}"),
            ));
        }
        Ok(Area {
            map: MmapRaw::map_raw(&file)?,
        })
    }

    pub fn len(&self) -> usize {
        self.map.len()
    }

    pub fn is_empty(&self) -> bool {
        self.map.len() == 0
    }

    /// Copies `data` to the start of the area; false if it does not fit.
    pub fn put(&self, data: &[u8]) -> bool {
        if data.len() > self.map.len() {
            return false;
        }
        // SAFETY: the mapping is valid for `len()` bytes for the life of
        // `self` (its size is sealed) and `data` fits; no reference into the
        // mapping is formed, so the peer writing at the same time (breaking
        // the protocol) can only garble bytes, which have no invalid values.
        unsafe { std::ptr::copy_nonoverlapping(data.as_ptr(), self.map.as_mut_ptr(), data.len()) };
        true
    }

    /// Copies the first `out.len()` bytes of the area into `out`; false if
    /// the area is smaller.
    pub fn get_into(&self, out: &mut [u8]) -> bool {
        if out.len() > self.map.len() {
            return false;
        }
        // SAFETY: as in `put`, reading `out.len()` <= `len()` bytes.
        unsafe { std::ptr::copy_nonoverlapping(self.map.as_ptr(), out.as_mut_ptr(), out.len()) };
        true
    }

    /// The first `len` bytes of the area, or None if it is smaller.
    pub fn get(&self, len: usize) -> Option<Vec<u8>> {
        if len > self.map.len() {
            return None;
        }
        let mut out = Vec::with_capacity(len);
        // SAFETY: as in `put`; reading `len` <= `len()` bytes into the
        // vector's spare capacity (at least `len`), which they initialise.
        unsafe {
            std::ptr::copy_nonoverlapping(self.map.as_ptr(), out.as_mut_ptr(), len);
            out.set_len(len);
        }
        Some(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_sides_see_the_same_bytes() {
        let (shim, fd) = Area::create().expect("create");
        let runner = Area::open(fd).expect("open");
        assert!(shim.put(b"from the shim"));
        assert_eq!(runner.get(13).as_deref(), Some(&b"from the shim"[..]));
        assert!(runner.put(b"and back"));
        assert_eq!(shim.get(8).as_deref(), Some(&b"and back"[..]));
    }

    #[test]
    fn out_of_bounds_is_refused_not_touched() {
        let (area, _fd) = Area::create().expect("create");
        assert!(!area.put(&vec![1u8; AREA_BYTES + 1]));
        assert!(area.get(AREA_BYTES + 1).is_none());
        assert_eq!(area.get(AREA_BYTES).map(|v| v.len()), Some(AREA_BYTES));
    }

    #[test]
    fn the_runner_cannot_resize_it() {
        let (_area, fd) = Area::create().expect("create");
        let file = File::from(fd);
        assert!(file.set_len(4096).is_err(), "shrinking must be sealed");
        assert!(file.set_len(AREA_BYTES as u64 * 2).is_err(), "growing too");
    }

    #[test]
    fn a_wrong_sized_descriptor_is_refused() {
        let file = tempfile::tempfile().expect("tempfile");
        file.set_len(4096).expect("len");
        let err = Area::open(file.into()).err().expect("refused");
        assert!(err.to_string().contains("4096 bytes"), "{err}");
    }
}
