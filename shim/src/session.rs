//! One session with one runner: start, handshake, calls.
//!
//! A session is the gRPC control stream (handshake, cancel, liveness pings),
//! the call channel (calls, callbacks and logs as frames, see
//! `sidecar_proto::frames`), the descriptor channel and the I/O area (see the
//! .proto file). The session owns a current-thread tokio runtime that is only
//! driven while a daemon thread is inside [`Session::call`]. So the shim
//! starts no threads of its own, everything the runner asks of the core runs
//! on the thread that made the plugin call (the core's functions are tied to
//! the job thread), and nothing happens between calls.

use std::collections::VecDeque;
use std::os::fd::{AsFd, OwnedFd};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use hyper_util::rt::TokioIo;
use sidecar_proto::area::Area;
use sidecar_proto::frames::{self, Filled};
use sidecar_proto::runner_client::RunnerClient;
use sidecar_proto::{
    Call, CallResult, Hello, IoRequest, Log, RunnerMessage, ShimMessage, Welcome, call,
    call_result, runner_message, shim_message,
};
use tokio::io::AsyncReadExt;
use tokio::sync::mpsc::{UnboundedSender, unbounded_channel};
use tokio_stream::wrappers::UnboundedReceiverStream;
use tonic::Streaming;
use tonic::transport::{Endpoint, Uri};

use crate::backend::IoBuffer;
use crate::cancel::{CANCEL_GRACE, CancelState, Canceller};
use crate::channel::CallChannel;
use crate::config::{Config, Deadlines};
use crate::daemon::CoreHandler;
use crate::error::Error;
use crate::launch::Launch;
use crate::launch::process::{self, RunnerProcess};

/// How often the shim pings the runner during a call, and how long an
/// unanswered ping may take before the runner counts as gone.
const LIVENESS_INTERVAL: Duration = Duration::from_secs(5);
const LIVENESS_TIMEOUT: Duration = Duration::from_secs(10);

/// How long a call is served by the daemon thread alone (no runtime: no
/// liveness pings, output and cancels wait) before the session's runtime
/// takes over.
const QUICK_WINDOW: Duration = Duration::from_millis(20);

/// How much of the runner's own stdout/stderr to keep for crash reports
/// (room for the stacks of a few threads).
const OUTPUT_TAIL_BYTES: usize = 8192;

/// How long a runner that is to be stopped gets to print its stacks.
const STACK_DUMP_WAIT: Duration = Duration::from_millis(300);

/// What the plugin string asked for to debug the plugin (allowed by the
/// client's configuration).
#[derive(Default)]
pub struct Debugging<'a> {
    /// Connect to the runner served on this socket instead of spawning one.
    pub attach: Option<&'a Path>,
    /// Have the runner listen for a DAP client on this loopback HOST:PORT.
    pub debugpy: Option<&'a str>,
    /// How long the runner waits for that client.
    pub wait: Duration,
    /// Have the runner record the session to this file.
    pub record: Option<&'a str>,
    /// ... with plugin_io data as length and hash only.
    pub record_hash_only: bool,
}

impl Debugging<'_> {
    /// Is a person expected at the other end (calls may then take long)?
    pub fn interactive(&self) -> bool {
        self.attach.is_some() || self.debugpy.is_some()
    }
}

pub struct Session {
    /// The control stream.
    tx: UnboundedSender<ShimMessage>,
    inbound: Streaming<RunnerMessage>,
    calls: CallChannel,
    output: Option<tokio::net::unix::pipe::Receiver>,
    output_tail: VecDeque<u8>,
    output_line: Vec<u8>,
    process: RunnerProcess,
    fdpass: OwnedFd,
    next_id: u64,
    pub welcome: Welcome,
    pub deadlines: Deadlines,
    cancel: Arc<CancelState>,
    canceller: Canceller,
    // Last, so the I/O objects above are dropped while it still runs.
    rt: tokio::runtime::Runtime,
}

impl Session {
    /// Starts a runner for one plugin instance under the limits of
    /// `launch` (or, with `attach`, connects to the runner someone started
    /// by hand on that socket) and completes the handshake.
    pub fn start(
        config: &Config,
        launch: Launch,
        debugging: &Debugging<'_>,
        daemon: &str,
        api_version: u32,
        instance: u32,
    ) -> Result<Session, Error> {
        let fail = |what: &str, e: &dyn std::fmt::Display| Error::Start(format!("{what}: {e}"));
        let (ours, theirs) = std::os::unix::net::UnixStream::pair()
            .map_err(|e| fail("cannot create the session socket", &e))?;
        let (fdpass, fdpass_theirs) = sidecar_proto::fdpass::pair()
            .map_err(|e| fail("cannot create the descriptor socket", &e))?;
        let (calls, calls_theirs) =
            frames::pipes().map_err(|e| fail("cannot create the call pipes", &e))?;
        let (area, area_theirs) =
            Area::create().map_err(|e| fail("cannot create the I/O area", &e))?;
        let (cancel, cancel_theirs) =
            frames::pair().map_err(|e| fail("cannot create the cancel socket", &e))?;
        // In `sidecar_proto::fds` order.
        let inherit: [OwnedFd; process::INHERITED_COUNT] = [
            theirs.into(),
            fdpass_theirs,
            calls_theirs.read,
            area_theirs,
            cancel_theirs.into(),
            calls_theirs.write,
        ];
        let (process, out_r) = match debugging.attach {
            Some(path) => (
                attach_to(path, inherit, Deadlines::get(config.deadlines.startup))?,
                None,
            ),
            None => {
                let (out_r, out_w) = nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC)
                    .map_err(|e| fail("cannot create the output pipe", &e))?;
                let process = RunnerProcess::spawn(&config.runner, inherit, out_w, launch)
                    .map_err(|e| {
                        fail(
                            &format!("cannot start the runner {}", config.runner.display()),
                            &e,
                        )
                    })?;
                (process, Some(out_r))
            }
        };
        ours.set_nonblocking(true)
            .map_err(|e| fail("session socket", &e))?;

        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| fail("cannot create the session runtime", &e))?;
        let deadline = Deadlines::get(config.deadlines.startup);
        let pid = process.pid();
        let hello = Hello {
            protocol_version: sidecar_proto::PROTOCOL_VERSION,
            shim_version: sidecar_proto::BUILD_VERSION.to_string(),
            daemon: daemon.to_string(),
            plugin_api_version: api_version,
            instance,
            module_dir: config.plugin_dir.to_string_lossy().into_owned(),
            busy_wait_us: config.busy_wait.as_micros() as u32,
            follow_cpu: config.follow_cpu,
            debugpy: debugging.debugpy.unwrap_or_default().to_string(),
            debug_wait_s: debugging.wait.as_secs_f64(),
            record_path: debugging.record.unwrap_or_default().to_string(),
            record_hash_only: debugging.record_hash_only,
        };
        let mut process = Some(process);
        let mut output = {
            let _in_runtime = rt.enter();
            out_r.and_then(|r| tokio::net::unix::pipe::Receiver::from_owned_fd(r).ok())
        };
        let connected = rt.block_on(async {
            let stream =
                tokio::net::UnixStream::from_std(ours).map_err(|e| fail("session socket", &e))?;
            let calls = CallChannel::new(calls, area, config.busy_wait)
                .map_err(|e| fail("call pipes", &e))?;
            tokio::time::timeout(deadline, handshake(stream, hello))
                .await
                .map_err(|_| {
                    Error::Start(format!(
                        "the runner did not answer the handshake within {deadline:?}"
                    ))
                })?
                .map(|(tx, inbound, welcome)| (tx, inbound, welcome, calls))
        });
        let (tx, inbound, welcome, calls) = match connected {
            Ok(c) => c,
            Err(why) => {
                let mut p = process.take().expect("process");
                // A runner that died by itself may have hit a limit; give
                // one that is dying a moment to finish.
                let how = match p.wait_for(Duration::from_millis(500)) {
                    Some(s) => p.explain(s),
                    None => p
                        .terminate()
                        .map(process::describe)
                        .unwrap_or_else(|| "did not exit".into()),
                };
                // Why it could not start (no Python, a bad library path)
                // is in what it printed.
                let mut tail = VecDeque::new();
                rt.block_on(read_rest(&mut output, &mut tail, &mut |_| {}));
                let said = String::from_utf8_lossy(tail.make_contiguous())
                    .trim()
                    .to_string();
                let said = if said.is_empty() {
                    String::new()
                } else {
                    format!("; its last output:\n{said}")
                };
                return Err(Error::Start(format!(
                    "runner {} (pid {pid}) failed to start: {why}; it {how}{said}",
                    config.runner.display()
                )));
            }
        };
        if !welcome.refusal.is_empty() {
            return Err(Error::Start(format!(
                "the runner refused the session: {}",
                welcome.refusal
            )));
        }
        let cancel_state = Arc::new(CancelState::default());
        let mut process = process.take().expect("process");
        process.set_attached_pid(welcome.pid);
        Ok(Session {
            tx,
            inbound,
            calls,
            output,
            output_tail: VecDeque::new(),
            output_line: Vec::new(),
            process,
            fdpass,
            next_id: 1,
            welcome,
            deadlines: config.deadlines.clone(),
            canceller: Canceller::new(cancel, cancel_state.clone()),
            cancel: cancel_state,
            rt,
        })
    }

    pub fn pid(&self) -> u32 {
        self.process.pid()
    }

    /// A handle that can tell the session about a cancel from another
    /// thread.
    pub fn canceller(&self) -> Canceller {
        self.canceller.clone()
    }

    /// pluginIO straight between the core's buffer and the I/O area (see
    /// [`Backend::plugin_io`](crate::backend::Backend::plugin_io)).
    pub fn plugin_io(
        &mut self,
        mut req: IoRequest,
        buf: IoBuffer<'_>,
        deadline: Duration,
        core: &mut dyn CoreHandler,
    ) -> Result<(CallResult, usize), Error> {
        if let IoBuffer::Write(data) = buf {
            self.calls.place_write_data(&mut req, data);
        }
        let mut result = self.call(call::Kind::PluginIo(req), deadline, core)?;
        let placed = match (buf_for_read(buf), &mut result.payload) {
            (Some(out), Some(call_result::Payload::Io(io))) => {
                self.calls.take_read_data(io, out)?
            }
            _ => 0,
        };
        Ok((result, placed))
    }

    /// Makes one plugin call and serves the runner's callbacks until its
    /// result arrives or `deadline` expires. (pluginIO goes through
    /// [`Session::plugin_io`], which moves its data through the I/O area.)
    pub fn call(
        &mut self,
        kind: call::Kind,
        deadline: Duration,
        core: &mut dyn CoreHandler,
    ) -> Result<CallResult, Error> {
        // The job's wall time limit (`limits`) shortens the call's deadline.
        let (deadline, walltime) = match self.process.walltime_left() {
            Some((left, msg)) if left.is_zero() => return Err(Error::Deadline(msg)),
            Some((left, msg)) if left < deadline => (left, Some(msg)),
            _ => (deadline, None),
        };
        // After a cancel every call gets the grace period at most.
        let cancelled = |c: &CancelState| c.cancelled();
        let (deadline, mut cancel_seen) = if cancelled(&self.cancel) && deadline > CANCEL_GRACE {
            (CANCEL_GRACE, true)
        } else {
            (deadline, cancelled(&self.cancel))
        };
        // Liveness between calls: a runner that died while the daemon did
        // other work is named now, not discovered as a broken stream.
        if let Some(status) = self.process.wait_for(Duration::ZERO) {
            return Err(Error::RunnerGone(format!(
                "the runner had ended before the call: it {}",
                self.process.explain(status)
            )));
        }
        let id = self.next_id;
        self.next_id += 1;
        let request = ShimMessage {
            kind: Some(shim_message::Kind::Call(Call {
                id,
                kind: Some(kind),
                cpu: nix::sched::sched_getcpu()
                    .ok()
                    .and_then(|c| u32::try_from(c).ok()),
            })),
        };
        let started = std::time::Instant::now();
        self.calls.send(&request, deadline)?;
        let Session {
            rt,
            inbound,
            calls,
            output,
            output_tail,
            output_line,
            process,
            cancel,
            ..
        } = self;
        let serve = |calls: &mut CallChannel, core: &mut dyn CoreHandler| {
            let left = deadline.saturating_sub(started.elapsed());
            serve_frames(calls, id, left, core, process)
        };

        // Most calls end within microseconds: serve them on this thread
        // alone, without the runtime. (Not after a cancel: the runtime must
        // run to deliver it.)
        let window = if cancel_seen {
            Duration::ZERO
        } else {
            deadline.min(QUICK_WINDOW)
        };
        loop {
            if let Some(result) = serve(calls, core)? {
                return Ok(result);
            }
            let left = window.saturating_sub(started.elapsed());
            if cancelled(cancel) || left.is_zero() {
                break;
            }
            let also = output.as_ref().map(|o| o.as_fd());
            if calls.wait(left, also)? != Filled::Data {
                break;
            }
        }

        // A long call: the runtime keeps the control stream (liveness
        // pings, the cancel) going and reads the runner's output.
        let deadline_at = tokio::time::Instant::from_std(started) + deadline;
        rt.block_on(async {
            let mut expiry = deadline_at;
            let mut buf = [0u8; 4096];
            loop {
                tokio::select! {
                    ready = calls.readable() => {
                        ready?;
                        if let Some(result) = serve(calls, core)? {
                            return Ok(result);
                        }
                    }
                    // Nothing but the end comes on the control stream now;
                    // it ends when the liveness pings go unanswered.
                    msg = inbound.message() => {
                        return Err(match msg {
                            Ok(Some(_)) => Error::Protocol("protocol violation: a message on the control stream".into()),
                            Ok(None) => Error::RunnerGone("the runner closed the session".into()),
                            Err(status) => Error::RunnerGone(format!("the session broke: {}", status.message())),
                        });
                    }
                    n = read_output(output, &mut buf) => {
                        match n {
                            Some(n) => keep_output(output_tail, output_line, &buf[..n], core),
                            None => *output = None,
                        }
                    }
                    _ = cancel.notify.notified(), if !cancel_seen => {
                        cancel_seen = true;
                        expiry = expiry.min(tokio::time::Instant::now() + CANCEL_GRACE);
                    }
                    _ = tokio::time::sleep_until(expiry) => {
                        if cancel_seen {
                            return Err(Error::Deadline(format!(
                                "the job was cancelled and the plugin did not return within {CANCEL_GRACE:?} of the cancel"
                            )));
                        }
                        if let Some(msg) = walltime {
                            return Err(Error::Deadline(msg));
                        }
                        return Err(Error::Deadline(format!("deadline expired: no answer within {deadline:?}")));
                    }
                }
            }
        })
    }

    /// Receives a descriptor the runner sent along with a result.
    pub fn receive_fd(&self, token: u64) -> Result<OwnedFd, Error> {
        use std::os::fd::AsFd;
        sidecar_proto::fdpass::recv(self.fdpass.as_fd(), token, Duration::from_secs(10))
            .map_err(|e| Error::Protocol(format!("the runner's descriptor did not arrive: {e}")))
    }

    /// Closes the session and waits (bounded) for the runner to exit.
    pub fn close(mut self, core: &mut dyn CoreHandler) -> Option<String> {
        let deadline = Deadlines::get(self.deadlines.shutdown);
        drop(self.tx);
        // Drain what the runner still says until it hangs up.
        let started = std::time::Instant::now();
        loop {
            match self.calls.next_message() {
                Ok(Some(msg)) => {
                    if let Some(runner_message::Kind::Log(log)) = msg.kind {
                        core.log(log);
                    }
                    continue;
                }
                Ok(None) => {}
                Err(_) => break,
            }
            let left = deadline.saturating_sub(started.elapsed());
            if left.is_zero() || !matches!(self.calls.wait(left, None), Ok(Filled::Data)) {
                break;
            }
        }
        let process = &mut self.process;
        if process.is_attached() {
            // Its exit is the business of whoever started it; the session
            // has ended (the drain above saw it hang up).
            return None;
        }
        match process.wait_for(deadline) {
            Some(s) if s.success() => None,
            Some(s) => Some(process.explain(s)),
            None => {
                process.terminate();
                Some(format!("did not exit within {deadline:?} and was killed"))
            }
        }
    }

    /// After a failure: ends the runner and explains what happened to it,
    /// including the last lines it printed (Python's faulthandler writes the
    /// plugin's stack there on a crash).
    pub fn kill(mut self, core: &mut dyn CoreHandler) -> String {
        // Give a crashing runner a moment to finish dying so its status and
        // last words are known.
        let status = match self.process.wait_for(Duration::from_millis(500)) {
            Some(s) => self.process.explain(s),
            None => {
                // Alive but not answering: first the line the plugin is
                // stuck on (every thread's Python stack, on its output).
                self.process.dump_stacks(STACK_DUMP_WAIT);
                let s = self.process.terminate();
                let how = s
                    .map(process::describe)
                    .unwrap_or_else(|| "could not be reaped".into());
                format!("was stopped by the shim ({how})")
            }
        };
        // Collect the rest of its output (bounded: the pipe is closed now).
        let Session {
            rt,
            output,
            output_tail,
            output_line,
            ..
        } = &mut self;
        rt.block_on(read_rest(output, output_tail, &mut |bytes| {
            keep_output_lines(output_line, bytes, core)
        }));
        let tail: Vec<u8> = self.output_tail.iter().copied().collect();
        let tail = String::from_utf8_lossy(&tail);
        let tail = tail.trim();
        if tail.is_empty() {
            format!("the runner (pid {}) {status}", self.process.pid())
        } else {
            format!(
                "the runner (pid {}) {status}; its last output:\n{tail}",
                self.process.pid()
            )
        }
    }
}

/// Connects to a runner started by hand (`sidecar-runner serve --socket
/// PATH`) and hands it the session (`sidecar_proto::attach`), after making
/// sure it runs as root or as the daemon's user.
fn attach_to(
    path: &Path,
    session: [OwnedFd; process::INHERITED_COUNT],
    deadline: Duration,
) -> Result<RunnerProcess, Error> {
    use sidecar_proto::attach;
    let refused = |why: String| Error::Refused(format!("attach to {}: {why}", path.display()));
    let stream = std::os::unix::net::UnixStream::connect(path).map_err(|e| {
        Error::Start(format!(
            "cannot attach to a runner at {}: {e} (start one with `sidecar-runner serve --socket {}`)",
            path.display(),
            path.display()
        ))
    })?;
    let (uid, pid) = attach::peer(&stream).map_err(|e| refused(e.to_string()))?;
    let own = nix::unistd::geteuid().as_raw();
    if !attach::allowed(uid, own) {
        return Err(refused(format!(
            "the runner there runs as uid {uid}; only root or uid {own} may serve this daemon"
        )));
    }
    let borrowed = session.each_ref().map(|fd| fd.as_fd());
    attach::hand_over(&stream, borrowed, deadline).map_err(|e| match e.kind() {
        std::io::ErrorKind::PermissionDenied => refused(e.to_string()),
        _ => Error::Start(format!("attach to {}: {e}", path.display())),
    })?;
    // The runner has its copies now; ours close here.
    drop(session);
    Ok(RunnerProcess::attached(pid as u32))
}

async fn handshake(
    stream: tokio::net::UnixStream,
    hello: Hello,
) -> Result<
    (
        UnboundedSender<ShimMessage>,
        Streaming<RunnerMessage>,
        Welcome,
    ),
    Error,
> {
    // The socket is already connected: hand it to tonic exactly once.
    let slot = Arc::new(Mutex::new(Some(stream)));
    // HTTP/2 pings while a call is in progress: a runner that stops
    // answering at all (stopped, wedged in the kernel) fails the call after
    // LIVENESS_TIMEOUT instead of at the call's deadline, which may be long.
    let channel = Endpoint::from_static("http://runner.sidecar")
        .http2_keep_alive_interval(LIVENESS_INTERVAL)
        .keep_alive_timeout(LIVENESS_TIMEOUT)
        .keep_alive_while_idle(true)
        .connect_with_connector(tower::service_fn(move |_: Uri| {
            let stream = slot.lock().unwrap_or_else(|e| e.into_inner()).take();
            async move {
                stream.map(TokioIo::new).ok_or_else(|| {
                    std::io::Error::new(
                        std::io::ErrorKind::NotConnected,
                        "the runner session cannot be reopened",
                    )
                })
            }
        }))
        .await
        .map_err(|e| Error::Start(format!("cannot connect to the runner: {e}")))?;
    let mut client = RunnerClient::new(channel)
        .max_decoding_message_size(sidecar_proto::MAX_MESSAGE_BYTES)
        .max_encoding_message_size(sidecar_proto::MAX_MESSAGE_BYTES);
    let (tx, rx) = unbounded_channel();
    let _ = tx.send(ShimMessage {
        kind: Some(shim_message::Kind::Hello(hello)),
    });
    let mut inbound = client
        .session(UnboundedReceiverStream::new(rx))
        .await
        .map_err(|s| Error::Start(format!("the runner rejected the session: {}", s.message())))?
        .into_inner();
    match inbound.message().await {
        Ok(Some(RunnerMessage {
            kind: Some(runner_message::Kind::Welcome(w)),
        })) => Ok((tx, inbound, w)),
        Ok(_) => Err(Error::Protocol(
            "protocol violation: the runner did not start with Welcome".into(),
        )),
        Err(s) => Err(Error::Start(format!(
            "the session broke during the handshake: {}",
            s.message()
        ))),
    }
}

fn buf_for_read(buf: IoBuffer<'_>) -> Option<&mut [u8]> {
    match buf {
        IoBuffer::Read(out) => Some(out),
        _ => None,
    }
}

/// Handles what has arrived on the call channel: callbacks are executed
/// and answered, logs emitted; the result of call `id` ends the call.
fn serve_frames(
    calls: &mut CallChannel,
    id: u64,
    left: Duration,
    core: &mut dyn CoreHandler,
    process: &RunnerProcess,
) -> Result<Option<CallResult>, Error> {
    while let Some(msg) = calls.next_message()? {
        match msg.kind {
            Some(runner_message::Kind::Result(r)) if r.id == id => return Ok(Some(r)),
            Some(runner_message::Kind::Result(r)) => {
                return Err(Error::Protocol(format!(
                    "protocol violation: result for call {} while waiting for call {id}",
                    r.id
                )));
            }
            Some(runner_message::Kind::Callback(cb)) => {
                let reply = ShimMessage {
                    kind: Some(shim_message::Kind::CallbackReply(core.callback(cb))),
                };
                calls.send(&reply, left)?;
            }
            Some(runner_message::Kind::Log(log)) => core.log(annotate(process, log)),
            Some(runner_message::Kind::Welcome(_) | runner_message::Kind::CancelResult(_))
            | None => {
                return Err(Error::Protocol(
                    "protocol violation: unexpected message from the runner".into(),
                ));
            }
        }
    }
    Ok(None)
}

/// Adds a hint to a job message from the runner that shows the plugin ran
/// into one of its limits (MemoryError, EMFILE, ...; see `limits`).
fn annotate(process: &RunnerProcess, mut log: Log) -> Log {
    if let Some(sidecar_proto::log::Kind::Job(m)) = &mut log.kind
        && let Some(hint) = process.limits().annotate(&m.text)
    {
        while m.text.last() == Some(&b'\n') {
            m.text.pop();
        }
        m.text.push(b'\n');
        m.text.extend_from_slice(hint.as_bytes());
        m.text.push(b'\n');
    }
    log
}

/// Reads the runner's stdout/stderr pipe; `None` at EOF or without a pipe
/// (then it never completes, so `select!` ignores it).
async fn read_output(
    output: &mut Option<tokio::net::unix::pipe::Receiver>,
    buf: &mut [u8],
) -> Option<usize> {
    match output {
        Some(pipe) => match pipe.read(buf).await {
            Ok(0) | Err(_) => None,
            Ok(n) => Some(n),
        },
        None => std::future::pending().await,
    }
}

/// Reads what is left of a runner's output once it has ended (bounded: the
/// pipe may be held open by a process the plugin started), keeping the tail
/// and handing every chunk to `each`.
async fn read_rest(
    output: &mut Option<tokio::net::unix::pipe::Receiver>,
    tail: &mut VecDeque<u8>,
    each: &mut dyn FnMut(&[u8]),
) {
    let mut buf = [0u8; 4096];
    let _ = tokio::time::timeout(Duration::from_millis(200), async {
        while let Some(n) = read_output(output, &mut buf).await {
            keep_tail(tail, &buf[..n]);
            each(&buf[..n]);
        }
    })
    .await;
}

fn keep_tail(tail: &mut VecDeque<u8>, bytes: &[u8]) {
    tail.extend(bytes);
    while tail.len() > OUTPUT_TAIL_BYTES {
        tail.pop_front();
    }
}

/// Forwards complete lines of runner output as debug messages and keeps the
/// tail for crash reports.
fn keep_output(
    tail: &mut VecDeque<u8>,
    line: &mut Vec<u8>,
    bytes: &[u8],
    core: &mut dyn CoreHandler,
) {
    keep_tail(tail, bytes);
    keep_output_lines(line, bytes, core);
}

fn keep_output_lines(line: &mut Vec<u8>, bytes: &[u8], core: &mut dyn CoreHandler) {
    for &b in bytes {
        if b == b'\n' {
            let mut text = b"runner: ".to_vec();
            text.append(line);
            core.log(Log {
                kind: Some(sidecar_proto::log::Kind::Debug(
                    sidecar_proto::DebugMessage { level: 100, text },
                )),
            });
        } else if line.len() < OUTPUT_TAIL_BYTES {
            line.push(b);
        }
    }
}
