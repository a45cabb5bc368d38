//! The director's edge: `python3-dir.so` (dir-sd-api §2, §4) over the
//! shared version-4 edge.

pub mod abi;

use std::sync::atomic::AtomicPtr;

use abi::{CoreFunctions, ValueType, var};

use crate::daemon::Daemon;
use crate::v4::Spec;

/// The director.
pub struct Dir;

impl Spec for Dir {
    const DAEMON: Daemon = Daemon::Dir;
    const NEW_PLUGIN_OPTIONS: u32 = sidecar_proto::events::dir::NewPluginOptions;

    fn table() -> &'static AtomicPtr<CoreFunctions> {
        &TABLE
    }

    fn text_value(event: u32) -> bool {
        event == Self::NEW_PLUGIN_OPTIONS
    }

    fn read_type(v: i32) -> Option<ValueType> {
        Some(match v {
            var::JobId
            | var::Level
            | var::Type
            | var::NumVols
            | var::JobStatus
            | var::Priority
            | var::FDJobStatus
            | var::SDJobStatus
            | var::JobErrors
            | var::SDErrors
            | var::JobFiles
            | var::SDJobFiles
            | var::LastRate => ValueType::Int,
            var::JobBytes | var::ReadBytes => ValueType::U64,
            var::Job
            | var::Client
            | var::Pool
            | var::Storage
            | var::WriteStorage
            | var::ReadStorage
            | var::Catalog
            | var::MediaType
            | var::JobName
            | var::VolumeName
            | var::PluginDir => ValueType::Str,
            // CatalogRes (always an error in the core) and unknown ones.
            _ => return None,
        })
    }
}

crate::v4::edge!(
    Dir,
    magic: c"*DirPluginData*",
    description: c"Python Director Daemon Plugin (out of process: bareos-sidecar)",
    usage: c"python3:instance=<n>:module_name=<python-module-to-load>:module_path=<path-to-python-modules>:...\n\
\n\
 Set in a Job's Dir Plugin Options. instance: 0 for the first plugin,\n\
 incremented for each additional one. module_name: the Python module\n\
 implementing the plugin (required). module_path: a directory prepended to\n\
 sys.path (optional). sidecar.<key>=<value>: the runner's limits; see\n\
 sidecar.toml. The plugin runs in a separate sidecar-runner process."
);
