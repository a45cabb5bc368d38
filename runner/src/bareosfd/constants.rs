//! The constants of `bareosfd` (PY §8): each one is a module attribute and an
//! entry of a dict keyed by the name as `bytes`, in the documented order.

use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict};

use crate::pymodule::{self, BRCS, JOB_MESSAGE_TYPES, Keys, Table};

// The values the runner's Rust code uses itself (the tables below are what
// Python sees; both follow fd-abi §3 and §7).
pub const BRC_OK: i32 = 0;
pub const BRC_ERROR: i32 = 2;
pub const BRC_SEEN: i32 = 5;
pub const BRC_SKIP: i32 = 7;
pub const M_FATAL: i32 = 3;
pub const M_ERROR: i32 = 4;
pub const M_WARNING: i32 = 5;
pub const M_INFO: i32 = 6;
pub const CF_ERROR: i32 = 2;
pub const IO_OPEN: i32 = 1;
pub const IO_READ: i32 = 2;
pub const IO_WRITE: i32 = 3;
pub const IOSTAT_DO_IN_CORE: i32 = 1;
pub const FT_NOCHG: i32 = 10;
pub const FT_DIRNOCHG: i32 = 11;
pub const FT_DIRBEGIN: i32 = 18;

/// The variable numbers, shared with the shim.
pub use sidecar_proto::variables::fd as var;

/// File types that carry a restore object instead of file data.
pub const OBJECT_TYPES: [i32; 3] = [25, 27, 28];

const INT_TABLES: &[Table] = &[
    BRCS,
    JOB_MESSAGE_TYPES,
    (
        "bAccurateOption",
        &[
            ("bAccurateOptionInode", 1),
            ("bAccurateOptionPermissions", 2),
            ("bAccurateOptionNlink", 4),
            ("bAccurateOptionUid", 8),
            ("bAccurateOptionGid", 16),
            ("bAccurateOptionSize", 32),
            ("bAccurateOptionAtime", 64),
            ("bAccurateOptionMtime", 128),
            ("bAccurateOptionCtime", 256),
            ("bAccurateOptionSizeDecrease", 512),
            ("bAccurateOptionAlways", 1024),
            ("bAccurateOptionMD5", 2048),
            ("bAccurateOptionSha1", 4096),
        ],
    ),
    (
        "bFileType",
        &[
            ("FT_LNKSAVED", 1),
            ("FT_REGE", 2),
            ("FT_REG", 3),
            ("FT_LNK", 4),
            ("FT_DIREND", 5),
            ("FT_SPEC", 6),
            ("FT_NOACCESS", 7),
            ("FT_NOFOLLOW", 8),
            ("FT_NOSTAT", 9),
            ("FT_NOCHG", 10),
            ("FT_DIRNOCHG", 11),
            ("FT_ISARCH", 12),
            ("FT_NORECURSE", 13),
            ("FT_NOFSCHG", 14),
            ("FT_NOOPEN", 15),
            ("FT_RAW", 16),
            ("FT_FIFO", 17),
            ("FT_DIRBEGIN", 18),
            ("FT_INVALIDFS", 19),
            ("FT_INVALIDDT", 20),
            ("FT_REPARSE", 21),
            ("FT_PLUGIN", 22),
            ("FT_DELETED", 23),
            ("FT_BASE", 24),
            ("FT_RESTORE_FIRST", 25),
            ("FT_JUNCTION", 26),
            ("FT_PLUGIN_CONFIG", 27),
            ("FT_PLUGIN_CONFIG_FILLED", 28),
        ],
    ),
    (
        "bCFs",
        &[
            ("CF_SKIP", 1),
            ("CF_ERROR", 2),
            ("CF_EXTRACT", 3),
            ("CF_CREATED", 4),
            ("CF_CORE", 5),
        ],
    ),
    (
        "bIOPS",
        &[
            ("IO_OPEN", 1),
            ("IO_READ", 2),
            ("IO_WRITE", 3),
            ("IO_CLOSE", 4),
            ("IO_SEEK", 5),
        ],
    ),
    (
        "bIOPstatus",
        &[
            ("iostat_error", -1),
            ("iostat_do_in_plugin", 0),
            ("iostat_do_in_core", 1),
        ],
    ),
];

/// `bLevels`: dict values are `bytes`, the `L_*` attributes one-char `str`.
const LEVELS: &[(&str, &str)] = &[
    ("L_FULL", "F"),
    ("L_INCREMENTAL", "I"),
    ("L_DIFFERENTIAL", "D"),
    ("L_SINCE", "S"),
    ("L_VERIFY_CATALOG", "C"),
    ("L_VERIFY_INIT", "V"),
    ("L_VERIFY_VOLUME_TO_CATALOG", "O"),
    ("L_VERIFY_DISK_TO_CATALOG", "d"),
    ("L_VERIFY_DATA", "A"),
    ("L_BASE", "B"),
    ("L_NONE", " "),
    ("L_VIRTUAL_FULL", "f"),
];

/// Adds every constant and dict to the module.
pub fn add_all(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    for table in INT_TABLES {
        pymodule::add(m, Keys::Bytes, *table)?;
    }
    pymodule::add_numbers(m, Keys::Bytes, "bEventType", sidecar_proto::events::fd::ALL)?;
    // python3-fd shows every variable but bVarPluginPath.
    let variables: Vec<(&str, i32)> = sidecar_proto::variables::fd::ALL
        .iter()
        .copied()
        .filter(|&(_, n)| n != var::PluginPath)
        .collect();
    pymodule::add_numbers(m, Keys::Bytes, "bVariable", &variables)?;
    let dict = PyDict::new(py);
    for (name, value) in LEVELS {
        m.add(*name, *value)?;
        dict.set_item(
            PyBytes::new(py, name.as_bytes()),
            PyBytes::new(py, value.as_bytes()),
        )?;
    }
    m.add("bLevels", dict)?;
    Ok(())
}
