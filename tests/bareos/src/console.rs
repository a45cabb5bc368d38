//! Driving the director through bconsole: one bconsole process per
//! request, plain text or `.api 2` JSON, and the parsing of what comes back.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use serde_json::Value;

use crate::daemons::SERVICE_PATH;

pub struct Console {
    bconsole: PathBuf,
    config: PathBuf,
}

/// The catalog's view of one job.
#[derive(Debug, Clone, Default)]
pub struct JobRecord {
    pub id: u32,
    pub status: String,
    pub level: String,
    pub files: u64,
    pub bytes: u64,
}

impl JobRecord {
    pub fn terminated(&self) -> bool {
        is_final_status(&self.status)
    }
    pub fn ok(&self) -> bool {
        self.status == "T" || self.status == "W"
    }
}

/// Job status letters of a finished job.
pub fn is_final_status(s: &str) -> bool {
    matches!(s, "T" | "W" | "E" | "e" | "f" | "A" | "D" | "I")
}

impl Console {
    pub fn new(bconsole: &Path, config: &Path) -> Console {
        Console {
            bconsole: bconsole.to_path_buf(),
            config: config.to_path_buf(),
        }
    }

    /// Runs `cmds` in one bconsole session; returns everything it printed.
    pub fn cmd(&self, cmds: &[&str]) -> Result<String> {
        let mut child = Command::new(&self.bconsole)
            .arg("-c")
            .arg(&self.config)
            .env_clear()
            .env("PATH", SERVICE_PATH)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .context("start bconsole")?;
        let mut input = String::new();
        for c in cmds {
            input.push_str(c);
            input.push('\n');
        }
        input.push_str("quit\n");
        let mut stdin = child.stdin.take().context("bconsole stdin")?;
        stdin.write_all(input.as_bytes())?;
        drop(stdin);
        let mut stdout = child.stdout.take().context("bconsole stdout")?;
        let reader = std::thread::spawn(move || {
            let mut out = Vec::new();
            let _ = stdout.read_to_end(&mut out);
            out
        });
        let started = Instant::now();
        loop {
            if child.try_wait()?.is_some() {
                break;
            }
            if started.elapsed() > Duration::from_secs(120) {
                let _ = child.kill();
                let _ = child.wait();
                bail!("bconsole did not finish within 120 s: {cmds:?}");
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        let out = reader.join().unwrap_or_default();
        Ok(String::from_utf8_lossy(&out).into_owned())
    }

    /// One command in `.api 2` mode: its JSON `result`.
    pub fn api(&self, cmd: &str) -> Result<Value> {
        let text = self.cmd(&[".api 2", cmd])?;
        api_result(&text)
            .with_context(|| format!("`{cmd}`: no JSON result in bconsole output:\n{text}"))
    }

    /// `run job=NAME ARGS yes`: the queued JobId.
    pub fn run_job(&self, job: &str, args: &str) -> Result<u32> {
        let text = self.cmd(&[&format!("run job=\"{job}\" {args} yes")])?;
        queued_jobid(&text).with_context(|| format!("job {job} not queued:\n{text}"))
    }

    pub fn job(&self, id: u32) -> Result<JobRecord> {
        let v = self.api(&format!("llist jobid={id}"))?;
        job_record(&v).with_context(|| format!("no job {id} in {v}"))
    }

    /// Polls the catalog until the job has finished (or `timeout`).
    pub fn wait_job(&self, id: u32, timeout: Duration) -> Result<JobRecord> {
        let t = Instant::now();
        loop {
            // A queued job may not be in the catalog yet.
            let status = match self.job(id) {
                Ok(j) if j.terminated() => return Ok(j),
                Ok(j) => j.status,
                Err(_) => "not in the catalog".into(),
            };
            if t.elapsed() > timeout {
                bail!("job {id} still {status} after {timeout:?}");
            }
            std::thread::sleep(Duration::from_millis(250));
        }
    }

    /// The job log as text (one message per line, as stored in the catalog).
    pub fn joblog(&self, id: u32) -> Result<String> {
        let v = self.api(&format!("list joblog jobid={id}"))?;
        Ok(joblog_text(&v))
    }

    pub fn cancel(&self, id: u32) -> Result<String> {
        self.cmd(&[&format!("cancel jobid={id} yes")])
    }

    /// Restores into `where_`: `jobids` (comma list) or, if None, the most
    /// recent state of `fileset` (Full + Differential + Incrementals).
    pub fn restore(&self, fileset: &str, where_: &Path, jobids: Option<&str>) -> Result<u32> {
        let client = crate::config::CLIENT;
        let sel = match jobids {
            Some(ids) => format!("jobid={ids}"),
            None => format!("fileset=\"{fileset}\" select current"),
        };
        let cmd = format!(
            "restore client={client} restoreclient={client} {sel} where=\"{}\" all done yes",
            where_.display()
        );
        let text = self.cmd(&[&cmd])?;
        queued_jobid(&text).with_context(|| format!("restore not queued ({cmd}):\n{text}"))
    }

    pub fn status_client(&self) -> Result<String> {
        self.cmd(&[&format!("status client={}", crate::config::CLIENT)])
    }
}

/// `Job queued. JobId=12` -> 12 (the last such line).
pub fn queued_jobid(text: &str) -> Option<u32> {
    text.lines()
        .filter_map(|l| {
            let i = l.find("JobId=")?;
            let digits: String = l[i + 6..]
                .chars()
                .take_while(|c| c.is_ascii_digit())
                .collect();
            digits.parse().ok()
        })
        .next_back()
}

/// Every `JobId=N` of a session that queued several jobs, in order.
pub fn queued_jobids(text: &str) -> Vec<u32> {
    text.lines()
        .filter(|l| l.contains("Job queued"))
        .filter_map(queued_jobid)
        .collect()
}

/// Every JSON object in bconsole's output (it echoes other text too).
pub fn json_objects(text: &str) -> Vec<Value> {
    let mut out = Vec::new();
    let mut i = 0;
    while let Some(off) = text[i..].find('{') {
        let start = i + off;
        let mut it = serde_json::Deserializer::from_str(&text[start..]).into_iter::<Value>();
        match it.next() {
            Some(Ok(v)) => {
                out.push(v);
                i = start + it.byte_offset();
            }
            _ => i = start + 1,
        }
    }
    out
}

/// The `result` of the command's JSON-RPC answer in the output of
/// `.api 2`, CMD, `quit` (an `error` answer is an error): the last answer
/// that is neither the `.api` acknowledgement nor quit's empty result.
pub fn api_result(text: &str) -> Result<Value> {
    let answers: Vec<Value> = json_objects(text)
        .into_iter()
        .filter(|v| {
            v.get("result").is_none_or(|r| {
                r.as_object()
                    .is_none_or(|o| !o.is_empty() && !o.contains_key("api"))
            })
        })
        .collect();
    for v in answers.into_iter().rev() {
        if let Some(r) = v.get("result") {
            return Ok(r.clone());
        }
        if let Some(e) = v.get("error") {
            bail!("director answered an error: {e}");
        }
    }
    bail!("no JSON answer")
}

fn field(v: &Value, k: &str) -> String {
    match v.get(k) {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Number(n)) => n.to_string(),
        _ => String::new(),
    }
}

/// The first job of an `llist jobid=N` / `list jobs` result.
pub fn job_record(result: &Value) -> Option<JobRecord> {
    let j = result.get("jobs")?.as_array()?.first()?;
    Some(JobRecord {
        id: field(j, "jobid").parse().ok()?,
        status: field(j, "jobstatus"),
        level: field(j, "level"),
        files: field(j, "jobfiles").parse().unwrap_or(0),
        bytes: field(j, "jobbytes").parse().unwrap_or(0),
    })
}

/// A `list joblog` result as text.
pub fn joblog_text(result: &Value) -> String {
    let mut s = String::new();
    for e in result
        .get("joblog")
        .and_then(|j| j.as_array())
        .into_iter()
        .flatten()
    {
        let text = field(e, "logtext");
        s.push_str(&text);
        if !text.ends_with('\n') {
            s.push('\n');
        }
    }
    s
}

/// The lines of `log` containing any of `needles` (for failure reports).
pub fn relevant_lines(log: &str, needles: &[&str]) -> String {
    let lines: Vec<&str> = log
        .lines()
        .filter(|l| {
            needles
                .iter()
                .any(|n| l.to_lowercase().contains(&n.to_lowercase()))
        })
        .collect();
    lines.join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_queued_jobid() {
        let text = "Connecting to Director 127.0.0.1:29101\n...\nrun job=x yes\nJob queued. JobId=17\nquit\n";
        assert_eq!(queued_jobid(text), Some(17));
        assert_eq!(queued_jobid("Job not queued"), None);
        assert_eq!(
            queued_jobids("Job queued. JobId=3\nx\nJob queued. JobId=4\n"),
            vec![3, 4]
        );
    }

    #[test]
    fn parses_json_answers_among_text() {
        let text = concat!(
            "Connecting to Director 127.0.0.1:29101\n 1000 OK: acceptance-dir\n",
            ".api 2\n{\"jsonrpc\":\"2.0\",\"id\":null,\"result\":{\"api\":2}}\n",
            "llist jobid=3\n{\"jsonrpc\":\"2.0\",\"id\":null,\"result\":{\"jobs\":[{\"jobid\":\"3\",\"job\":\"x.2024\",",
            "\"jobstatus\":\"T\",\"level\":\"F\",\"jobfiles\":\"12\",\"jobbytes\":\"3456\",\"starttime\":\"2024-01-01 10:00:00\",",
            "\"endtime\":\"2024-01-01 10:00:03\"}]}}\nquit\n{\"jsonrpc\":\"2.0\",\"id\":null,\"result\":{}}\n"
        );
        assert_eq!(json_objects(text).len(), 3);
        let j = job_record(&api_result(text).unwrap()).unwrap();
        assert_eq!(
            (j.id, j.status.as_str(), j.files, j.bytes),
            (3, "T", 12, 3456)
        );
        assert!(j.ok() && j.terminated());
    }

    #[test]
    fn error_answers_are_errors() {
        let text =
            "{\"jsonrpc\":\"2.0\",\"id\":null,\"error\":{\"code\":1,\"message\":\"failed\"}}";
        assert!(api_result(text).is_err());
    }

    #[test]
    fn joblog_lines() {
        let v: Value = serde_json::from_str(
            r#"{"joblog":[{"time":"t","logtext":"a: line one\n"},{"time":"t","logtext":"b: Fatal error: x"}]}"#,
        )
        .unwrap();
        let text = joblog_text(&v);
        assert_eq!(text, "a: line one\nb: Fatal error: x\n");
        assert_eq!(relevant_lines(&text, &["fatal"]), "b: Fatal error: x");
    }

    #[test]
    fn final_statuses() {
        for s in ["T", "W", "E", "f", "A"] {
            assert!(is_final_status(s));
        }
        for s in ["R", "C", "B", ""] {
            assert!(!is_final_status(s));
        }
    }
}
