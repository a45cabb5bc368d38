//! The option string of a director or storage daemon plugin (the `Dir
//! Plugin Options` / `SD Plugin Options` entry the NewPluginOptions event
//! carries, e.g. `python3:instance=0:module_name=m:foo=bar`), parsed the way
//! python3-dir and python3-sd parse it (dir-sd-api §4.4). Unlike the FD's
//! (`definition`), keys match whole names only and always overwrite, and
//! there are no overrides to merge.

use crate::definition::unescaped_colon;

/// What the options named so far; kept across events (and updated item by
/// item, so a string that fails halfway has changed what came before the
/// error).
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Options {
    pub instance: i64,
    pub module_path: Option<String>,
    pub module_name: Option<String>,
}

impl Options {
    /// Parses `input`, updating instance, module path and name, and returns
    /// `OPTS` (the other items as `key=value`, each followed by `:`), or the
    /// error for the job log.
    pub fn parse(&mut self, input: &str) -> Result<String, String> {
        let Some(colon) = input.find(':') else {
            return Err(format!("Illegal plugin definition '{input}' (missing ':')"));
        };
        let mut rest = &input[colon + 1..];
        let mut opts = String::new();
        while !rest.is_empty() {
            // The first '=' anywhere in the rest: an item without one takes
            // the following items into its key.
            let Some(eq) = rest.find('=') else {
                return Err(format!("Illegal argument '{rest}' without value"));
            };
            if eq == 0 {
                return Err("Options without key are not allowed".to_string());
            }
            let key = &rest[..eq];
            let after = &rest[eq + 1..];
            let end = unescaped_colon(after).unwrap_or(after.len());
            let value = &after[..end];
            rest = after.get(end + 1..).unwrap_or("");
            if key.eq_ignore_ascii_case("instance") {
                self.instance = str_to_int64(value);
            } else if key.eq_ignore_ascii_case("module_path") {
                self.module_path = Some(value.replace('\\', ""));
            } else if key.eq_ignore_ascii_case("module_name") {
                self.module_name = Some(value.replace('\\', ""));
            } else {
                opts.push_str(key);
                opts.push('=');
                opts.push_str(value);
                opts.push(':');
            }
        }
        Ok(opts)
    }
}

/// Bareos's lenient integer parse: leading blanks, an optional sign, the
/// digits that follow; 0 without any.
fn str_to_int64(s: &str) -> i64 {
    let s = s.trim_start_matches([' ', '\t', '\n', '\x0b', '\x0c', '\r']);
    let (negative, digits) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    let value = digits
        .bytes()
        .take_while(u8::is_ascii_digit)
        .fold(0i64, |n, d| {
            n.wrapping_mul(10).wrapping_add(i64::from(d - b'0'))
        });
    if negative {
        value.wrapping_neg()
    } else {
        value
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(o: &mut Options, s: &str) -> String {
        o.parse(s).unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    #[test]
    fn the_spec_example() {
        let mut o = Options::default();
        let s = "python3:instance=0:module_path=/usr/lib/bareos/plugins:module_name=bareos-dir-class-plugin:foo=bar";
        assert_eq!(ok(&mut o, s), "foo=bar:");
        assert_eq!(
            o,
            Options {
                instance: 0,
                module_path: Some("/usr/lib/bareos/plugins".into()),
                module_name: Some("bareos-dir-class-plugin".into()),
            }
        );
    }

    #[test]
    fn every_error_message() {
        let mut o = Options::default();
        assert_eq!(
            o.parse("python3"),
            Err("Illegal plugin definition 'python3' (missing ':')".into())
        );
        assert_eq!(
            o.parse(""),
            Err("Illegal plugin definition '' (missing ':')".into())
        );
        assert_eq!(
            o.parse("python3:a=1:novalue"),
            Err("Illegal argument 'novalue' without value".into())
        );
        assert_eq!(
            o.parse("python3:novalue"),
            Err("Illegal argument 'novalue' without value".into())
        );
        assert_eq!(
            o.parse("python3:=x"),
            Err("Options without key are not allowed".into())
        );
        assert_eq!(
            o.parse("python3:a=1:=x:b=2"),
            Err("Options without key are not allowed".into())
        );
    }

    #[test]
    fn opts_keep_the_other_items_in_order_with_a_trailing_colon() {
        let mut o = Options::default();
        assert_eq!(ok(&mut o, "python3:"), "");
        assert_eq!(ok(&mut o, "python3:module_name=m"), "");
        assert_eq!(ok(&mut o, "python3:a=1:b=:c=x=y"), "a=1:b=:c=x=y:");
        assert_eq!(ok(&mut o, "python3:a=1:"), "a=1:");
        // Escaped colons stay in values, backslashes included.
        assert_eq!(ok(&mut o, "python3:pw=a\\:b:x=1"), "pw=a\\:b:x=1:");
        // An item without '=' becomes part of the next key.
        assert_eq!(ok(&mut o, "python3:a:b=1"), "a:b=1:");
        assert_eq!(ok(&mut o, "python3:a=1::b=2"), "a=1::b=2:");
        // Only the whole names are ours; prefixes are options like others.
        assert_eq!(
            ok(&mut o, "python3:module=x:module_n=y:inst=3"),
            "module=x:module_n=y:inst=3:"
        );
        assert_eq!(o.module_name.as_deref(), Some("m"));
        assert_eq!(o.instance, 0);
    }

    #[test]
    fn instance_module_path_and_name_always_overwrite() {
        let mut o = Options::default();
        ok(
            &mut o,
            "python3:MODULE_NAME=first:module_name=second:Module_Path=/a\\:b:instance=3",
        );
        assert_eq!(o.module_name.as_deref(), Some("second"));
        assert_eq!(o.module_path.as_deref(), Some("/a:b"));
        assert_eq!(o.instance, 3);
        ok(&mut o, "python3:module_name=x\\\\y:instance=  -12abc");
        assert_eq!(o.module_name.as_deref(), Some("xy"));
        assert_eq!(o.module_path.as_deref(), Some("/a:b"), "kept when absent");
        assert_eq!(o.instance, -12);
        ok(&mut o, "python3:instance=junk:module_path=");
        assert_eq!(o.instance, 0);
        assert_eq!(o.module_path.as_deref(), Some(""));
        // Items before an error have been taken.
        assert!(o.parse("python3:module_name=late:broken").is_err());
        assert_eq!(o.module_name.as_deref(), Some("late"));
    }

    proptest::proptest! {
        /// Whatever the daemon sends: no panic, and a well-formed option
        /// string (empty, or items each closed by `:`).
        #[test]
        fn any_options_parse_without_panicking(input in "[a-z_:=\\\\A-Z0-9]{0,40}") {
            let mut o = Options::default();
            if let Ok(opts) = o.parse(&format!("python3:{input}")) {
                proptest::prop_assert!(opts.is_empty() || (opts.ends_with(':') && opts.contains('=')));
            }
        }
    }
}
