//! `status client` shows our plugin: the plugin list names python3-fd
//! with our version/description `(sidecar)`.

use anyhow::{Result, bail};

use super::Scenario;
use crate::lab::Lab;

pub fn scenarios() -> Vec<Scenario> {
    vec![Scenario {
        name: "status-client-plugin",
        jobs: |_| Ok(vec![]),
        run,
    }]
}

fn run(lab: &Lab) -> Result<()> {
    let status = lab.console().status_client()?;
    // Either one line per plugin ("python3-fd.so (0.1.0 (sidecar))") or a
    // "Plugin Info:" block (Plugin / Description / Version lines).
    if status
        .lines()
        .any(|l| l.contains("python3-fd") && l.contains("(sidecar)"))
    {
        return Ok(());
    }
    let block = plugin_block(&status, "python3-fd");
    if block.iter().any(|l| l.contains("python3-fd")) && block.iter().any(|l| l.contains("sidecar"))
    {
        return Ok(());
    }
    let plugin_lines: Vec<&str> = status
        .lines()
        .filter(|l| l.to_lowercase().contains("plugin") || l.contains("python"))
        .collect();
    bail!(
        "no line with python3-fd and (sidecar) in status client; plugin lines:\n{}",
        plugin_lines.join("\n")
    )
}

/// The lines of the "Plugin Info" entry naming `plugin` (from its
/// `Plugin :` line to the next one).
pub(super) fn plugin_block<'a>(status: &'a str, plugin: &str) -> Vec<&'a str> {
    let mut out = Vec::new();
    let mut inside = false;
    for line in status.lines() {
        let t = line.trim_start();
        if t.starts_with("Plugin ") && t.contains(':') && !t.starts_with("Plugin Info") {
            inside = t.contains(plugin);
        } else if t.is_empty() || t.starts_with("====") || t.starts_with("Running Jobs") {
            inside = false;
        }
        if inside {
            out.push(line);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn plugin_block_of_status_client() {
        let s = "Plugin Info:\n Plugin     : bpipe-fd.so\n Description: Bareos Pipe\n Plugin     : python3-fd.so\n Description: Python File Daemon Plugin (out of process: bareos-sidecar)\n Version    : 0.1.0 (sidecar), Date: x\n\nRunning Jobs:\n";
        let b = super::plugin_block(s, "python3-fd");
        assert_eq!(b.len(), 3, "{b:?}");
        assert!(b[2].contains("(sidecar)"));
    }
}
