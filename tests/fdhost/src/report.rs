//! Output formatting: the job report, `ls -l` style listing lines, times.

use std::ffi::CStr;

use crate::archive::Stat;
use crate::job::Totals;

/// Job kinds, for the report's wording.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Backup,
    Restore,
    Estimate,
}

/// `strftime` in local time.
pub fn strftime(secs: i64, fmt: &CStr) -> String {
    // SAFETY: localtime_r/strftime with valid buffers; tm is plain data.
    unsafe {
        let t: libc::time_t = secs;
        let mut tm: libc::tm = std::mem::zeroed();
        if libc::localtime_r(&t, &mut tm).is_null() {
            return secs.to_string();
        }
        let mut buf = [0u8; 64];
        let n = libc::strftime(buf.as_mut_ptr().cast(), buf.len(), fmt.as_ptr(), &tm);
        String::from_utf8_lossy(&buf[..n]).into_owned()
    }
}

fn mode_string(mode: u32) -> String {
    let t = match mode & libc::S_IFMT {
        libc::S_IFDIR => 'd',
        libc::S_IFLNK => 'l',
        libc::S_IFCHR => 'c',
        libc::S_IFBLK => 'b',
        libc::S_IFIFO => 'p',
        libc::S_IFSOCK => 's',
        _ => '-',
    };
    let mut s = String::with_capacity(10);
    s.push(t);
    for (shift, special, on, off) in [
        (6, 0o4000, 's', 'S'),
        (3, 0o2000, 's', 'S'),
        (0, 0o1000, 't', 'T'),
    ] {
        let bits = (mode >> shift) & 7;
        s.push(if bits & 4 != 0 { 'r' } else { '-' });
        s.push(if bits & 2 != 0 { 'w' } else { '-' });
        s.push(match (bits & 1 != 0, mode & special != 0) {
            (true, true) => on,
            (false, true) => off,
            (true, false) => 'x',
            (false, false) => '-',
        });
    }
    s
}

/// One listing line, like bareos's estimate listing:
/// `-rw-r--r--   1 1000     1000            12 2023-11-14 22:13:20  /path[ -> target]`.
pub fn ls_line(st: &Stat, name: &str, link: Option<&str>) -> String {
    let mut line = format!(
        "{} {:>3} {:<8} {:<8} {:>12} {}  {}",
        mode_string(st.mode as u32),
        st.nlink,
        st.uid,
        st.gid,
        st.size,
        strftime(st.mtime, c"%Y-%m-%d %H:%M:%S"),
        name
    );
    if let Some(l) = link {
        line.push_str(" -> ");
        line.push_str(l);
    }
    line
}

fn level_name(level: u8) -> &'static str {
    match level {
        b'F' => "Full",
        b'I' => "Incremental",
        b'D' => "Differential",
        _ => "",
    }
}

/// Did the job fail (exit status 1)?
pub fn failed(t: &Totals) -> bool {
    t.fatal || t.aborted || t.canceled
}

/// The termination text (`Backup OK`, `Restore Error`, ...).
pub fn termination(kind: Kind, t: &Totals) -> String {
    let what = match kind {
        Kind::Backup => "Backup",
        Kind::Restore => "Restore",
        Kind::Estimate => "Estimate",
    };
    if t.canceled && !t.fatal {
        format!("{what} Canceled")
    } else if failed(t) {
        format!("{what} Error")
    } else if kind == Kind::Restore && t.errors > 0 {
        format!("{what} OK -- with errors")
    } else if t.errors > 0 || t.warnings > 0 {
        format!("{what} OK -- with warnings")
    } else {
        format!("{what} OK")
    }
}

/// The Bareos-style job report (stdout).
pub fn print(kind: Kind, t: &Totals) {
    let secs = t.elapsed.as_secs_f64();
    let rate = if secs > 0.0 {
        t.bytes as f64 / 1000.0 / secs
    } else {
        0.0
    };
    let (files_label, bytes_label) = match kind {
        Kind::Restore => ("FD Files Restored:", "FD Bytes Restored:"),
        Kind::Backup => ("FD Files Written:", "FD Bytes Written:"),
        Kind::Estimate => ("FD Files Estimated:", "FD Bytes Estimated:"),
    };
    let mut out = String::new();
    let mut line = |k: &str, v: String| out.push_str(&format!("  {k:<24}{v}\n"));
    line("JobId:", t.jobid.to_string());
    line("Job:", t.job_name.clone());
    if kind != Kind::Restore {
        line("Level:", level_name(t.level).to_string());
    }
    line(files_label, t.files.to_string());
    line(bytes_label, t.bytes.to_string());
    line("Rate:", format!("{rate:.1} KB/s"));
    line("Elapsed time:", format!("{:.3} secs", secs));
    line("FD Errors:", t.errors.to_string());
    line("FD Warnings:", t.warnings.to_string());
    line("Termination:", termination(kind, t));
    print!("\n{out}");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mode_strings() {
        assert_eq!(mode_string(0o100644), "-rw-r--r--");
        assert_eq!(mode_string(0o040755), "drwxr-xr-x");
        assert_eq!(mode_string(0o120777), "lrwxrwxrwx");
        assert_eq!(mode_string(0o104755), "-rwsr-xr-x");
    }
}
