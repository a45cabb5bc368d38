//! The built-in Python module `bareossd` of storage daemon plugins
//! (dir-sd-api §5): seven functions and the storage daemon's constants, in
//! dicts with `str` keys whose entries are module attributes too (the
//! events spelled `bsdEvent…`).

pub mod constants;

use pyo3::prelude::*;

use crate::daemon::Daemon;
use crate::pymodule::dirsd::{self, Shape, Surface, WriteVariables};
use constants::{var, wvar};
use sidecar_proto::events::sd as ev;

/// What sets `bareossd` apart from `bareosdir`.
pub(crate) static SURFACE: Surface = Surface {
    daemon: Daemon::Sd,
    doc: "Core functions and constants of the Bareos storage daemon for Python plugins",
    shape,
    write: WriteVariables {
        job_report: wvar::JobReport,
        volume_name: wvar::VolumeName,
        priority: wvar::Priority,
        job_level: wvar::JobLevel,
    },
    events: ev::JobStart as i32..=ev::ChangerUnlock as i32,
    variables: ("bsdVariable", var::ALL),
    write_variables: ("bsdwVariable", wvar::ALL),
    event_table: ("bsdEventType", ev::ALL),
};

/// How `GetValue` shows each storage daemon variable (dir-sd-api §5.1).
pub(crate) fn shape(v: i32) -> Option<Shape> {
    Some(match v {
        var::JobId | var::Level | var::Type | var::JobStatus => Shape::Int,
        var::JobErrors | var::JobFiles | var::JobBytes => Shape::U64,
        var::JobName
        | var::Job
        | var::Client
        | var::Pool
        | var::PoolType
        | var::Storage
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
fn bareossd(m: &Bound<'_, PyModule>) -> PyResult<()> {
    dirsd::init(m, &SURFACE, functions::add_functions)
}

/// Adds `bareossd` to the interpreter's built-in modules; call before
/// Python is initialised (later calls are ignored).
pub fn register() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| pyo3::append_to_inittab!(bareossd));
}
