//! Where this shared object was loaded from: the daemon's plugin directory,
//! where the runner and `sidecar.toml` are looked for by default.

use std::ffi::CStr;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

/// The directory the shim was loaded from.
pub fn shim_dir() -> Option<PathBuf> {
    // SAFETY: Dl_info is plain old data; all-zero is a valid value.
    let mut info: libc::Dl_info = unsafe { std::mem::zeroed() };
    let anchor = shim_dir as *const libc::c_void;
    // SAFETY: dladdr only inspects the address; `info` is a valid out-pointer.
    if unsafe { libc::dladdr(anchor, &mut info) } == 0 || info.dli_fname.is_null() {
        return None;
    }
    // SAFETY: dladdr returned a NUL-terminated path owned by the loader.
    let file = unsafe { CStr::from_ptr(info.dli_fname) };
    let path = PathBuf::from(std::ffi::OsStr::from_bytes(file.to_bytes()));
    let path = path.canonicalize().unwrap_or(path);
    path.parent().map(Path::to_path_buf)
}
