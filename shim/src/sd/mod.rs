//! The storage daemon's edge: `python3-sd.so` (dir-sd-api §3, §4) over
//! the shared version-4 edge.

pub mod abi;

use std::sync::atomic::AtomicPtr;

use abi::{CoreFunctions, ValueType, var};

use crate::daemon::Daemon;
use crate::v4::Spec;

/// The storage daemon.
pub struct Sd;

impl Spec for Sd {
    const DAEMON: Daemon = Daemon::Sd;
    const NEW_PLUGIN_OPTIONS: u32 = sidecar_proto::events::sd::NewPluginOptions;

    fn table() -> &'static AtomicPtr<CoreFunctions> {
        &TABLE
    }

    /// bSdEventJobStart's value is the string "JobStart"; the device
    /// events' values are the daemon's device records, never passed on.
    fn text_value(event: u32) -> bool {
        event == Self::NEW_PLUGIN_OPTIONS || event == sidecar_proto::events::sd::JobStart
    }

    fn read_type(v: i32) -> Option<ValueType> {
        Some(match v {
            var::JobId
            | var::Level
            | var::Type
            | var::JobStatus
            | var::JobErrors
            | var::JobFiles => ValueType::Int,
            var::JobBytes => ValueType::U64,
            var::Job
            | var::Client
            | var::Pool
            | var::PoolType
            | var::Storage
            | var::MediaType
            | var::JobName
            | var::VolumeName
            | var::PluginDir => ValueType::Str,
            _ => return None,
        })
    }
}

crate::v4::edge!(
    Sd,
    magic: c"*SDPluginData*",
    description: c"Python Storage Daemon Plugin (out of process: bareos-sidecar)",
    usage: c"python3:instance=<n>:module_name=<python-module-to-load>:module_path=<path-to-python-modules>:...\n\
\n\
 Set in a Job's SD Plugin Options. instance: 0 for the first plugin,\n\
 incremented for each additional one. module_name: the Python module\n\
 implementing the plugin (required). module_path: a directory prepended to\n\
 sys.path (optional). sidecar.<key>=<value>: the runner's limits; see\n\
 sidecar.toml. The plugin runs in a separate sidecar-runner process."
);
