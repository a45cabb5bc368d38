//! `regexwhere=`: the restore's file relocation as a list of sed-like
//! expressions, with bareos's semantics (core/src/lib/breg.cc):
//!
//! * an expression is `<sep>from<sep>to<sep>[options]`, `<sep>` one of
//!   ``! : ; | , & % = ~ / #``; `\<sep>` stands for `<sep>` and `\\` for
//!   `\` in both parts;
//! * options: `i` (ignore case), `g` (accepted, no effect: only the first
//!   match is replaced), `<sep>` (ignored); the first other character ends
//!   the options and is consumed (normally the `,` before the next
//!   expression);
//! * `from` is a POSIX extended regex (REG_EXTENDED | REG_NEWLINE, so the
//!   libc's regcomp, as bareos); `to` may use `$0`..`$9` or `\0`..`\9`;
//! * the list is read until an expression does not parse; it is an error
//!   only if the first does not;
//! * each expression applies to the result of the one before; a name no
//!   expression matches is kept.

use std::ffi::{CString, c_int};

/// Register count bareos passes to regexec (BREG_NREGS).
const NREGS: usize = 11;

const SEPARATORS: &[u8] = b"!:;|,&%=~/#";

/// One compiled expression.
struct Expr {
    regex: libc::regex_t,
    subst: Vec<u8>,
}

/// A parsed `regexwhere` list.
pub struct RegexWhere {
    exprs: Vec<Expr>,
}

// SAFETY: a compiled regex_t is only read by regexec (thread-safe per
// POSIX) and freed once in Drop.
unsafe impl Send for RegexWhere {}
unsafe impl Sync for RegexWhere {}

impl Drop for RegexWhere {
    fn drop(&mut self) {
        for e in &mut self.exprs {
            // SAFETY: compiled by regcomp in `parse_one`, freed once.
            unsafe { libc::regfree(&mut e.regex) };
        }
    }
}

/// Parse one expression at the start of `s`: the expression and the rest
/// of `s` after it (and after the character that ended its options).
fn parse_one(s: &[u8]) -> Option<(Expr, &[u8])> {
    let sep = *s.first()?;
    if !SEPARATORS.contains(&sep) {
        return None;
    }
    let mut parts: [Vec<u8>; 2] = [Vec::new(), Vec::new()];
    let mut part = 0;
    let mut i = 1;
    let mut closed = false;
    while i < s.len() {
        let c = s[i];
        if c == b'\\' && i + 1 < s.len() && (s[i + 1] == sep || s[i + 1] == b'\\') {
            parts[part].push(s[i + 1]);
            i += 2;
        } else if c == sep {
            i += 1;
            if part == 1 {
                closed = true;
                break;
            }
            part = 1;
        } else {
            parts[part].push(c);
            i += 1;
        }
    }
    if !closed {
        return None;
    }
    let mut flags = libc::REG_EXTENDED | libc::REG_NEWLINE;
    while i < s.len() {
        let c = s[i];
        i += 1;
        match c {
            b'i' => flags |= libc::REG_ICASE,
            b'g' => {}
            c if c == sep => {}
            _ => break,
        }
    }
    let [from, subst] = parts;
    let pattern = CString::new(from).ok()?;
    // SAFETY: regex_t is plain data, initialised by regcomp.
    let mut regex: libc::regex_t = unsafe { std::mem::zeroed() };
    // SAFETY: valid out-pointer and NUL-terminated pattern.
    if unsafe { libc::regcomp(&mut regex, pattern.as_ptr(), flags as c_int) } != 0 {
        // SAFETY: regfree is defined on a regex_t regcomp failed on
        // (glibc frees what it allocated); zeroed otherwise.
        unsafe { libc::regfree(&mut regex) };
        return None;
    }
    Some((Expr { regex, subst }, &s[i..]))
}

impl RegexWhere {
    /// Parse a `regexwhere` list; None if its first expression is bad
    /// (bareos-fd: `Bad where regexp. where=<s>`, fatal).
    pub fn parse(s: &str) -> Option<RegexWhere> {
        let mut exprs = Vec::new();
        let mut rest = s.as_bytes();
        while let Some((e, r)) = parse_one(rest) {
            exprs.push(e);
            rest = r;
        }
        (!exprs.is_empty()).then_some(RegexWhere { exprs })
    }

    /// Apply every expression in turn to `name`.
    pub fn apply(&self, name: &[u8]) -> Vec<u8> {
        let mut cur = name.to_vec();
        for e in &self.exprs {
            cur = e.replace(&cur);
        }
        cur
    }
}

impl Expr {
    fn replace(&self, name: &[u8]) -> Vec<u8> {
        // A name with a NUL cannot come from a C string: keep it.
        let Ok(c) = CString::new(name) else {
            return name.to_vec();
        };
        let mut m = [libc::regmatch_t {
            rm_so: -1,
            rm_eo: -1,
        }; NREGS];
        // SAFETY: compiled regex, NUL-terminated subject, NREGS slots.
        let rc = unsafe { libc::regexec(&self.regex, c.as_ptr(), NREGS, m.as_mut_ptr(), 0) };
        if rc != 0 || m[0].rm_so < 0 {
            return name.to_vec();
        }
        let span = |r: &libc::regmatch_t| -> Option<&[u8]> {
            (r.rm_so >= 0 && r.rm_eo >= 0).then(|| &name[r.rm_so as usize..r.rm_eo as usize])
        };
        let mut out = name[..m[0].rm_so as usize].to_vec();
        let mut s = self.subst.iter().copied().peekable();
        while let Some(c) = s.next() {
            match s.peek() {
                Some(d) if (c == b'$' || c == b'\\') && d.is_ascii_digit() => {
                    let no = (*d - b'0') as usize;
                    s.next();
                    if let Some(t) = span(&m[no]) {
                        out.extend_from_slice(t);
                    }
                }
                _ => out.push(c),
            }
        }
        out.extend_from_slice(&name[m[0].rm_eo as usize..]);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn apply(list: &str, name: &str) -> String {
        let r = RegexWhere::parse(list).expect("parses");
        String::from_utf8(r.apply(name.as_bytes())).unwrap()
    }

    #[test]
    fn bareos_examples() {
        // From the Bareos manual (RegexWhere, strip/add prefix/suffix).
        assert_eq!(apply("!/prod!/test!", "/prod/u01/x"), "/test/u01/x");
        assert_eq!(apply("!a.pdf!b.pdf!", "/doc/a.pdf"), "/doc/b.pdf");
        assert_eq!(apply("!([0-9]+)!<$1>!", "/f123/x"), "/f<123>/x");
        assert_eq!(apply("!([0-9]+)!<\\1>!", "/f123/x"), "/f<123>/x");
        assert_eq!(apply("!^!/tmp/r!", "/etc/passwd"), "/tmp/r/etc/passwd");
        assert_eq!(apply("!$!.old!", "/etc/passwd"), "/etc/passwd.old");
        assert_eq!(
            apply("!^/!/tmp/!,!$!.old!", "/etc/passwd"),
            "/tmp/etc/passwd.old"
        );
        // Only the first match, even with `g`; `i` ignores case.
        assert_eq!(apply("!o!0!g", "/foo"), "/f0o");
        assert_eq!(apply("!FOO!bar!i", "/foo"), "/bar");
        // No match: unchanged; escaped separator; other separator.
        assert_eq!(apply("!zzz!y!", "/foo"), "/foo");
        assert_eq!(apply("!a\\!b!c!", "/a!b"), "/c");
        assert_eq!(apply("#/#_#", "/a/b"), "_a/b");
        // Empty replacement.
        assert_eq!(apply("!/tmp!!", "/tmp/x"), "/x");
    }

    #[test]
    fn bad_lists() {
        assert!(RegexWhere::parse("").is_none());
        assert!(RegexWhere::parse("/tmp").is_none(), "no closing separator");
        assert!(RegexWhere::parse("!a!b").is_none());
        assert!(RegexWhere::parse("x!a!b!").is_none(), "bad separator");
        assert!(RegexWhere::parse("!(!b!").is_none(), "bad regex");
        // A bad expression after a good one ends the list silently.
        assert_eq!(apply("!a!b!,junk", "/a"), "/b");
    }
}
