//! The runner as a child process of the daemon: start it with its session
//! sockets, and make sure it is gone (and reaped) when the instance ends.

use std::io;
use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::os::unix::process::ExitStatusExt;
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

use super::cgroup::Cgroup;
use super::{Launch, child};
use crate::limits::Limits;

/// The descriptor numbers the runner expects its inherited descriptors on,
/// in the session protocol's order (`sidecar_proto::fds`). Everything from
/// the end on is closed at exec.
pub const INHERITED: std::ops::Range<RawFd> = sidecar_proto::fds::INHERITED;

/// How many descriptors a runner inherits.
pub const INHERITED_COUNT: usize = (INHERITED.end - INHERITED.start) as usize;

/// How long SIGTERM gets before SIGKILL.
const TERM_GRACE: Duration = Duration::from_secs(2);

pub struct RunnerProcess {
    /// `None` for a runner started by hand that the daemon attached to
    /// (`sidecar-runner serve`): not ours to reap or to stop.
    child: Option<Child>,
    pid: u32,
    status: Option<ExitStatus>,
    /// The limits it runs under (`limits`), for messages and the wall time.
    limits: Limits,
    cgroup: Option<Cgroup>,
    started: Instant,
}

impl RunnerProcess {
    /// Starts `path` with `inherit` as fds 3 to 8, stdin from /dev/null and
    /// stdout+stderr into `output`, under the limits and the sandbox of
    /// `launch`.
    pub fn spawn(
        path: &Path,
        inherit: [OwnedFd; INHERITED_COUNT],
        output: OwnedFd,
        launch: Launch,
    ) -> io::Result<RunnerProcess> {
        let stderr = output.try_clone()?;
        let mut cmd = Command::new(path);
        cmd.stdin(Stdio::null())
            .stdout(Stdio::from(output))
            .stderr(Stdio::from(stderr));
        if let Some(env) = &launch.env {
            // The sandbox's clean environment (built before the fork).
            cmd.env_clear().envs(env.iter().map(|(k, v)| (k, v)));
            cmd.current_dir("/");
        }
        // Which step of the child's setup failed, if one did.
        let (report_r, report_w) = nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC)?;
        let report_w = child::high_fd(report_w)?;
        let spawned = child::spawn(cmd, &inherit, launch.child, &report_w);
        drop(report_w);
        let child = match spawned {
            Ok(child) => child,
            Err(e) => {
                let mut code = [0u8; 1];
                let n = nix::unistd::read(report_r.as_raw_fd(), &mut code).unwrap_or(0);
                return Err(match (n, child::Stage::from_code(code[0])) {
                    (1, Some(stage)) => {
                        io::Error::new(e.kind(), format!("{} failed: {e}", stage.describe()))
                    }
                    _ => e,
                });
            }
        };
        // Our copies of the child's ends close here: the session is the
        // child's now, and EOF on it means the child is gone.
        drop(inherit);
        drop(launch.ruleset);
        Ok(RunnerProcess {
            pid: child.id(),
            child: Some(child),
            status: None,
            limits: launch.limits,
            cgroup: launch.cgroup,
            started: Instant::now(),
        })
    }

    /// A runner started by hand, pid `pid` (it says so in its Welcome);
    /// only the job's wall time applies to it.
    pub fn attached(pid: u32) -> RunnerProcess {
        RunnerProcess {
            child: None,
            pid,
            status: None,
            limits: Limits::default(),
            cgroup: None,
            started: Instant::now(),
        }
    }

    /// The attached runner's own pid, from its Welcome.
    pub fn set_attached_pid(&mut self, pid: u32) {
        if self.child.is_none() {
            self.pid = pid;
        }
    }

    pub fn is_attached(&self) -> bool {
        self.child.is_none()
    }

    /// The limits the runner runs under.
    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// How long the job's wall time still allows, with the message for when
    /// it is used up; `None` without a wall time limit.
    pub fn walltime_left(&self) -> Option<(Duration, String)> {
        let limit = self.limits.walltime.as_ref()?;
        let left = limit.value.saturating_sub(self.started.elapsed());
        Some((left, self.limits.walltime_exceeded().unwrap_or_default()))
    }

    /// [`describe`], plus the limit that plausibly ended the runner.
    pub fn explain(&self, status: ExitStatus) -> String {
        if self.is_attached() {
            return "ended (a runner started by hand: its exit status is in its terminal)".into();
        }
        let text = describe(status);
        let oom = self.cgroup.as_ref().is_some_and(|c| c.oom_kills() > 0);
        let hint = match (status.signal(), status.code()) {
            (Some(sig), _) => self.limits.explain_signal(sig, oom),
            (None, Some(code)) => self.limits.explain_exit(code),
            _ => None,
        };
        match hint {
            Some(hint) => format!("{text}: {hint}"),
            None => text,
        }
    }

    pub fn pid(&self) -> u32 {
        self.pid
    }

    /// The exit status, waiting at most `deadline` for it.
    pub fn wait_for(&mut self, deadline: Duration) -> Option<ExitStatus> {
        if self.status.is_some() {
            return self.status;
        }
        let start = Instant::now();
        loop {
            let ended = match &mut self.child {
                Some(child) => child.try_wait(),
                // Not our child: gone once its pid is (its parent reaps it).
                None => Ok(kill(Pid::from_raw(self.pid as i32), None)
                    .is_err()
                    .then(|| ExitStatus::from_raw(0))),
            };
            match ended {
                Ok(Some(status)) => {
                    self.status = Some(status);
                    return self.status;
                }
                Ok(None) if start.elapsed() < deadline => {
                    std::thread::sleep(Duration::from_millis(5))
                }
                _ => return None,
            }
        }
    }

    /// Asks a runner that is alive to print every thread's Python stack
    /// (`sidecar_proto::STACK_DUMP_SIGNAL`), and gives it `wait` to do so.
    /// (An attached runner prints to its own terminal: not asked.)
    pub fn dump_stacks(&mut self, wait: Duration) {
        if self.is_attached() || self.wait_for(Duration::ZERO).is_some() {
            return;
        }
        let pid = Pid::from_raw(self.pid as i32);
        if let Ok(signal) = Signal::try_from(sidecar_proto::STACK_DUMP_SIGNAL)
            && kill(pid, signal).is_ok()
        {
            std::thread::sleep(wait);
        }
    }

    /// Ends the runner: SIGTERM, a grace period, then SIGKILL; reaps it.
    /// An attached runner is left alone: closing the session ends it.
    pub fn terminate(&mut self) -> Option<ExitStatus> {
        if self.wait_for(Duration::ZERO).is_some() || self.is_attached() {
            return self.status;
        }
        let pid = Pid::from_raw(self.pid as i32);
        let _ = kill(pid, Signal::SIGTERM);
        if self.wait_for(TERM_GRACE).is_some() {
            return self.status;
        }
        let _ = kill(pid, Signal::SIGKILL);
        self.wait_for(TERM_GRACE)
    }
}

impl Drop for RunnerProcess {
    fn drop(&mut self) {
        self.terminate();
        // Only now, with the runner reaped, can its cgroup go.
        drop(self.cgroup.take());
    }
}

/// "exited with code 3", "was killed by signal SIGSEGV", ...
pub fn describe(status: ExitStatus) -> String {
    if let Some(code) = status.code() {
        return format!("exited with code {code}");
    }
    match status.signal() {
        Some(sig) => {
            let name = Signal::try_from(sig)
                .map(|s| s.as_str())
                .unwrap_or("unknown signal");
            let core = if status.core_dumped() {
                ", core dumped"
            } else {
                ""
            };
            format!("was killed by signal {name} ({sig}{core})")
        }
        None => format!("ended ({status})"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_codes_and_signals_are_named() {
        assert_eq!(describe(ExitStatus::from_raw(3 << 8)), "exited with code 3");
        assert_eq!(
            describe(ExitStatus::from_raw(11)),
            "was killed by signal SIGSEGV (11)"
        );
        assert_eq!(
            describe(ExitStatus::from_raw(9)),
            "was killed by signal SIGKILL (9)"
        );
    }

    #[test]
    fn descriptors_arrive_on_3_to_8_and_the_child_is_reaped() {
        let (a, b) = std::os::unix::net::UnixStream::pair().unwrap();
        let (c, d) = std::os::unix::net::UnixStream::pair().unwrap();
        let (shim, runner) = sidecar_proto::frames::pipes().unwrap();
        let (g, h) = std::os::unix::net::UnixStream::pair().unwrap();
        let (_area, memfd) = sidecar_proto::area::Area::create().unwrap();
        let (r, w) = nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC).unwrap();
        let script = std::env::temp_dir().join(format!("probe-{}.sh", std::process::id()));
        std::fs::write(
            &script,
            "#!/bin/sh\n[ -S /dev/fd/3 ] && [ -S /dev/fd/4 ] && [ -p /dev/fd/5 ] \
             && [ -f /dev/fd/6 ] && [ -S /dev/fd/7 ] && [ -p /dev/fd/8 ] && [ ! -e /dev/fd/9 ] \
             && echo ok\nexit 7\n",
        )
        .unwrap();
        std::fs::set_permissions(&script, std::os::unix::fs::PermissionsExt::from_mode(0o755))
            .unwrap();
        let inherit = [
            b.into(),
            d.into(),
            runner.read,
            memfd,
            h.into(),
            runner.write,
        ];
        let mut p = RunnerProcess::spawn(&script, inherit, w, Launch::unlimited()).unwrap();
        let status = p.wait_for(Duration::from_secs(10)).unwrap();
        assert_eq!(status.code(), Some(7));
        let mut out = String::new();
        io::Read::read_to_string(&mut std::fs::File::from(r), &mut out).unwrap();
        assert_eq!(out.trim(), "ok");
        drop((a, c, shim, g));
        std::fs::remove_file(script).unwrap();
    }

    /// Descriptors of the right kinds for a stand-in runner that does not
    /// talk on them (their peers are closed).
    fn stand_ins() -> [OwnedFd; INHERITED_COUNT] {
        let socket = || OwnedFd::from(std::os::unix::net::UnixStream::pair().unwrap().0);
        let (_area, memfd) = sidecar_proto::area::Area::create().unwrap();
        let (_shim, runner) = sidecar_proto::frames::pipes().unwrap();
        [
            socket(),
            socket(),
            runner.read,
            memfd,
            socket(),
            runner.write,
        ]
    }

    /// A scratch directory with `probe.sh` (the stand-in runner) in it.
    struct Probe {
        dir: std::path::PathBuf,
        script: std::path::PathBuf,
    }

    impl Probe {
        fn new(tag: &str, body: &str) -> Probe {
            let dir = std::env::temp_dir().join(format!("limits-{tag}-{}", std::process::id()));
            let _ = std::fs::remove_dir_all(&dir);
            std::fs::create_dir_all(&dir).unwrap();
            let mode = |p: &Path, m| {
                std::fs::set_permissions(p, std::os::unix::fs::PermissionsExt::from_mode(m))
                    .unwrap()
            };
            mode(&dir, 0o755);
            let script = dir.join("probe.sh");
            std::fs::write(&script, format!("#!/bin/sh\n{body}\n")).unwrap();
            mode(&script, 0o755);
            Probe { dir, script }
        }

        /// Prepares the launch for `plugin_string` under the limits of
        /// `toml` (the `[limits]`/`[[plugin]]` part of sidecar.toml).
        fn launch(&self, toml: &str, plugin_string: &str) -> Launch {
            std::fs::write(self.dir.join("sidecar.toml"), toml).unwrap();
            let config = crate::config::Config::load_from(&self.dir).unwrap();
            let cmd = crate::options::parse_command(plugin_string.as_bytes()).unwrap();
            crate::launch::prepare(&config.limits, Some(&cmd), &self.script, &self.dir).unwrap()
        }

        /// Starts the probe; returns it and its output so far, up to a
        /// line "ready" (or EOF).
        fn start(&self, launch: Launch) -> (RunnerProcess, std::io::BufReader<std::fs::File>) {
            let (r, w) = nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC).unwrap();
            let p = RunnerProcess::spawn(&self.script, stand_ins(), w, launch).unwrap();
            (p, std::io::BufReader::new(std::fs::File::from(r)))
        }
    }

    impl Drop for Probe {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }

    fn read_until_ready(out: &mut impl io::BufRead) -> Vec<String> {
        let mut lines = Vec::new();
        let mut line = String::new();
        while out.read_line(&mut line).unwrap() > 0 {
            if line.trim_end() == "ready" {
                break;
            }
            lines.push(line.trim_end().to_string());
            line.clear();
        }
        lines
    }

    fn proc_file(pid: u32, name: &str) -> String {
        std::fs::read_to_string(format!("/proc/{pid}/{name}")).unwrap()
    }

    /// The soft and hard value of one line of /proc/<pid>/limits.
    fn limit(limits: &str, name: &str) -> (String, String) {
        let line = limits
            .lines()
            .find(|l| l.starts_with(name))
            .unwrap_or_else(|| panic!("{name} in {limits}"));
        let mut f = line[name.len()..].split_whitespace();
        (f.next().unwrap().into(), f.next().unwrap().into())
    }

    #[test]
    fn rlimits_nice_and_ionice_are_applied_in_the_child() {
        let probe = Probe::new("rlimits", "echo ready\nexec sleep 30");
        let launch = probe.launch(
            "[limits]\nmemory = \"512M\"\ncpu = 7\nfiles = 77\nnice = 7\nionice = \"idle\"\n",
            "python3:module_name=m:sidecar.files=55",
        );
        let (mut p, mut out) = probe.start(launch);
        read_until_ready(&mut out);
        let pid = p.pid();
        let limits = proc_file(pid, "limits");
        assert_eq!(
            limit(&limits, "Max address space"),
            ("536870912".into(), "536870912".into())
        );
        assert_eq!(limit(&limits, "Max cpu time"), ("7".into(), "12".into()));
        assert_eq!(limit(&limits, "Max open files"), ("55".into(), "55".into()));
        assert_eq!(
            limit(&limits, "Max core file size"),
            ("0".into(), "0".into())
        );
        let stat = proc_file(pid, "stat");
        let nice: i32 = stat
            .rsplit(')')
            .next()
            .unwrap()
            .split_whitespace()
            .nth(16)
            .unwrap()
            .parse()
            .unwrap();
        assert_eq!(nice, 7);
        let ionice = std::process::Command::new("ionice")
            .args(["-p", &pid.to_string()])
            .output()
            .expect("util-linux ionice runs");
        assert_eq!(String::from_utf8_lossy(&ionice.stdout).trim(), "idle");
        // Not sandboxed: the environment is the daemon's, privileges may grow.
        assert!(proc_file(pid, "status").contains("NoNewPrivs:\t0"));
        p.terminate();
    }

    #[test]
    fn without_a_limit_only_core_dumps_are_off() {
        let probe = Probe::new("nolimits", "echo ready\nexec sleep 30");
        let launch = probe.launch("", "python3:module_name=m");
        assert!(launch.warnings.is_empty(), "{:?}", launch.warnings);
        let (mut p, mut out) = probe.start(launch);
        read_until_ready(&mut out);
        let limits = proc_file(p.pid(), "limits");
        assert_eq!(
            limit(&limits, "Max core file size"),
            ("0".into(), "0".into())
        );
        let ours = std::fs::read_to_string("/proc/self/limits").unwrap();
        for name in ["Max address space", "Max cpu time", "Max open files"] {
            assert_eq!(limit(&limits, name), limit(&ours, name), "{name}");
        }
        p.terminate();
    }

    #[test]
    fn the_cpu_limit_kills_with_sigxcpu_and_the_status_names_it() {
        let probe = Probe::new("cpu", "while :; do :; done");
        let launch = probe.launch("", "python3:module_name=m:sidecar.cpu=1");
        let (mut p, _out) = probe.start(launch);
        let status = p
            .wait_for(Duration::from_secs(30))
            .expect("killed within 30 s");
        assert_eq!(status.signal(), Some(libc::SIGXCPU));
        assert_eq!(
            p.explain(status),
            "was killed by signal SIGXCPU (24): CPU time limit of 1 s (sidecar.cpu) exceeded"
        );
    }

    #[test]
    fn memory_and_open_files_limits_bind_a_python_child() {
        let probe = Probe::new(
            "mem",
            "/usr/bin/python3 -c '\n\
             import os\n\
             try:\n    b = bytearray(700 << 20); print(\"allocated\")\n\
             except MemoryError:\n    print(\"MemoryError\")\n\
             fds = []\n\
             try:\n    [fds.append(os.open(\"/dev/null\", os.O_RDONLY)) for _ in range(1000)]\n\
             except OSError as e:\n    print(\"EMFILE\" if e.errno == 24 else e, len(fds))\n'",
        );
        let launch = probe.launch(
            "",
            "python3:module_name=m:sidecar.memory=256M:sidecar.files=40",
        );
        let (mut p, mut out) = probe.start(launch);
        let lines = read_until_ready(&mut out);
        p.wait_for(Duration::from_secs(30));
        assert_eq!(
            lines.first().map(String::as_str),
            Some("MemoryError"),
            "{lines:?}"
        );
        let emfile = lines.get(1).map(String::as_str).unwrap_or("");
        assert!(emfile.starts_with("EMFILE "), "{lines:?}");
        let opened: usize = emfile[7..].parse().unwrap();
        assert!(opened < 40, "{opened}");
    }

    #[test]
    fn no_writable_cgroup_means_a_warning_naming_the_fallbacks() {
        let probe = Probe::new("cgwarn", "exit 0");
        let launch = probe.launch(
            "cgroup = \"/nonexistent-cgroup\"\n[limits]\nmemory = \"1G\"\nprocs = 10\ncpus = 0.5\n",
            "python3:module_name=m",
        );
        assert_eq!(launch.warnings.len(), 1, "{:?}", launch.warnings);
        let w = &launch.warnings[0];
        assert!(
            w.starts_with("/nonexistent-cgroup is not a cgroup v2 directory; enforcing "),
            "{w}"
        );
        assert!(w.contains("memory (1 GiB) by RLIMIT_AS only"), "{w}");
        assert!(w.contains("procs (10) by RLIMIT_NPROC only"), "{w}");
        assert!(w.contains("cpus (0.5) not at all"), "{w}");
        assert!(launch.child.rlimits.contains(&(libc::RLIMIT_NPROC, 10, 10)));
        let launch = probe.launch(
            "cgroup = \"off\"\n[limits]\nmemory = \"1G\"\n",
            "python3:module_name=m",
        );
        assert!(
            launch.warnings[0].starts_with("cgroups are switched off"),
            "{:?}",
            launch.warnings
        );
    }

    #[test]
    fn the_sandbox_drops_privileges_cleans_the_environment_and_confines_writes() {
        if !nix::unistd::Uid::effective().is_root() {
            eprintln!("skipped: needs root to switch users");
            return;
        }
        let probe = Probe::new(
            "sandbox",
            "w() { if (echo x > \"$1\") 2>/dev/null; then echo \"$2 ok\"; else echo \"$2 denied\"; fi; }\n\
             w \"$(dirname \"$0\")/allowed/f\" allowed\n\
             w \"$(dirname \"$0\")/other\" beside-runner\n\
             w /tmp/sidecar-sandbox-escape-$$ tmp\n\
             if cat /etc/hostname >/dev/null 2>&1; then echo 'read-etc ok'; else echo 'read-etc denied'; fi\n\
             echo \"env $(env | cut -d= -f1 | sort | tr '\\n' ' ')\"\n\
             echo ready\nexec sleep 30",
        );
        let allowed = probe.dir.join("allowed");
        std::fs::create_dir(&allowed).unwrap();
        std::fs::set_permissions(
            &allowed,
            std::os::unix::fs::PermissionsExt::from_mode(0o777),
        )
        .unwrap();
        let launch = probe.launch(
            &format!(
                "[[plugin]]\nmodule = \"m*\"\nsandbox = true\nuser = \"nobody\"\nwrite_paths = [\"{}\"]\n",
                allowed.display()
            ),
            "python3:module_name=mine",
        );
        assert!(launch.warnings.is_empty(), "{:?}", launch.warnings);
        let (mut p, mut out) = probe.start(launch);
        let lines = read_until_ready(&mut out);
        let status = proc_file(p.pid(), "status");
        assert!(status.contains("NoNewPrivs:\t1"), "{status}");
        assert!(
            status.contains("Uid:\t65534\t65534\t65534\t65534"),
            "{status}"
        );
        assert!(lines.contains(&"allowed ok".to_string()), "{lines:?}");
        // The runner's own directory is readable, not writable.
        assert!(
            lines.contains(&"beside-runner denied".to_string()),
            "{lines:?}"
        );
        // /tmp is writable for nobody, but not in the ruleset.
        assert!(lines.contains(&"tmp denied".to_string()), "{lines:?}");
        assert!(lines.contains(&"read-etc denied".to_string()), "{lines:?}");
        let env = lines.iter().find(|l| l.starts_with("env ")).unwrap();
        for name in env[4..].split_whitespace() {
            assert!(
                [
                    "PATH",
                    "LANG",
                    "LANGUAGE",
                    "TZ",
                    "SIDECAR_LOG",
                    "HOME",
                    "USER",
                    "LOGNAME",
                    "PWD"
                ]
                .contains(&name)
                    || name.starts_with("LC_"),
                "{name} leaked into the sandbox: {env}"
            );
        }
        assert!(env.contains("HOME"), "{env}");
        p.terminate();
    }

    #[test]
    fn inherited_descriptors_are_not_passed_on() {
        // A descriptor without close-on-exec, as C code in the daemon makes.
        use nix::fcntl::{FcntlArg, OFlag, fcntl, open};
        let fd = open(
            "/dev/null",
            OFlag::O_RDONLY | OFlag::O_CLOEXEC,
            nix::sys::stat::Mode::empty(),
        )
        .unwrap();
        let leaked = fcntl(fd, FcntlArg::F_DUPFD(20)).unwrap();
        nix::unistd::close(fd).unwrap();
        assert!(leaked >= 20);
        let probe = Probe::new(
            "cloexec",
            &format!(
                "[ -e /proc/$$/fd/{leaked} ] && echo leaked || echo closed\n[ -S /dev/fd/3 ] && echo session"
            ),
        );
        let (mut p, mut out) = probe.start(Launch::unlimited());
        let lines = read_until_ready(&mut out);
        p.wait_for(Duration::from_secs(10));
        nix::unistd::close(leaked).unwrap();
        assert_eq!(lines, ["closed", "session"]);
    }

    #[test]
    fn the_runner_dies_with_the_thread_that_started_it() {
        let probe = Probe::new("pdeath", "echo ready\nexec sleep 30");
        let launch = probe.launch("", "python3:module_name=m");
        let (mut p, mut out) =
            std::thread::scope(|s| s.spawn(|| probe.start(launch)).join().unwrap());
        read_until_ready(&mut out);
        let status = p
            .wait_for(Duration::from_secs(10))
            .expect("gone with its thread");
        assert_eq!(status.signal(), Some(libc::SIGKILL));
    }

    #[test]
    fn a_refused_setup_step_is_named() {
        let probe = Probe::new("refused", "exit 0");
        let mut launch = Launch::unlimited();
        launch.child.rlimits.push((libc::RLIMIT_NOFILE, 10, 5)); // soft > hard
        let (_r, w) = nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC).unwrap();
        let err = RunnerProcess::spawn(&probe.script, stand_ins(), w, launch)
            .err()
            .expect("refused");
        assert_eq!(
            err.to_string(),
            "setting a resource limit (setrlimit) failed: Invalid argument (os error 22)"
        );
    }

    /// With a real cgroup v2 (here: the unified hierarchy, even without
    /// controllers) the child moves itself in before exec, and what it
    /// leaves behind is killed with the cgroup.
    #[test]
    fn the_runner_starts_inside_its_cgroup_which_goes_with_it() {
        let Some(parent) = crate::launch::cgroup::own_cgroup() else {
            eprintln!("skipped: no cgroup v2 here");
            return;
        };
        let cg = match crate::launch::cgroup::Cgroup::create(&parent) {
            Ok(cg) => cg,
            Err(e) => {
                eprintln!("skipped: {e}");
                return;
            }
        };
        let dir = cg.dir().to_path_buf();
        let probe = Probe::new(
            "cgroup",
            "sleep 60 &\necho $!\ngrep '^0::' /proc/self/cgroup\necho ready\nexec sleep 30",
        );
        let mut launch = Launch::unlimited();
        launch.child.cgroup_procs = Some(cg.procs_fd());
        launch.cgroup = Some(cg);
        let (p, mut out) = probe.start(launch);
        let lines = read_until_ready(&mut out);
        let grandchild: u32 = lines[0].parse().unwrap();
        let name = dir.file_name().unwrap().to_str().unwrap();
        assert!(lines[1].ends_with(&format!("/{name}")), "{lines:?}");
        let procs = std::fs::read_to_string(dir.join("cgroup.procs")).unwrap();
        assert!(procs.lines().any(|l| l == p.pid().to_string()), "{procs}");
        drop(p);
        assert!(!dir.exists(), "the cgroup was not removed");
        // Gone, or a zombie waiting for init to reap it.
        let stat = std::fs::read_to_string(format!("/proc/{grandchild}/stat")).unwrap_or_default();
        assert!(
            stat.is_empty() || stat.contains(") Z "),
            "the runner's child survived its cgroup: {stat}"
        );
    }
}
