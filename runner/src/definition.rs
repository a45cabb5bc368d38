//! The plugin definition string (`python3:module_path=...:module_name=...:k=v`)
//! parsed the way python3-fd parses it (python-api §3), so plugins see the
//! same option string `OPTS` they see in process.
//!
//! Pure functions; the per-job state (module name/path, the override from
//! `bEventNewPluginOptions`) lives in [`Definition`].

/// What a parse tells the dispatcher.
#[derive(Debug, PartialEq, Eq)]
pub enum Parsed {
    /// The option string for `parse_plugin_definition`/`load_bareos_plugin`.
    Options(String),
    /// `*all*`: python3-fd answers bRC_Skip without calling Python.
    Skip,
    /// Fatal: the message for the job log.
    Illegal(String),
}

/// The module python3-fd loads for this job, as the definition strings named it.
#[derive(Debug, Default)]
pub struct Definition {
    pub module_path: Option<String>,
    pub module_name: Option<String>,
    /// The last `bEventNewPluginOptions` string (stored even if it fails to parse).
    pub override_opts: Option<String>,
}

impl Definition {
    /// Parses `input`, updating module path and name, and returns `OPTS`.
    /// `loaded`: the module is imported already (then a stored override is
    /// not merged in again, python-api §3.4).
    pub fn parse(&mut self, input: &str, loaded: bool) -> Parsed {
        if input == "*all*" {
            return Parsed::Skip;
        }
        let keep_existing = self.override_opts.is_some();
        let text = match (&self.override_opts, loaded) {
            (Some(over), false) => {
                let Some(colon) = input.find(':') else {
                    return Parsed::Illegal(format!(
                        "python3-fd: Illegal plugin definition {input}"
                    ));
                };
                let tail = if over.ends_with(':') {
                    &input[colon + 1..]
                } else {
                    &input[colon..]
                };
                format!("{over}{tail}")
            }
            _ => input.to_string(),
        };
        let Some(colon) = text.find(':') else {
            return Parsed::Illegal(format!("python3-fd: Illegal plugin definition {text}"));
        };
        let mut rest = &text[colon + 1..];
        let mut opts = String::new();
        while !rest.is_empty() {
            let Some(eq) = rest.find('=') else {
                return Parsed::Illegal(format!(
                    "python3-fd: Illegal argument {rest} without value"
                ));
            };
            let key = &rest[..eq];
            let after = &rest[eq + 1..];
            let end = unescaped_colon(after).unwrap_or(after.len());
            let value = &after[..end];
            rest = after.get(end + 1..).unwrap_or("");
            let slot = if is_prefix_of(key, "module_path") {
                Some(&mut self.module_path)
            } else if is_prefix_of(key, "module_name") {
                Some(&mut self.module_name)
            } else {
                None
            };
            match slot {
                Some(slot) => {
                    if !keep_existing || slot.is_none() {
                        // Decision D2: backslashes are removed cleanly (the
                        // in-process stripper duplicates the tail).
                        *slot = Some(value.replace('\\', ""));
                    }
                }
                None => {
                    opts.push_str(key);
                    opts.push('=');
                    opts.push_str(value);
                    opts.push(':');
                }
            }
        }
        Parsed::Options(opts)
    }
}

/// Position of the first `:` not directly preceded by a backslash.
pub(crate) fn unescaped_colon(s: &str) -> Option<usize> {
    let b = s.as_bytes();
    (0..b.len()).find(|&i| b[i] == b':' && (i == 0 || b[i - 1] != b'\\'))
}

/// python3-fd compares keys case-insensitively as a prefix of the known
/// names, so `module`, `m` and even the empty key select `module_path`.
fn is_prefix_of(key: &str, name: &str) -> bool {
    key.len() <= name.len() && name.as_bytes()[..key.len()].eq_ignore_ascii_case(key.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts(def: &mut Definition, s: &str) -> String {
        match def.parse(s, false) {
            Parsed::Options(o) => o,
            other => panic!("{s}: {other:?}"),
        }
    }

    #[test]
    fn the_spec_examples() {
        let mut d = Definition::default();
        assert_eq!(
            opts(&mut d, "python3:module_name=m:filename=/etc/x"),
            "filename=/etc/x:"
        );
        assert_eq!(d.module_name.as_deref(), Some("m"));
        assert_eq!(
            opts(&mut Definition::default(), "python3:module_name=m"),
            ""
        );
        assert_eq!(
            opts(
                &mut Definition::default(),
                "python3:module_name=m:pw=a\\:b:x=1"
            ),
            "pw=a\\:b:x=1:"
        );
        assert_eq!(opts(&mut Definition::default(), "python3:"), "");
    }

    #[test]
    fn keys_are_prefixes_and_segments_without_equals_swallow_the_next() {
        let mut d = Definition::default();
        assert_eq!(opts(&mut d, "python3:MODULE=/p:module_n=n:a:b=1"), "a:b=1:");
        assert_eq!(d.module_path.as_deref(), Some("/p"));
        assert_eq!(d.module_name.as_deref(), Some("n"));
        let mut d = Definition::default();
        opts(&mut d, "python3:module_path=/a\\:b:module_name=x\\y");
        assert_eq!(d.module_path.as_deref(), Some("/a:b"));
        assert_eq!(d.module_name.as_deref(), Some("xy"));
    }

    #[test]
    fn illegal_definitions_name_the_problem() {
        let mut d = Definition::default();
        assert_eq!(
            d.parse("python3", false),
            Parsed::Illegal("python3-fd: Illegal plugin definition python3".into())
        );
        assert_eq!(
            d.parse("python3:module_name=m:novalue", false),
            Parsed::Illegal("python3-fd: Illegal argument novalue without value".into())
        );
        assert_eq!(d.parse("*all*", false), Parsed::Skip);
    }

    #[test]
    fn an_override_comes_first_and_its_module_wins() {
        let mut d = Definition {
            override_opts: Some("python3:module_name=over:a=1".into()),
            ..Default::default()
        };
        let o = opts(&mut d, "python3:module_name=base:b=2");
        assert_eq!(o, "a=1:b=2:");
        assert_eq!(d.module_name.as_deref(), Some("over"));
        // Once loaded, later strings are parsed alone.
        assert_eq!(d.parse("python3:c=3", true), Parsed::Options("c=3:".into()));
    }

    proptest::proptest! {
        /// Whatever the daemon sends: no panic, and a well-formed option
        /// string (empty, or `key=value` pairs each closed by `:`).
        #[test]
        fn any_definition_parses_without_panicking(input in "[a-z_:=\\\\A-Z0-9]{0,40}") {
            let mut d = Definition::default();
            if let Parsed::Options(o) = d.parse(&format!("python3:{input}"), false) {
                proptest::prop_assert!(o.is_empty() || (o.ends_with(':') && o.contains('=')));
            }
        }

        /// Ordinary options come through byte for byte, in order.
        #[test]
        fn plain_options_survive(pairs in proptest::collection::vec(("[a-z]{3,8}", "[a-zA-Z0-9/. -]{0,12}"), 0..6)) {
            let pairs: Vec<(String, String)> = pairs
                .into_iter()
                .filter(|(k, _)| !is_prefix_of(k, "module_path") && !is_prefix_of(k, "module_name"))
                .collect();
            let body: String = pairs.iter().map(|(k, v)| format!(":{k}={v}")).collect();
            let mut d = Definition::default();
            let expected: String = pairs.iter().map(|(k, v)| format!("{k}={v}:")).collect();
            proptest::prop_assert_eq!(
                d.parse(&format!("python3:module_name=m{body}"), false),
                Parsed::Options(expected)
            );
        }
    }
}
