//! The runner's end of the cancel channel (see the .proto file): a thread
//! of its own waits for the shim's `Cancel` and runs the plugin's handler
//! right away, concurrently with the main thread, which may be stuck in any
//! plugin call. The handler's core functions travel on the cancel channel
//! (`core`), where the daemon's cancel thread is waiting to serve them.

use std::io;

use crate::{core, plugin};

/// Starts the thread that serves cancels for the life of the process.
pub(crate) fn start() -> io::Result<()> {
    std::thread::Builder::new()
        .name("sidecar-cancel".into())
        .spawn(serve)
        .map(drop)
}

fn serve() {
    loop {
        // Waiting without the GIL: this thread holds it only while the
        // plugin's handler runs.
        match core::next_cancel() {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return,
            Err(e) => {
                tracing::error!("cancel channel: {e}");
                return;
            }
        }
        tracing::info!("the daemon cancelled the job");
        if let Err(e) = core::serve_cancel(plugin::run_cancel_handler) {
            tracing::error!("cannot answer the cancel: {e}");
            return;
        }
    }
}
