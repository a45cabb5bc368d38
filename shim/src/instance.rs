//! One plugin instance (one job of one daemon): its runner, started on
//! demand, and every call to it under a deadline. Daemon-independent: the
//! edges (`fd`, `dir`, `sd`) turn the core's C calls into messages and the
//! results back, and decide when a runner is worth starting.
//!
//! On any failure the runner is ended and the job gets one fatal message
//! naming the call, the file it was at and the cause; the instance then
//! answers bRC_Error without Python, as python3-fd does for a plugin whose
//! module failed.

use std::collections::HashMap;
use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use sidecar_proto::{self as pb, call};

use crate::backend::{self, Backend, IoBuffer};
use crate::cancel::Canceller;
use crate::config::{Config, Deadlines};
use crate::daemon::{Daemon, DaemonCore};
use crate::error::Error;
use crate::ffi::types::{bRC, bRC_OK, bRC_Term, msg};
use crate::launch;
use crate::options::{self, Command};
use crate::session::{Debugging, Session};

pub struct Instance {
    daemon: Daemon,
    number: u32,
    api_version: u32,
    state: Mutex<State>,
    /// Reaches the runner without the job thread's lock: the cancel event
    /// arrives on another daemon thread while the job thread may be inside
    /// a call.
    cancel: Mutex<Option<Canceller>>,
}

/// What the job thread's calls share; behind the instance's lock.
pub struct State {
    pub runner: Runner,
    /// Events that arrived before the runner; replayed to it after
    /// newPlugin (the FD's Level and Since).
    pub replay: Vec<pb::Event>,
    /// Descriptors handed to the core for "I/O in core": our copy, keyed by
    /// its number, and the runner's number for the same open file.
    pub fds: HashMap<RawFd, (OwnedFd, i32)>,
    /// The call deadlines of the running runner's configuration.
    deadlines: Deadlines,
    /// The file the job is at, so a failure message can name it.
    pub file: Option<String>,
    /// The runner was started by hand and someone may be stepping through
    /// the plugin: calls get [`ATTACHED_DEADLINE`].
    attached: bool,
}

/// How long a runner with `sidecar.debugpy` waits for a debugger by
/// default (`sidecar.debug_wait`).
const DEBUG_WAIT: Duration = Duration::from_secs(300);

/// A call's deadline while a person debugs the plugin (an attached runner,
/// debugpy): long enough for a debugging session, still a deadline. Liveness
/// pings still notice a runner that is gone, and a cancel still ends the
/// job after its grace period.
const ATTACHED_DEADLINE: Duration = Duration::from_secs(8 * 3600);

pub enum Runner {
    NotStarted,
    Running(Box<dyn Backend>),
    /// Failed or refused; the job has its fatal message already.
    Gone,
}

/// Which deadline applies to a call.
#[derive(Clone, Copy)]
pub enum Kind {
    Event,
    File,
    Io,
    Shutdown,
}

impl Instance {
    pub fn new(daemon: Daemon, number: u32, api_version: u32) -> Instance {
        Instance {
            daemon,
            number,
            api_version,
            state: Mutex::new(State {
                runner: Runner::NotStarted,
                replay: Vec::new(),
                fds: HashMap::new(),
                deadlines: Deadlines::default(),
                file: None,
                attached: false,
            }),
            cancel: Mutex::new(None),
        }
    }

    /// The job thread's state (a poisoned lock is taken over: the state is
    /// consistent between calls).
    pub fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn set_canceller(&self, canceller: Option<Canceller>) {
        *self.cancel.lock().unwrap_or_else(|e| e.into_inner()) = canceller;
    }

    /// The cancel event, on a daemon thread other than the job's (see
    /// `cancel`): the plugin's handler runs now, its core functions on this
    /// thread; then the call in flight gets `cancel::CANCEL_GRACE`.
    pub fn cancel(&self, core: &mut dyn DaemonCore) -> bRC {
        // A clone, so the job thread can end the session meanwhile.
        let canceller = self
            .cancel
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        let Some(canceller) = canceller else {
            return bRC_OK; // no runner: nothing runs that could be cancelled
        };
        match canceller.cancel(core) {
            Ok(Some(rc)) => without_term(core, rc, "handle_plugin_event"),
            Ok(None) => bRC_OK,
            Err(e) => {
                core.shim_message(msg::WARNING, &format!("cancel: {e}"));
                bRC_OK
            }
        }
    }

    /// Makes one call, starting the runner if needed. On any failure the
    /// runner is ended, the job gets a fatal message naming the cause, and
    /// `None` is returned.
    pub fn call(
        &self,
        state: &mut State,
        core: &mut dyn DaemonCore,
        mut kind: call::Kind,
        deadline: Kind,
        name: &str,
    ) -> Option<pb::CallResult> {
        // The plugin string's sidecar.* options are checked and removed
        // before the runner sees the string; the string that starts the
        // runner decides its limits.
        let command = match options::strip_call(self.daemon, &mut kind) {
            Ok(c) => c,
            Err(e) => {
                core.shim_message(msg::FATAL, &e.to_string());
                if matches!(state.runner, Runner::NotStarted) {
                    state.runner = Runner::Gone;
                }
                return None;
            }
        };
        if matches!(state.runner, Runner::NotStarted) {
            self.start(state, core, command.as_ref());
        }
        self.run(state, core, deadline, name, |b, d, core| {
            b.call(kind, d, core)
        })
    }

    /// pluginIO straight between the core's buffer and the I/O area.
    pub fn plugin_io(
        &self,
        state: &mut State,
        core: &mut dyn DaemonCore,
        req: pb::IoRequest,
        buf: IoBuffer<'_>,
    ) -> Option<(pb::CallResult, usize)> {
        self.run(state, core, Kind::Io, "plugin_io", |b, d, core| {
            b.plugin_io(req, buf, d, core)
        })
    }

    /// Runs `op` on the running backend under the deadline of its kind. On
    /// failure the runner is ended, the job gets a fatal message naming the
    /// cause, and `None` is returned.
    fn run<R>(
        &self,
        state: &mut State,
        core: &mut dyn DaemonCore,
        deadline: Kind,
        name: &str,
        op: impl FnOnce(&mut dyn Backend, Duration, &mut dyn DaemonCore) -> Result<R, Error>,
    ) -> Option<R> {
        let Runner::Running(session) = &mut state.runner else {
            return None;
        };
        let d = &state.deadlines;
        let secs = match deadline {
            Kind::Event => d.event,
            Kind::File => d.file,
            Kind::Io => d.io,
            Kind::Shutdown => d.shutdown,
        };
        let deadline = if state.attached {
            ATTACHED_DEADLINE
        } else {
            Deadlines::get(secs)
        };
        match op(session.as_mut(), deadline, core) {
            Ok(result) => Some(result),
            Err(failure) => {
                let Runner::Running(session) = std::mem::replace(&mut state.runner, Runner::Gone)
                else {
                    unreachable!("matched Running above")
                };
                self.set_canceller(None);
                let why = session.kill(core);
                let file = state
                    .file
                    .as_deref()
                    .map(|f| format!(" (at file {f})"))
                    .unwrap_or_default();
                core.shim_message(
                    msg::FATAL,
                    &format!("{name} failed{file}: {failure}; {why}"),
                );
                None
            }
        }
    }

    /// Starts the runner and brings it to the state the stock plugin would
    /// be in. `command`: the plugin string that starts it (decides its
    /// limits).
    fn start(&self, state: &mut State, core: &mut dyn DaemonCore, command: Option<&Command>) {
        state.runner = Runner::Gone;
        let config = match Config::load() {
            Ok(c) => c,
            Err(e) => {
                core.shim_message(msg::FATAL, &format!("bad configuration: {e}"));
                return;
            }
        };
        state.deadlines = config.deadlines.clone();
        let debug_keys = command.map(Command::debug_keys).unwrap_or_default();
        if !debug_keys.is_empty() && !config.debug.allow {
            let keys: Vec<String> = debug_keys
                .iter()
                .map(|k| format!("{}{k}", options::PREFIX))
                .collect();
            core.shim_message(
                msg::FATAL,
                &format!(
                    "{} refused: debugging is not allowed on this client (set [debug] allow = true in {})",
                    keys.join(", "),
                    config.source.as_ref().map_or_else(
                        || "sidecar.toml beside the plugin or /etc/bareos/sidecar.toml".into(),
                        |p| p.display().to_string()
                    )
                ),
            );
            return;
        }
        if let Some(factory) = backend::factory() {
            // In-process hosting (the benchmark's python3-fd stand-in).
            match factory(&config.plugin_dir) {
                Ok(b) => {
                    self.set_canceller(b.canceller());
                    state.runner = Runner::Running(b);
                }
                Err(failure) => {
                    core.shim_message(msg::FATAL, &failure.to_string());
                    return;
                }
            }
            self.bring_up(state, core);
            return;
        }
        // Limits and sandbox, resolved before the fork.
        let launch =
            match launch::prepare(&config.limits, command, &config.runner, &config.plugin_dir) {
                Ok(l) => l,
                Err(e) => {
                    core.shim_message(
                        msg::FATAL,
                        &format!("cannot apply the runner's limits: {e}"),
                    );
                    return;
                }
            };
        // Only the FD calls a job's plugin on one thread for the whole job
        // (see `ChildSetup::die_with_thread`).
        let mut launch = launch;
        launch.child.die_with_thread = self.daemon == Daemon::Fd;
        for warning in &launch.warnings {
            core.shim_message(msg::WARNING, warning);
        }
        let limits_summary = launch.limits.summary();
        let started = std::time::Instant::now();
        let value = |key| command.and_then(|c| c.value(key));
        let debugging = Debugging {
            attach: value("attach").map(std::path::Path::new),
            debugpy: value("debugpy"),
            wait: value("debug_wait")
                .and_then(|w| match crate::limits::parse_duration(w) {
                    Ok(crate::limits::Setting::Set(d)) => Some(d),
                    _ => None,
                })
                .unwrap_or(DEBUG_WAIT),
            record: value("record"),
            record_hash_only: value("record_data") == Some("hash"),
        };
        let attach = debugging.attach;
        let session = match Session::start(
            &config,
            launch,
            &debugging,
            self.daemon.name(),
            self.api_version,
            self.number,
        ) {
            Ok(s) => s,
            Err(failure) => {
                core.shim_message(msg::FATAL, &failure.to_string());
                return;
            }
        };
        let how = match attach {
            Some(socket) => format!("attached at {}", socket.display()),
            None => config.runner.display().to_string(),
        };
        core.debug_message(
            10,
            format!(
                "{}runner pid {} started (daemon pid {}), {how}, config {}, handshake after {:.1} ms\n",
                crate::daemon::prefix(self.daemon),
                session.pid(),
                std::process::id(),
                config.source.as_ref().map_or("defaults".into(), |p| p.display().to_string()),
                started.elapsed().as_secs_f64() * 1000.0
            )
            .as_bytes(),
        );
        core.debug_message(
            50,
            format!(
                "{}runner limits: {limits_summary}; plugin string for the runner: {}\n",
                crate::daemon::prefix(self.daemon),
                command.map_or_else(String::new, |c| options::redact(&c.stripped))
            )
            .as_bytes(),
        );
        // Which Python runs the plugin is the first thing to know when an
        // import fails, so it is in every job log, not only at debug level.
        let stretched = format!(
            "call deadlines are stretched to {}",
            crate::limits::format_duration(ATTACHED_DEADLINE)
        );
        let started_by = match (attach, debugging.debugpy) {
            (Some(socket), _) => format!(
                " (started by hand, attached at {}; {stretched})",
                socket.display()
            ),
            (None, Some(_)) => format!(" (debugpy; {stretched})"),
            (None, None) => String::new(),
        };
        core.shim_message(
            msg::INFO,
            &format!(
                "plugin runs out of process in sidecar-runner pid {}{started_by} with Python {}",
                session.pid(),
                session.python_version()
            ),
        );
        state.attached = debugging.interactive();
        self.set_canceller(Some(session.canceller()));
        state.runner = Runner::Running(Box::new(session));
        self.bring_up(state, core);
    }

    /// newPlugin and the replayed events for a fresh runner.
    fn bring_up(&self, state: &mut State, core: &mut dyn DaemonCore) {
        let new_plugin = call::Kind::NewPlugin(pb::Empty {});
        if self
            .call(state, core, new_plugin, Kind::Event, "new_plugin")
            .is_none()
        {
            return;
        }
        for event in std::mem::take(&mut state.replay) {
            let kind = call::Kind::HandlePluginEvent(event);
            if self
                .call(state, core, kind, Kind::Event, "handle_plugin_event")
                .is_none()
            {
                return;
            }
        }
    }

    /// freePlugin: let the plugin finish, end the runner, release everything.
    pub fn free(&self, core: &mut dyn DaemonCore) {
        let mut state = self.lock();
        if matches!(state.runner, Runner::Running(_)) {
            let free = call::Kind::FreePlugin(pb::Empty {});
            self.call(&mut state, core, free, Kind::Shutdown, "free_plugin");
        }
        self.set_canceller(None);
        if let Runner::Running(session) = std::mem::replace(&mut state.runner, Runner::Gone) {
            let pid = session.pid();
            if let Some(complaint) = session.close(core) {
                core.shim_message(
                    msg::WARNING,
                    &format!("the runner (pid {pid}) {complaint} at the end of the job"),
                );
            }
        }
        state.fds.clear();
    }

    /// Takes the descriptor the runner sent for `token` and returns the
    /// number the core should use. Without a descriptor the answer is -1:
    /// a number from the runner's descriptor table means nothing here, and
    /// the core must never read or write one of the daemon's own
    /// descriptors because a plugin named it.
    pub fn adopt_fd(
        &self,
        state: &mut State,
        core: &mut dyn DaemonCore,
        token: u64,
        filedes: i32,
    ) -> Option<i32> {
        if token == 0 {
            return Some(-1);
        }
        let Runner::Running(session) = &state.runner else {
            return None;
        };
        match session.receive_fd(token) {
            Ok(fd) => {
                let ours = fd.as_raw_fd();
                state.fds.insert(ours, (fd, filedes));
                Some(ours)
            }
            Err(failure) => {
                core.shim_message(msg::FATAL, &failure.to_string());
                None
            }
        }
    }
}

/// bRC_Term makes the core unload the plugin daemon-wide while other jobs
/// still use it (decision D5): it never reaches the core.
pub fn without_term(core: &dyn DaemonCore, rc: bRC, name: &str) -> bRC {
    if rc == bRC_Term {
        core.shim_message(
            msg::WARNING,
            &format!(
                "{name} returned bRC_Term (4), which would unload the plugin for the whole daemon; treated as bRC_OK"
            ),
        );
        return bRC_OK;
    }
    rc
}
