//! Generated types of the shim <-> runner protocol (`proto/sidecar/v1/session.proto`).
//!
//! The `.proto` file is the documentation of the conversation; this crate
//! adds the version constants both sides compare in the handshake and the
//! session's other carriers: the call channel's framing (`frames`), the
//! descriptor channel (`fdpass`) and the shared I/O area (`area`).

#![allow(clippy::large_enum_variant, clippy::enum_variant_names)]

tonic::include_proto!("sidecar.v1");

/// Bumped whenever a message changes meaning; shim and runner must agree exactly.
pub const PROTOCOL_VERSION: u32 = 4;

/// Version of the workspace the peer was built from; shim and runner must agree.
pub const BUILD_VERSION: &str = env!("CARGO_PKG_VERSION");

/// Largest message either side accepts. Bulk data never travels in messages
/// (descriptors go over `fdpass`, IO_READ/IO_WRITE data through the `area`);
/// the biggest legitimate ones are restore objects.
pub const MAX_MESSAGE_BYTES: usize = 64 * 1024 * 1024;

/// The descriptor numbers a spawned runner finds its session on (see the
/// .proto file). The shim places them there between fork and exec.
pub mod fds {
    use std::os::fd::RawFd;

    /// The gRPC control stream.
    pub const SESSION: RawFd = 3;
    /// SCM_RIGHTS descriptors for "I/O in core".
    pub const FDPASS: RawFd = 4;
    /// Calls and callback replies as frames (a pipe, shim to runner).
    pub const CALLS: RawFd = 5;
    /// The I/O area (a memfd).
    pub const AREA: RawFd = 6;
    /// bEventCancelCommand and its handler's core functions.
    pub const CANCEL: RawFd = 7;
    /// Results, callbacks and logs as frames (a pipe, runner to shim).
    pub const RESULTS: RawFd = 8;
    /// All of them, in order: everything from `INHERITED.end` on is closed
    /// at exec.
    pub const INHERITED: std::ops::Range<RawFd> = SESSION..RESULTS + 1;
}

/// A module of named numbers of a plugin ABI: a constant per name (the
/// short name the Rust code uses) and `ALL`, every one with the name Python
/// sees (`prefix` + name), in number order.
#[macro_export]
macro_rules! numbered {
    ($ty:ty, $(#[$doc:meta])* $module:ident, $python_prefix:literal, { $($name:ident = $n:literal),* $(,)? }) => {
        $(#[$doc])*
        #[allow(non_upper_case_globals)]
        pub mod $module {
            $( pub const $name: $ty = $n; )*
            /// Every one with its Python name, in number order.
            pub const ALL: &[(&str, $ty)] = &[ $( (concat!($python_prefix, stringify!($name)), $n) ),* ];
        }
    };
}

/// The signal the shim sends a runner whose plugin does not return, before
/// stopping it: the runner answers with the Python stack of every thread
/// on its stderr, which the job's failure message then carries.
pub const STACK_DUMP_SIGNAL: i32 = nix::libc::SIGUSR1;

pub mod area;
pub mod attach;
mod daemon;
pub mod debugpy;
pub mod events;
pub mod fdpass;
pub mod frames;
pub mod pacing;

pub use daemon::Daemon;
pub mod variables;
