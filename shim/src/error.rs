//! The one error type of the shim. Every variant carries the text the job
//! log gets; the variant says what kind of trouble it is, as admins see
//! it.

/// Why a call, a session or a runner start failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The runner could not be started or did not complete the handshake.
    #[error("{0}")]
    Start(String),
    /// The peer sent something the protocol does not allow, or a channel
    /// broke.
    #[error("{0}")]
    Protocol(String),
    /// A call's deadline, the job's wall time or the cancel's grace ran out.
    #[error("{0}")]
    Deadline(String),
    /// The runner is gone: it exited, was killed or closed the session.
    #[error("{0}")]
    RunnerGone(String),
    /// The shim refused: bad configuration, a bad `sidecar.*` option, a
    /// limit that cannot be applied.
    #[error("{0}")]
    Refused(String),
}
