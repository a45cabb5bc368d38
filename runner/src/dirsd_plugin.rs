//! python3-dir's and python3-sd's semantics on the runner side
//! (dir-sd-api §4.4–§4.6): the director and the storage daemon only create
//! and free the instance and deliver events. Their NewPluginOptions event
//! carries the option string: parsed (`dirsd_options`), it loads the module
//! the first time and goes to `parse_plugin_definition`; every other event
//! goes to `handle_plugin_event` once a module is loaded.
//!
//! Module loading, entry point calls, result conversion and exception
//! reports are the FD's (`hosting`); what differs is the wording: the
//! director's tracebacks start with `bareosdir: `, the storage daemon's
//! have no prefix, and the notes about missing functions have none either.

use pyo3::prelude::*;
use sidecar_proto::{self as pb, call, call_result, event};

use crate::bareosfd::constants::{BRC_ERROR, BRC_OK, M_FATAL};
use crate::daemon::Daemon;
use crate::dirsd_options::Options;
use crate::hosting::{self, DEBUG_LEVEL, Loader, Voice};
use crate::{core, stdio};

const DIR: Voice = Voice {
    plugin: "python3-dir",
    traceback: "bareosdir: ",
    load_note: "",
    call_note: "",
};

const SD: Voice = Voice {
    plugin: "python3-sd",
    traceback: "",
    load_note: "",
    call_note: "",
};

type Outcome = (i32, Option<call_result::Payload>);

/// One director or storage daemon plugin instance.
pub struct DirSdPlugin {
    voice: &'static Voice,
    /// The daemon's bDirEventNewPluginOptions / bSdEventNewPluginOptions.
    options_event: u32,
    options: Options,
    loader: Loader,
}

impl DirSdPlugin {
    /// The dispatcher for `daemon`'s plugins; panics for the FD, whose
    /// dispatcher is `plugin::Plugin`.
    pub fn new(py: Python<'_>, daemon: Daemon) -> DirSdPlugin {
        let (voice, options_event) = match daemon {
            Daemon::Dir => (&DIR, sidecar_proto::events::dir::NewPluginOptions),
            Daemon::Sd => (&SD, sidecar_proto::events::sd::NewPluginOptions),
            Daemon::Fd => panic!("the file daemon's plugins are dispatched by plugin::Plugin"),
        };
        hosting::capture_stdio(py);
        DirSdPlugin {
            voice,
            options_event,
            options: Options::default(),
            loader: Loader::default(),
        }
    }

    /// What the option strings named so far.
    pub fn options(&self) -> &Options {
        &self.options
    }

    /// Is the plugin's module loaded?
    pub fn loaded(&self) -> bool {
        self.loader.loaded()
    }

    /// Executes one plugin call; returns the bRC (no packets travel back).
    pub fn dispatch(&mut self, py: Python<'_>, kind: call::Kind) -> Outcome {
        let rc = match kind {
            call::Kind::NewPlugin(_) => BRC_OK,
            call::Kind::FreePlugin(_) => {
                if !core::direct() {
                    hosting::end_interpreter(py, self.voice);
                }
                BRC_OK
            }
            call::Kind::HandlePluginEvent(e) => self.event(py, e),
            other => {
                // The director and the storage daemon have no such entry
                // points; a shim that sends one is broken.
                tracing::warn!(
                    ?other,
                    "a file daemon call in a {} session",
                    self.voice.plugin
                );
                BRC_ERROR
            }
        };
        stdio::flush(py);
        (rc, None)
    }

    fn event(&mut self, py: Python<'_>, e: pb::Event) -> i32 {
        if e.event_type != self.options_event {
            if !self.loader.loaded() {
                return BRC_OK;
            }
            return self
                .loader
                .call(py, self.voice, "handle_plugin_event", (e.event_type,));
        }
        let Some(event::Value::Text(value)) = e.value else {
            return BRC_ERROR;
        };
        let value = match hosting::text(self.voice, &value, "the plugin options") {
            Ok(v) => v,
            Err(rc) => return rc,
        };
        let opts = match self.options.parse(&value) {
            Ok(opts) => opts,
            Err(msg) => {
                let msg = format!("{msg}\n");
                let _ = core::job_message(M_FATAL, msg.clone());
                let _ = core::debug_message(DEBUG_LEVEL, msg);
                return BRC_ERROR;
            }
        };
        if !self.loader.loaded() {
            let loaded = self.loader.load(
                py,
                self.voice,
                self.options.module_path.as_deref(),
                self.options.module_name.as_deref(),
                &opts,
            );
            match loaded {
                Ok(BRC_OK) => {}
                Ok(rc) | Err(rc) => return rc,
            }
        }
        self.loader
            .call(py, self.voice, "parse_plugin_definition", (opts,))
    }
}
