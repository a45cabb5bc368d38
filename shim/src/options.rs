//! The shim's own options in a plugin string: `sidecar.<key>=<value>`.
//!
//! They are removed from every string before the runner (and so the Python
//! plugin) sees it; an unknown `sidecar.` key fails the job. The string
//! that starts a runner decides its limits (`limits`), and debug output
//! shows it with secrets redacted.

use sidecar_proto::{self as pb, call, event};

use crate::daemon::Daemon;
use crate::error::Error;
use crate::limits::{
    Overrides, parse_count, parse_cpus, parse_duration, parse_ionice, parse_nice, parse_size,
    parse_switch,
};

pub use crate::limits::{OPTION_PREFIX as PREFIX, STRING_KEYS};

/// The `sidecar.*` keys that debug a plugin; each needs the client's own
/// configuration to allow debugging (`[debug] allow = true`), because the
/// plugin string comes from the director.
pub const DEBUG_KEYS: [&str; 5] = ["attach", "debugpy", "debug_wait", "record", "record_data"];

/// A plugin string with the shim's options taken out.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Command {
    /// The string the runner gets: every `sidecar.*` option removed, the
    /// rest byte for byte.
    pub stripped: Vec<u8>,
    /// `module_name` as python3-fd will read it (backslashes removed).
    pub module_name: Option<String>,
    /// `module_path` likewise.
    pub module_path: Option<String>,
    /// The `sidecar.*` options, key without the prefix (lower case), value
    /// without backslashes; in order.
    pub keys: Vec<(String, String)>,
}

impl Command {
    /// The last value of `sidecar.<key>`, if the string has one.
    pub fn value(&self, key: &str) -> Option<&str> {
        self.keys
            .iter()
            .rev()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// The debug keys the string uses, in [`DEBUG_KEYS`] order.
    pub fn debug_keys(&self) -> Vec<&'static str> {
        DEBUG_KEYS
            .into_iter()
            .filter(|k| self.value(k).is_some())
            .collect()
    }

    /// What the string says about the runner's limits.
    pub fn overrides(&self) -> Overrides<'_> {
        Overrides {
            module: self.module_name.as_deref(),
            keys: &self.keys,
        }
    }
}

/// Splits `cmd` the way python3-fd does (`name:key=value:key=value...`,
/// `\:` escapes a colon, a key runs to the next `=`), removes the
/// `sidecar.*` options and checks their names and values.
pub fn parse_command(cmd: &[u8]) -> Result<Command, String> {
    let Some(colon) = cmd.iter().position(|&b| b == b':') else {
        // Not a definition python3-fd accepts; the runner says so.
        return Ok(Command {
            stripped: cmd.to_vec(),
            ..Default::default()
        });
    };
    let mut out = cmd[..=colon].to_vec();
    let head_len = out.len();
    let mut rest = &cmd[colon + 1..];
    let mut module_name = None;
    let mut module_path = None;
    let mut keys = Vec::new();
    while !rest.is_empty() {
        let Some(eq) = rest.iter().position(|&b| b == b'=') else {
            // A trailing argument without a value: python3-fd refuses it.
            out.extend_from_slice(rest);
            break;
        };
        let key = &rest[..eq];
        let after = &rest[eq + 1..];
        let end = unescaped_colon(after).unwrap_or(after.len());
        let value = &after[..end];
        let token_end = (eq + 1 + end + 1).min(rest.len()); // with its ':'
        let token = &rest[..token_end];
        rest = &rest[token_end..];
        if key.len() >= PREFIX.len() && key[..PREFIX.len()].eq_ignore_ascii_case(PREFIX.as_bytes())
        {
            let name = String::from_utf8_lossy(&key[PREFIX.len()..]).to_ascii_lowercase();
            let value: String = String::from_utf8_lossy(value).replace('\\', "");
            check_key(&name, &value)?;
            keys.push((name, value));
            continue;
        }
        // python3-fd matches keys case-insensitively as prefixes of the
        // names it knows, module_path first.
        let clean = || Some(String::from_utf8_lossy(value).replace('\\', ""));
        if is_prefix_of(key, "module_path") {
            module_path = clean();
        } else if is_prefix_of(key, "module_name") {
            module_name = clean();
        }
        out.extend_from_slice(token);
    }
    if out.len() > head_len && out.last() == Some(&b':') && cmd.last() != Some(&b':') {
        out.pop(); // the separator of an option that was removed after it
    }
    Ok(Command {
        stripped: out,
        module_name,
        module_path,
        keys,
    })
}

/// True when `bytes` might hold a `sidecar.` option (a cheap pre-check).
pub fn mentions_prefix(bytes: &[u8]) -> bool {
    bytes
        .windows(PREFIX.len())
        .any(|w| w.eq_ignore_ascii_case(PREFIX.as_bytes()))
}

fn check_key(name: &str, value: &str) -> Result<(), String> {
    let bad = |e: String| format!("plugin option {PREFIX}{name}: {e}");
    match name {
        "memory" => parse_size(value).map(drop),
        "cpu" | "walltime" => parse_duration(value).map(drop),
        "cpus" => parse_cpus(value).map(drop),
        "files" | "procs" => parse_count(value).map(drop),
        "nice" => parse_nice(value).map(drop),
        "ionice" => parse_ionice(value).map(drop),
        "sandbox" => parse_switch(value).map(drop),
        "attach" if value.starts_with('/') => Ok(()),
        "attach" => Err(format!("{value:?} is not an absolute path of a unix socket")),
        "debugpy" => sidecar_proto::debugpy::address(value).map(drop),
        "debug_wait" => parse_duration(value).map(drop),
        "record" if value.starts_with('/') => Ok(()),
        "record" => Err(format!("{value:?} is not an absolute path")),
        "record_data" if matches!(value, "full" | "hash") => Ok(()),
        "record_data" => Err(format!("{value:?} is neither \"full\" nor \"hash\"")),
        _ => {
            let known: Vec<String> = STRING_KEYS
                .iter()
                .chain(&DEBUG_KEYS)
                .map(|k| format!("{PREFIX}{k}"))
                .collect();
            return Err(format!(
                "unknown plugin option {PREFIX}{name} (the {PREFIX} prefix is reserved for the sidecar; known: {})",
                known.join(", ")
            ));
        }
    }
    .map_err(bad)
}

/// Position of the first `:` not directly preceded by a backslash (as
/// python3-fd finds the end of a value).
fn unescaped_colon(s: &[u8]) -> Option<usize> {
    (0..s.len()).find(|&i| s[i] == b':' && (i == 0 || s[i - 1] != b'\\'))
}

fn is_prefix_of(key: &[u8], name: &str) -> bool {
    key.len() <= name.len() && name.as_bytes()[..key.len()].eq_ignore_ascii_case(key)
}

/// The plugin string with the values of keys that look like secrets
/// replaced, for debug messages.
pub fn redact(cmd: &[u8]) -> String {
    let text = String::from_utf8_lossy(cmd);
    let Some(colon) = text.find(':') else {
        return text.into_owned();
    };
    let mut out = text[..=colon].to_string();
    let mut rest = &text[colon + 1..];
    while !rest.is_empty() {
        let Some(eq) = rest.find('=') else {
            out.push_str(rest);
            break;
        };
        let key = &rest[..eq];
        let after = &rest[eq + 1..];
        let end = unescaped_colon(after.as_bytes()).unwrap_or(after.len());
        let lower = key.to_ascii_lowercase();
        out.push_str(key);
        out.push('=');
        if ["password", "passwd", "secret", "token", "key"]
            .iter()
            .any(|s| lower.contains(s))
        {
            out.push_str("***");
        } else {
            out.push_str(&after[..end]);
        }
        if end < after.len() {
            out.push(':');
        }
        rest = after.get(end + 1..).unwrap_or("");
    }
    out
}

/// The events of `daemon` whose text is a plugin string: the ones that
/// can load a module and so start a runner.
pub fn command_events(daemon: Daemon) -> &'static [u32] {
    use sidecar_proto::events::{FD_COMMANDS, dir, sd};
    match daemon {
        Daemon::Fd => &FD_COMMANDS,
        Daemon::Dir => &[dir::NewPluginOptions],
        Daemon::Sd => &[sd::NewPluginOptions],
    }
}

/// Removes the `sidecar.*` options from every plugin string in a call of
/// `daemon`. Returns the parsed string of a command event (the FD's
/// plugin/backup/restore/estimate command, new plugin options, restore
/// object; the director's and storage daemon's plugin options), which
/// decides the limits when it starts the runner.
pub fn strip_call(daemon: Daemon, kind: &mut call::Kind) -> Result<Option<Command>, Error> {
    strip_plugin_strings(daemon, kind).map_err(Error::Refused)
}

fn strip_plugin_strings(daemon: Daemon, kind: &mut call::Kind) -> Result<Option<Command>, String> {
    fn strip(bytes: &mut Vec<u8>) -> Result<Command, String> {
        let c = parse_command(bytes)?;
        bytes.clone_from(&c.stripped);
        Ok(c)
    }
    fn strip_if_mentioned(bytes: &mut Vec<u8>) -> Result<(), String> {
        if mentions_prefix(bytes) {
            strip(bytes)?;
        }
        Ok(())
    }
    match kind {
        call::Kind::HandlePluginEvent(pb::Event { event_type, value }) => match value {
            Some(event::Value::Text(text)) if command_events(daemon).contains(event_type) => {
                strip(text).map(Some)
            }
            Some(event::Value::RestoreObject(ro)) => match &mut ro.plugin_name {
                Some(name) => strip(name).map(Some),
                None => Ok(None),
            },
            Some(event::Value::Save(sp)) => {
                if let Some(cmd) = &mut sp.cmd {
                    strip_if_mentioned(cmd)?;
                }
                Ok(None)
            }
            _ => Ok(None),
        },
        call::Kind::StartBackupFile(req) => strip_if_mentioned(&mut req.cmd).map(|()| None),
        call::Kind::StartRestoreFile(cmd) => strip_if_mentioned(cmd).map(|()| None),
        _ => Ok(None),
    }
}

#[cfg(test)]
mod tests;
