//! The job's FileSet as the core holds it: Include blocks (`File =` lines,
//! `Plugin =` lines, Options blocks with flags, wildcards, regexes and an
//! option plugin) and the Exclude list. Plugins edit it through AddExclude,
//! AddInclude, AddOptions, AddRegex, AddWild, NewOptions, NewInclude and
//! NewPreInclude (fd-abi §4); the native walker and AcceptFile read it.
//!
//! Matching follows the findlib's rules in outline: the Options blocks of
//! the Include are tried in order; the first wildcard/regex that matches
//! decides (excluded if that block has the exclude flag `e`, else
//! included); an Options block with `e` and no patterns excludes
//! everything; then the Exclude list (shell patterns, or a path and
//! everything below it) removes entries. An entry no pattern matched is
//! included.

use std::ffi::CString;

use sidecar_shim::abi::{FOPTS_BYTES, fo};

/// FileSet option bits fdhost interprets that the shim's ABI module does
/// not name (fd-abi §7.11).
pub mod bit {
    pub const NO_RECURSION: usize = 3;
    pub const MTIMEONLY: usize = 11;
    pub const EXCLUDE: usize = 13;
    pub const IGNORECASE: usize = 16;
}

/// What a wildcard or regex is matched against (the `type` argument of
/// AddWild/AddRegex: `' '` or 0 the full path, `'D'` directories only,
/// `'F'` non-directories only, `'B'` the base name).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    Path,
    Dir,
    File,
    Base,
}

impl Target {
    pub fn from_type(t: i32) -> Target {
        match u8::try_from(t).unwrap_or(b' ') {
            b'D' => Target::Dir,
            b'F' => Target::File,
            b'B' => Target::Base,
            _ => Target::Path,
        }
    }

    fn applies(self, is_dir: bool) -> bool {
        match self {
            Target::Dir => is_dir,
            Target::File => !is_dir,
            Target::Path | Target::Base => true,
        }
    }
}

/// A compiled POSIX extended regex (what the findlib uses).
pub struct Regex {
    re: Box<libc::regex_t>,
}

// SAFETY: a compiled regex_t is only read by regexec, which glibc documents
// as thread-safe; it is freed once, in drop.
unsafe impl Send for Regex {}
// SAFETY: as above.
unsafe impl Sync for Regex {}

impl Regex {
    pub fn new(pattern: &str, icase: bool) -> Option<Regex> {
        let p = CString::new(pattern).ok()?;
        // SAFETY: regex_t is plain data that regcomp initialises.
        let mut re: Box<libc::regex_t> = Box::new(unsafe { std::mem::zeroed() });
        let flags = libc::REG_EXTENDED | libc::REG_NOSUB | if icase { libc::REG_ICASE } else { 0 };
        // SAFETY: valid pattern string and regex_t storage.
        (unsafe { libc::regcomp(&mut *re, p.as_ptr(), flags) } == 0).then_some(Regex { re })
    }

    pub fn is_match(&self, s: &str) -> bool {
        let Ok(s) = CString::new(s) else { return false };
        // SAFETY: compiled regex and a C string; no match array (REG_NOSUB).
        unsafe { libc::regexec(&*self.re, s.as_ptr(), 0, std::ptr::null_mut(), 0) == 0 }
    }
}

impl Drop for Regex {
    fn drop(&mut self) {
        // SAFETY: compiled by regcomp in `new`, freed exactly once.
        unsafe { libc::regfree(&mut *self.re) }
    }
}

impl std::fmt::Debug for Regex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Regex")
    }
}

#[derive(Debug)]
pub enum Pattern {
    Wild(Target, String),
    Regex(Target, Regex),
}

/// One Options block.
#[derive(Debug, Default)]
pub struct Options {
    /// FO_* bits this block sets.
    pub flags: [u8; FOPTS_BYTES],
    pub patterns: Vec<Pattern>,
    /// `Plugin =` inside the block: an option plugin.
    pub plugin: Option<String>,
}

impl Options {
    fn is_set(&self, n: usize) -> bool {
        fo::is_set(&self.flags, n)
    }

    fn set(&mut self, n: usize) {
        self.flags[n >> 3] |= 1 << (n & 7);
    }

    /// Apply an option letter string (FileSet "O" syntax). The letters
    /// fdhost acts on: `e` exclude, `A` ACL, `X` xattr, `h` no recursion,
    /// `m` mtime only, `i` ignore case; others are accepted and ignored.
    pub fn apply_letters(&mut self, letters: &str) {
        for c in letters.chars() {
            match c {
                'e' => self.set(bit::EXCLUDE),
                'A' => self.set(fo::ACL),
                'X' => self.set(fo::XATTR),
                'h' => self.set(bit::NO_RECURSION),
                'm' => self.set(bit::MTIMEONLY),
                'i' => self.set(bit::IGNORECASE),
                _ => {}
            }
        }
    }
}

/// One Include block.
#[derive(Debug, Default)]
pub struct Include {
    pub files: Vec<String>,
    pub plugins: Vec<String>,
    pub options: Vec<Options>,
}

impl Include {
    /// The FO_* bits in effect for the block's entries (the union of its
    /// Options blocks, without the exclude bit) on top of `base`.
    pub fn flags(&self, base: [u8; FOPTS_BYTES]) -> [u8; FOPTS_BYTES] {
        let mut f = base;
        for o in &self.options {
            for (a, b) in f.iter_mut().zip(o.flags) {
                *a |= b;
            }
        }
        f[bit::EXCLUDE >> 3] &= !(1 << (bit::EXCLUDE & 7));
        f
    }

    /// The block's option plugin, if one of its Options blocks names one
    /// (the first; SEQ §6.1: at most one is effective).
    pub fn option_plugin(&self) -> Option<&str> {
        self.options.iter().find_map(|o| o.plugin.as_deref())
    }

    /// Some(decision) if a pattern (or an exclude-all block) decides.
    fn matches(&self, fname: &str, is_dir: bool) -> Option<bool> {
        let base = fname
            .trim_end_matches('/')
            .rsplit('/')
            .next()
            .unwrap_or(fname);
        for o in &self.options {
            let icase = o.is_set(bit::IGNORECASE);
            for p in &o.patterns {
                let (target, hit) = match p {
                    Pattern::Wild(t, w) => {
                        let subject = if *t == Target::Base { base } else { fname };
                        (*t, fnmatch(w, subject, icase))
                    }
                    Pattern::Regex(t, re) => {
                        let subject = if *t == Target::Base { base } else { fname };
                        (*t, re.is_match(subject))
                    }
                };
                if target.applies(is_dir) && hit {
                    return Some(!o.is_set(bit::EXCLUDE));
                }
            }
            if o.is_set(bit::EXCLUDE) && o.patterns.is_empty() {
                return Some(false);
            }
        }
        None
    }
}

/// A FileSet edit from a plugin.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Edit {
    AddExclude,
    AddInclude,
    AddOptions,
    AddRegex,
    AddWild,
    NewOptions,
    NewInclude,
    NewPreInclude,
}

#[derive(Debug, Default)]
pub struct FileSet {
    pub includes: Vec<Include>,
    /// Exclude { File = } entries.
    pub excludes: Vec<String>,
    /// The Include block being parsed or walked: where edits go.
    pub current: usize,
}

impl FileSet {
    /// The FileSet of the command line: one Include with `files`,
    /// `plugins` and, if given, an Options block with the option plugin.
    pub fn new(files: &[String], plugins: &[String], option_plugin: Option<&str>) -> FileSet {
        let mut inc = Include {
            files: files.to_vec(),
            plugins: plugins.to_vec(),
            options: Vec::new(),
        };
        if let Some(p) = option_plugin {
            inc.options.push(Options {
                plugin: Some(p.to_string()),
                ..Default::default()
            });
        }
        FileSet {
            includes: vec![inc],
            excludes: Vec::new(),
            current: 0,
        }
    }

    fn current_include(&mut self) -> &mut Include {
        if self.includes.is_empty() {
            self.includes.push(Include::default());
        }
        let i = self.current.min(self.includes.len() - 1);
        &mut self.includes[i]
    }

    fn current_options(&mut self) -> &mut Options {
        let inc = self.current_include();
        if inc.options.is_empty() {
            inc.options.push(Options::default());
        }
        inc.options.last_mut().expect("just ensured")
    }

    /// Apply one edit; Err names why it is refused (the callback then
    /// returns bRC_Error).
    pub fn edit(&mut self, what: Edit, item: Option<&str>, typ: i32) -> Result<(), String> {
        let need = || item.map(str::to_string).ok_or("no argument".to_string());
        match what {
            Edit::AddExclude => self.excludes.push(need()?),
            Edit::AddInclude => {
                let f = need()?;
                self.current_include().files.push(f);
            }
            Edit::AddOptions => {
                let letters = need()?;
                self.current_options().apply_letters(&letters);
            }
            Edit::AddWild => {
                let w = need()?;
                self.current_options()
                    .patterns
                    .push(Pattern::Wild(Target::from_type(typ), w));
            }
            Edit::AddRegex => {
                let r = need()?;
                let icase = self.current_options().is_set(bit::IGNORECASE);
                let re = Regex::new(&r, icase).ok_or(format!("bad regex {r:?}"))?;
                self.current_options()
                    .patterns
                    .push(Pattern::Regex(Target::from_type(typ), re));
            }
            Edit::NewOptions => self.current_include().options.push(Options::default()),
            Edit::NewInclude => {
                self.includes.push(Include::default());
                self.current = self.includes.len() - 1;
            }
            Edit::NewPreInclude => {
                self.includes.insert(
                    0,
                    Include {
                        options: vec![Options::default()],
                        ..Default::default()
                    },
                );
                self.current = 0;
            }
        }
        Ok(())
    }

    /// Would the entry `fname` of Include `inc` be backed up (AcceptFile)?
    pub fn accepts(&self, inc: usize, fname: &str, is_dir: bool) -> bool {
        if self
            .includes
            .get(inc)
            .and_then(|i| i.matches(fname, is_dir))
            == Some(false)
        {
            return false;
        }
        !self.excludes.iter().any(|x| {
            let x_trim = x.trim_end_matches('/');
            fname.trim_end_matches('/') == x_trim
                || fname
                    .strip_prefix(x_trim)
                    .is_some_and(|rest| rest.starts_with('/'))
                || fnmatch(x, fname, false)
        })
    }
}

fn fnmatch(pattern: &str, name: &str, icase: bool) -> bool {
    let (Ok(p), Ok(n)) = (CString::new(pattern), CString::new(name)) else {
        return false;
    };
    let flags = if icase { libc::FNM_CASEFOLD } else { 0 };
    // SAFETY: two valid NUL-terminated strings.
    unsafe { libc::fnmatch(p.as_ptr(), n.as_ptr(), flags) == 0 }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcards_excludes_and_options() {
        let mut fs = FileSet::new(&["/d".into()], &[], None);
        assert!(fs.accepts(0, "/d/a.txt", false));
        fs.edit(Edit::AddExclude, Some("/d/skip"), 0).unwrap();
        assert!(!fs.accepts(0, "/d/skip", true));
        assert!(!fs.accepts(0, "/d/skip/x", false));
        fs.edit(Edit::NewOptions, None, 0).unwrap();
        fs.edit(Edit::AddWild, Some("*.tmp"), b'F' as i32).unwrap();
        fs.edit(Edit::AddOptions, Some("e"), 0).unwrap();
        assert!(!fs.accepts(0, "/d/a.tmp", false));
        assert!(
            fs.accepts(0, "/d/a.tmp", true),
            "F patterns skip directories"
        );
        fs.edit(Edit::AddRegex, Some("\\.log$"), 0).unwrap();
        assert!(!fs.accepts(0, "/d/x.log", false));
        assert!(fs.edit(Edit::AddExclude, None, 0).is_err());
        fs.edit(Edit::NewInclude, None, 0).unwrap();
        fs.edit(Edit::AddInclude, Some("/e"), 0).unwrap();
        assert_eq!(fs.includes[1].files, vec!["/e".to_string()]);
        fs.edit(Edit::NewPreInclude, None, 0).unwrap();
        assert_eq!(fs.includes.len(), 3);
        assert!(fs.includes[0].files.is_empty());
    }
}
