//! The runner's side of a session: serve the gRPC control stream for the
//! shim and run the plugin's calls on the main thread, which owns Python.
//!
//! The Hello names the daemon (file daemon, director, storage daemon), which
//! decides the dispatcher (`plugin` for the FD, `dirsd_plugin` for the
//! others) and the one module the plugin may import.
//!
//! Threads: the main thread runs Python (one plugin instance per process, so
//! no sub-interpreters) and reads the calls from the call channel itself
//! (`core::next_call`, with the GIL released); one tokio worker thread runs
//! the gRPC server for the handshake, cancels and the shim's liveness pings.

use std::os::fd::{FromRawFd, OwnedFd, RawFd};
use std::pin::Pin;
use std::process::ExitCode;
use std::sync::Mutex;
use std::time::Duration;

use pyo3::prelude::*;
use sidecar_proto::area::Area;
use sidecar_proto::fds;
use sidecar_proto::frames::{Channel, Ends};
use sidecar_proto::runner_server::{Runner, RunnerServer};
use sidecar_proto::{
    Call, CallResult, RunnerMessage, ShimMessage, Welcome, call, call_result, runner_message,
    shim_message,
};
use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender, unbounded_channel};
use tokio_stream::{Stream, StreamExt};
use tonic::{Request, Response, Status, Streaming};

use crate::daemon::{self, Daemon};
use crate::dispatcher::Dispatcher;
use crate::embedding::{self, Mode};
use crate::{cancel, colocation, core, recording};

/// After the shim went away, how long Python may take to notice before the
/// process ends anyway.
const ORPHAN_GRACE: Duration = Duration::from_secs(10);

/// What the shim handed over at start.
struct Inherited {
    session: OwnedFd,
    fdpass: OwnedFd,
    calls: OwnedFd,
    area: OwnedFd,
    cancel: OwnedFd,
    results: OwnedFd,
}

pub fn main() -> ExitCode {
    init_tracing();
    let fds = match inherited() {
        Ok(fds) => fds,
        Err(e) => {
            eprintln!(
                "sidecar-runner: {e}\n\
                 It is started by the bareos-sidecar shim (python3-fd.so) with its session \
                 sockets as descriptors {}, {} and {}, its call pipes as {} and {} and its \
                 I/O area as descriptor {}.",
                fds::SESSION,
                fds::FDPASS,
                fds::CANCEL,
                fds::CALLS,
                fds::RESULTS,
                fds::AREA
            );
            return ExitCode::from(2);
        }
    };
    match serve(fds) {
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

/// Takes ownership of descriptors 3 to 8 after checking what they are.
fn inherited() -> anyhow::Result<Inherited> {
    let take = |fd: RawFd, kind: libc::mode_t| -> anyhow::Result<OwnedFd> {
        // SAFETY: fstat on an arbitrary descriptor number only reads metadata.
        let mut st: libc::stat = unsafe { std::mem::zeroed() };
        if unsafe { libc::fstat(fd, &mut st) } != 0 || (st.st_mode & libc::S_IFMT) != kind {
            let what = match kind {
                libc::S_IFSOCK => "a socket",
                libc::S_IFIFO => "a pipe",
                _ => "a memfd",
            };
            anyhow::bail!("descriptor {fd} is not {what}");
        }
        // Keep them away from processes the plugin starts.
        // SAFETY: fd is open (fstat succeeded); F_SETFD only changes its flags.
        unsafe { libc::fcntl(fd, libc::F_SETFD, libc::FD_CLOEXEC) };
        // SAFETY: the shim handed us this descriptor; nothing else in this
        // process owns it.
        Ok(unsafe { OwnedFd::from_raw_fd(fd) })
    };
    Ok(Inherited {
        session: take(fds::SESSION, libc::S_IFSOCK)?,
        fdpass: take(fds::FDPASS, libc::S_IFSOCK)?,
        calls: take(fds::CALLS, libc::S_IFIFO)?,
        area: take(fds::AREA, libc::S_IFREG)?,
        cancel: take(fds::CANCEL, libc::S_IFSOCK)?,
        results: take(fds::RESULTS, libc::S_IFIFO)?,
    })
}

fn serve(fds: Inherited) -> anyhow::Result<()> {
    // Python starts before the Hello names the daemon: all three modules
    // are built in, and each refuses to load in another daemon's runner.
    daemon::register_modules();
    embedding::initialize(Mode::Plugin).map_err(anyhow::Error::msg)?;
    let python_version = Python::with_gil(|py| {
        colocation::prepare(py);
        py.version().to_string()
    });

    let area = Area::open(fds.area)?;
    let calls = Channel::new(Ends {
        read: fds.calls,
        write: fds.results,
    })?;
    core::install(calls, fds.fdpass, area)?;
    core::install_cancel(Channel::from_socket(fds.cancel)?)?;
    cancel::start()?;
    let (out_tx, out_rx) = unbounded_channel::<RunnerMessage>();

    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .thread_name("sidecar-io")
        .enable_all()
        .build()?;
    let service = Service {
        parts: Mutex::new(Some(Parts {
            out_tx,
            out_rx,
            python_version,
        })),
    };
    let std_stream = std::os::unix::net::UnixStream::from(fds.session);
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

    let outcome = Python::with_gil(|py| -> anyhow::Result<()> {
        // Created at the first call, which comes after the handshake.
        let mut plugin: Option<Dispatcher> = None;
        loop {
            // Between calls the GIL is released, so threads the plugin
            // started keep running.
            let call = match py.allow_threads(core::next_call) {
                Ok(call) => call,
                Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => return Ok(()),
                Err(e) => return Err(e.into()),
            };
            let Call { id, kind, .. } = call;
            let Some(mut kind) = kind else {
                anyhow::bail!("protocol violation: call {id} without a kind");
            };
            let last = matches!(kind, call::Kind::FreePlugin(_));
            take_written_data(&mut kind)?;
            if recording::active() {
                recording::call(&Call {
                    id,
                    kind: Some(kind.clone()),
                    cpu: None,
                });
            }
            let plugin = plugin.get_or_insert_with(|| Dispatcher::new(py));
            let (rc, payload) = plugin.dispatch(py, kind);
            let result = CallResult { id, rc, payload };
            if recording::active() {
                let read = match &result.payload {
                    Some(call_result::Payload::Io(io)) => io.area_len.and_then(core::written_data),
                    _ => None,
                };
                recording::result(&result, read.as_deref());
            }
            core::finish_call(result)?;
            if last {
                return Ok(());
            }
        }
    });
    // The freePlugin result is written (synchronously, on the call
    // channel): nothing is left to deliver.
    rt.shutdown_background();
    outcome
}

/// IO_WRITE data the shim left in the I/O area becomes the request's `buf`.
/// (IO_READ data goes the other way in `bareosfd::io_packet_back`.)
fn take_written_data(kind: &mut call::Kind) -> anyhow::Result<()> {
    if let call::Kind::PluginIo(io) = kind
        && let Some(len) = io.area_len.take()
    {
        io.buf = core::written_data(len).ok_or_else(|| {
            anyhow::anyhow!(
                "protocol violation: {len} bytes of IO_WRITE data do not fit the I/O area"
            )
        })?;
    }
    Ok(())
}

/// What the one session needs; taken by the first (and only) `Session` call.
struct Parts {
    out_tx: UnboundedSender<RunnerMessage>,
    out_rx: UnboundedReceiver<RunnerMessage>,
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
        let mut refusal = handshake_refusal(&hello);
        if refusal.is_none()
            && let Err(e) = recording::start(&hello)
        {
            refusal = Some(format!("cannot record the session: {e}"));
        }
        // Before the welcome: the shim's first call may follow right after it.
        if refusal.is_none() {
            if let Some(d) = Daemon::from_hello(&hello.daemon, hello.plugin_api_version) {
                daemon::set_served(d);
            }
            if !hello.module_dir.is_empty() {
                crate::plugin::set_default_module_dir(hello.module_dir.clone());
            }
            colocation::configure(hello.follow_cpu, hello.busy_wait_us);
            if let Err(e) = crate::debugger::configure(&hello.debugpy, hello.debug_wait_s) {
                tracing::warn!("sidecar.debugpy: {e}");
            }
        }
        let welcome = Welcome {
            protocol_version: sidecar_proto::PROTOCOL_VERSION,
            runner_version: sidecar_proto::BUILD_VERSION.to_string(),
            refusal: refusal.clone().unwrap_or_default(),
            pid: std::process::id(),
            python_version: parts.python_version.clone(),
            python_executable: embedding::describe(),
        };
        let _ = parts.out_tx.send(RunnerMessage {
            kind: Some(runner_message::Kind::Welcome(welcome)),
        });
        if refusal.is_none() {
            tokio::spawn(route(inbound, parts.out_tx));
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
    if Daemon::from_hello(&hello.daemon, hello.plugin_api_version).is_none() {
        return Some(format!(
            "unsupported plugin API: {:?} interface version {} (this runner hosts {})",
            hello.daemon,
            hello.plugin_api_version,
            Daemon::SUPPORTED
        ));
    }
    None
}

/// Serves the control stream until the shim closes it. `out` keeps the
/// response stream open for as long.
async fn route(mut inbound: Streaming<ShimMessage>, out: UnboundedSender<RunnerMessage>) {
    loop {
        let msg = match inbound.message().await {
            Ok(Some(m)) => m,
            Ok(None) => break,
            Err(status) => {
                tracing::warn!("session ended: {status}");
                break;
            }
        };
        // Cancels come on their own channel (`cancel`).
        tracing::warn!(?msg, "ignoring an unexpected message on the control stream");
    }
    // The shim is gone: make sure a plugin stuck in Python cannot keep this
    // process alive.
    drop(out);
    tokio::time::sleep(ORPHAN_GRACE).await;
    tracing::error!("the daemon closed the session but the plugin did not return; exiting");
    std::process::exit(1);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hello(daemon: &str, version: u32) -> sidecar_proto::Hello {
        sidecar_proto::Hello {
            protocol_version: sidecar_proto::PROTOCOL_VERSION,
            shim_version: sidecar_proto::BUILD_VERSION.to_string(),
            daemon: daemon.to_string(),
            plugin_api_version: version,
            ..Default::default()
        }
    }

    #[test]
    fn the_three_daemons_are_accepted_with_their_interface_versions() {
        for (d, v) in [("fd", 10), ("dir", 4), ("sd", 4)] {
            assert_eq!(handshake_refusal(&hello(d, v)), None, "{d} {v}");
        }
    }

    #[test]
    fn anything_else_is_refused_naming_it() {
        for (d, v) in [("fd", 4), ("dir", 10), ("sd", 3), ("tray", 4), ("", 10)] {
            let why = handshake_refusal(&hello(d, v)).expect("refused");
            assert!(
                why.contains(&format!("{d:?} interface version {v}")),
                "{why}"
            );
            assert!(
                why.contains("fd version 10, dir version 4 and sd version 4"),
                "{why}"
            );
        }
        let mut h = hello("dir", 4);
        h.protocol_version += 1;
        assert!(
            handshake_refusal(&h)
                .expect("refused")
                .contains("protocol version")
        );
        let mut h = hello("sd", 4);
        h.shim_version = "0.0.0-other".into();
        assert!(
            handshake_refusal(&h)
                .expect("refused")
                .contains("version mismatch")
        );
    }
}
