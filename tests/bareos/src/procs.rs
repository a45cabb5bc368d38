//! Looking for processes in /proc: the installed sidecar-runner's
//! processes and their parents.

use std::path::{Path, PathBuf};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Proc {
    pub pid: i32,
    pub ppid: i32,
}

/// Every live process whose executable is `exe` (also after the file was
/// replaced: the kernel then appends " (deleted)").
pub fn by_exe(exe: &Path) -> Vec<Proc> {
    let want = std::fs::canonicalize(exe).unwrap_or_else(|_| exe.to_path_buf());
    let mut out = Vec::new();
    for e in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        let Some(pid) = e.file_name().to_str().and_then(|s| s.parse::<i32>().ok()) else {
            continue;
        };
        let Ok(link) = std::fs::read_link(format!("/proc/{pid}/exe")) else {
            continue;
        };
        let link = link.to_string_lossy();
        let link = PathBuf::from(link.strip_suffix(" (deleted)").unwrap_or(&link));
        if link != want {
            continue;
        }
        if let Some(ppid) = stat_ppid(pid)
            && crate::daemons::alive(pid)
        {
            out.push(Proc { pid, ppid });
        }
    }
    out
}

/// The parent pid from /proc/PID/stat.
pub fn stat_ppid(pid: i32) -> Option<i32> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    parse_ppid(&stat)
}

/// Field 4 of /proc/PID/stat (after the parenthesised command, which may
/// contain spaces and parentheses).
pub fn parse_ppid(stat: &str) -> Option<i32> {
    let (_, rest) = stat.rsplit_once(')')?;
    rest.split_whitespace().nth(1)?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ppid_after_odd_command_names() {
        assert_eq!(
            parse_ppid("123 (sidecar-runner) S 77 123 123 0 -1"),
            Some(77)
        );
        assert_eq!(parse_ppid("5 (a (b) c) R 1 5 5"), Some(1));
        assert_eq!(parse_ppid("garbage"), None);
    }
}
