//! The built-in Python module `bareosdir` of director plugins
//! (dir-sd-api §5): seven functions and the director's constants, in dicts
//! with `str` keys whose entries are module attributes too.

pub mod constants;

use pyo3::prelude::*;

use crate::daemon::Daemon;
use crate::pymodule::dirsd::{self, Shape, Surface, WriteVariables};
use constants::{var, wvar};
use sidecar_proto::events::dir as ev;

/// What sets `bareosdir` apart from `bareossd`.
pub(crate) static SURFACE: Surface = Surface {
    daemon: Daemon::Dir,
    doc: "Core functions and constants of the Bareos director for Python plugins",
    shape,
    write: WriteVariables {
        job_report: wvar::JobReport,
        volume_name: wvar::VolumeName,
        priority: wvar::Priority,
        job_level: wvar::JobLevel,
    },
    // NewPluginOptions is the plugin's own business, not Python's.
    events: ev::JobStart as i32..=ev::GetScratch as i32,
    variables: ("bDirVariable", var::ALL),
    write_variables: ("bwDirVariable", wvar::ALL),
    event_table: ("bDirEventType", ev::ALL),
};

/// How `GetValue` shows each director variable (dir-sd-api §5.1);
/// `CatalogRes` and unknown numbers are not asked for.
pub(crate) fn shape(v: i32) -> Option<Shape> {
    Some(match v {
        var::JobId
        | var::Level
        | var::Type
        | var::NumVols
        | var::JobStatus
        | var::Priority
        | var::FDJobStatus
        | var::SDJobStatus => Shape::Int,
        var::JobErrors
        | var::SDErrors
        | var::JobFiles
        | var::SDJobFiles
        | var::LastRate
        | var::JobBytes
        | var::ReadBytes => Shape::U64,
        var::JobName
        | var::Job
        | var::Client
        | var::Pool
        | var::Storage
        | var::WriteStorage
        | var::ReadStorage
        | var::Catalog
        | var::MediaType
        | var::VolumeName
        | var::PluginDir => Shape::Str,
        _ => return None,
    })
}

mod functions {
    use pyo3::prelude::*;
    crate::pymodule::dirsd::module_functions!(super::SURFACE);
}

#[pymodule]
fn bareosdir(m: &Bound<'_, PyModule>) -> PyResult<()> {
    dirsd::init(m, &SURFACE, functions::add_functions)
}

/// Adds `bareosdir` to the interpreter's built-in modules; call before
/// Python is initialised (later calls are ignored).
pub fn register() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| pyo3::append_to_inittab!(bareosdir));
}
