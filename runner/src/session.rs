//! The runner's side of a session: serve one `Session` stream for the shim
//! and run the plugin's calls on the main thread, which owns Python.
//!
//! Threads: the main thread runs Python (one plugin instance per process, so
//! no sub-interpreters); one tokio worker thread runs the gRPC server and
//! routes inbound messages: calls to the main thread, callback replies to
//! whoever waits in `core::call`.

use std::os::fd::{FromRawFd, OwnedFd, RawFd};
use std::pin::Pin;
use std::process::ExitCode;
use std::sync::{Mutex, mpsc};
use std::time::Duration;

use pyo3::prelude::*;
use sidecar_proto::runner_server::{Runner, RunnerServer};
use sidecar_proto::{
    CallResult, CallbackReply, RunnerMessage, ShimMessage, Welcome, call, runner_message,
    shim_message,
};
use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender, unbounded_channel};
use tokio_stream::{Stream, StreamExt};
use tonic::{Request, Response, Status, Streaming};

use crate::{bareosfd, core, plugin::Plugin};

/// Descriptors the shim hands a spawned runner.
const SESSION_FD: RawFd = 3;
const FDPASS_FD: RawFd = 4;

/// After the shim went away, how long Python may take to notice before the
/// process ends anyway.
const ORPHAN_GRACE: Duration = Duration::from_secs(10);

/// What the main thread executes.
struct Job {
    id: u64,
    kind: call::Kind,
}

pub fn main() -> ExitCode {
    init_tracing();
    let (session, fdpass) = match inherited_sockets() {
        Ok(fds) => fds,
        Err(e) => {
            eprintln!(
                "sidecar-runner: {e}\n\
                 It is started by the bareos-sidecar shim (python3-fd.so) with its session \
                 sockets as descriptors {SESSION_FD} and {FDPASS_FD}."
            );
            return ExitCode::from(2);
        }
    };
    match serve(session, fdpass) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!("session failed: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn init_tracing() {
    // stderr is a pipe the shim reads: it keeps the tail for crash reports.
    let filter = tracing_subscriber::EnvFilter::try_from_env("SIDECAR_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .try_init();
}

/// Takes ownership of descriptors 3 and 4 after checking they are sockets.
fn inherited_sockets() -> anyhow::Result<(OwnedFd, OwnedFd)> {
    let mut out = Vec::new();
    for fd in [SESSION_FD, FDPASS_FD] {
        // SAFETY: fstat on an arbitrary descriptor number only reads metadata.
        let mut st: libc::stat = unsafe { std::mem::zeroed() };
        if unsafe { libc::fstat(fd, &mut st) } != 0 || (st.st_mode & libc::S_IFMT) != libc::S_IFSOCK
        {
            anyhow::bail!("descriptor {fd} is not a socket");
        }
        // Keep them away from processes the plugin starts.
        // SAFETY: fd is open (fstat succeeded); F_SETFD only changes its flags.
        unsafe { libc::fcntl(fd, libc::F_SETFD, libc::FD_CLOEXEC) };
        // SAFETY: the shim handed us this descriptor; nothing else in this
        // process owns it.
        out.push(unsafe { OwnedFd::from_raw_fd(fd) });
    }
    let fdpass = out.pop().expect("two fds");
    let session = out.pop().expect("two fds");
    Ok((session, fdpass))
}

fn serve(session: OwnedFd, fdpass: OwnedFd) -> anyhow::Result<()> {
    bareosfd::register();
    pyo3::prepare_freethreaded_python();
    let python_version = Python::with_gil(|py| py.version().to_string());

    let (out_tx, out_rx) = unbounded_channel::<RunnerMessage>();
    let (jobs_tx, jobs_rx) = mpsc::channel::<Job>();
    let (replies_tx, replies_rx) = mpsc::channel::<CallbackReply>();
    let (closed_tx, closed_rx) = mpsc::channel::<()>();
    core::install(out_tx.clone(), replies_rx, fdpass);

    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .thread_name("sidecar-io")
        .enable_all()
        .build()?;
    let service = Service {
        parts: Mutex::new(Some(Parts {
            out_tx: out_tx.clone(),
            out_rx,
            jobs_tx,
            replies_tx,
            closed_tx,
            python_version,
        })),
    };
    let std_stream = std::os::unix::net::UnixStream::from(session);
    std_stream.set_nonblocking(true)?;
    rt.spawn(async move {
        let stream = match tokio::net::UnixStream::from_std(std_stream) {
            Ok(s) => s,
            Err(e) => {
                tracing::error!("session socket: {e}");
                return;
            }
        };
        let incoming = tokio_stream::once(Ok::<_, std::io::Error>(stream));
        let server = RunnerServer::new(service)
            .max_decoding_message_size(sidecar_proto::MAX_MESSAGE_BYTES)
            .max_encoding_message_size(sidecar_proto::MAX_MESSAGE_BYTES);
        if let Err(e) = tonic::transport::Server::builder()
            .add_service(server)
            .serve_with_incoming(incoming)
            .await
        {
            tracing::error!("session server: {e}");
        }
    });

    Python::with_gil(|py| {
        let mut plugin = Plugin::new(py);
        let mut jobs = jobs_rx;
        loop {
            // Between calls the GIL is released, so threads the plugin
            // started keep running. (The receiver moves into the closure and
            // back: it is Send but not Sync.)
            let (next, rx) = py.allow_threads(move || (jobs.recv(), jobs));
            jobs = rx;
            let Ok(job) = next else { break };
            let last = matches!(job.kind, call::Kind::FreePlugin(_));
            core::set_in_call(true);
            let (rc, payload) = plugin.dispatch(py, job.kind);
            core::set_in_call(false);
            let result = CallResult {
                id: job.id,
                rc,
                payload,
            };
            let msg = RunnerMessage {
                kind: Some(runner_message::Kind::Result(result)),
            };
            if out_tx.send(msg).is_err() || last {
                break;
            }
        }
    });
    // Let the last result reach the shim: it closes the session once it has
    // the freePlugin result.
    drop(out_tx);
    let _ = closed_rx.recv_timeout(Duration::from_secs(5));
    rt.shutdown_background();
    Ok(())
}

/// What the one session needs; taken by the first (and only) `Session` call.
struct Parts {
    out_tx: UnboundedSender<RunnerMessage>,
    out_rx: UnboundedReceiver<RunnerMessage>,
    jobs_tx: mpsc::Sender<Job>,
    replies_tx: mpsc::Sender<CallbackReply>,
    closed_tx: mpsc::Sender<()>,
    python_version: String,
}

struct Service {
    parts: Mutex<Option<Parts>>,
}

type OutStream = Pin<Box<dyn Stream<Item = Result<RunnerMessage, Status>> + Send>>;

#[tonic::async_trait]
impl Runner for Service {
    type SessionStream = OutStream;

    async fn session(
        &self,
        request: Request<Streaming<ShimMessage>>,
    ) -> Result<Response<OutStream>, Status> {
        let parts = self
            .parts
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take()
            .ok_or_else(|| Status::already_exists("a runner serves exactly one session"))?;
        let mut inbound = request.into_inner();

        // The handshake comes first; answer it before anything else.
        let hello = match inbound.message().await? {
            Some(ShimMessage {
                kind: Some(shim_message::Kind::Hello(h)),
            }) => h,
            _ => {
                return Err(Status::failed_precondition(
                    "the session must start with Hello",
                ));
            }
        };
        let refusal = handshake_refusal(&hello);
        let welcome = Welcome {
            protocol_version: sidecar_proto::PROTOCOL_VERSION,
            runner_version: sidecar_proto::BUILD_VERSION.to_string(),
            refusal: refusal.clone().unwrap_or_default(),
            pid: std::process::id(),
            python_version: parts.python_version.clone(),
        };
        let _ = parts.out_tx.send(RunnerMessage {
            kind: Some(runner_message::Kind::Welcome(welcome)),
        });
        if refusal.is_none() {
            if !hello.module_dir.is_empty() {
                crate::plugin::set_default_module_dir(hello.module_dir.clone());
            }
            tokio::spawn(route(
                inbound,
                parts.jobs_tx,
                parts.replies_tx,
                parts.closed_tx,
            ));
        }
        let out = tokio_stream::wrappers::UnboundedReceiverStream::new(parts.out_rx).map(Ok);
        Ok(Response::new(Box::pin(out)))
    }
}

fn handshake_refusal(hello: &sidecar_proto::Hello) -> Option<String> {
    if hello.protocol_version != sidecar_proto::PROTOCOL_VERSION {
        return Some(format!(
            "protocol version mismatch: shim speaks {}, runner speaks {}",
            hello.protocol_version,
            sidecar_proto::PROTOCOL_VERSION
        ));
    }
    if hello.shim_version != sidecar_proto::BUILD_VERSION {
        return Some(format!(
            "version mismatch: shim {} but runner {}; install both from the same release",
            hello.shim_version,
            sidecar_proto::BUILD_VERSION
        ));
    }
    if hello.daemon != "fd" || hello.plugin_api_version != 10 {
        return Some(format!(
            "unsupported plugin API: {} interface version {} (this runner hosts fd version 10)",
            hello.daemon, hello.plugin_api_version
        ));
    }
    None
}

/// Routes inbound messages until the shim closes the session.
async fn route(
    mut inbound: Streaming<ShimMessage>,
    jobs: mpsc::Sender<Job>,
    replies: mpsc::Sender<CallbackReply>,
    closed: mpsc::Sender<()>,
) {
    loop {
        let msg = match inbound.message().await {
            Ok(Some(m)) => m,
            Ok(None) => break,
            Err(status) => {
                tracing::warn!("session ended: {status}");
                break;
            }
        };
        match msg.kind {
            Some(shim_message::Kind::Call(c)) => match c.kind {
                Some(kind) => {
                    if jobs.send(Job { id: c.id, kind }).is_err() {
                        break;
                    }
                }
                None => tracing::warn!(id = c.id, "ignoring a call without a kind"),
            },
            Some(shim_message::Kind::CallbackReply(r)) => {
                let _ = replies.send(r);
            }
            Some(shim_message::Kind::Cancel(_)) => {
                tracing::info!("the daemon cancelled the job");
                crate::plugin::deliver_cancel();
            }
            Some(shim_message::Kind::Hello(_)) | None => {
                tracing::warn!("ignoring an unexpected message");
            }
        }
    }
    // The shim is gone: unblock the main thread, and make sure a plugin
    // stuck in Python cannot keep this process alive.
    drop(jobs);
    drop(replies);
    let _ = closed.send(());
    tokio::time::sleep(ORPHAN_GRACE).await;
    tracing::error!("the daemon closed the session but the plugin did not return; exiting");
    std::process::exit(1);
}
