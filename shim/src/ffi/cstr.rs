//! C strings across the edge: read the core's, make ones for the core.

use std::ffi::{CStr, CString, c_char};

/// Bytes of a C string, `None` for NULL.
///
/// # Safety
/// `p` is NULL or points to a NUL-terminated string valid for this call.
pub unsafe fn bytes_of(p: *const c_char) -> Option<Vec<u8>> {
    // SAFETY: guaranteed by the caller.
    (!p.is_null()).then(|| unsafe { CStr::from_ptr(p) }.to_bytes().to_vec())
}

/// A C string for the core; an interior NUL (which C cannot represent) ends
/// the string there, as C would read it.
pub fn c_string(bytes: &[u8]) -> CString {
    let end = bytes.iter().position(|&b| b == 0).unwrap_or(bytes.len());
    CString::new(&bytes[..end]).expect("no interior NUL before `end`")
}

/// A copy of `bytes` in memory from the C allocator, which the core frees
/// with free() (ABI §8.3/8.4); with a trailing NUL like python3-fd.
pub fn malloc_copy(bytes: &[u8]) -> *mut c_char {
    // SAFETY: malloc of len+1 bytes; on success we write exactly that many.
    unsafe {
        let p = libc::malloc(bytes.len() + 1).cast::<u8>();
        if !p.is_null() {
            std::ptr::copy_nonoverlapping(bytes.as_ptr(), p, bytes.len());
            *p.add(bytes.len()) = 0;
        }
        p.cast()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn c_strings_stop_at_interior_nul() {
        assert_eq!(c_string(b"abc").as_bytes(), b"abc");
        assert_eq!(c_string(b"ab\0cd").as_bytes(), b"ab");
    }

    #[test]
    fn malloc_copy_is_nul_terminated() {
        let p = malloc_copy(b"acl");
        // SAFETY: p is a fresh malloc'ed C string.
        unsafe {
            assert_eq!(CStr::from_ptr(p).to_bytes(), b"acl");
            libc::free(p.cast());
        }
    }
}
