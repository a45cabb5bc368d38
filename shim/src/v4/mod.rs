//! The edge the director and the storage daemon share: their plugin ABI
//! (interface version 4) is the same shape, and python3-dir and python3-sd
//! behave alike (dir-sd-api §4): the module is loaded by the first
//! `NewPluginOptions` event (from the Job's `Dir Plugin Options` / `SD
//! Plugin Options`), every other event goes to `handle_plugin_event`.
//! `dir` and `sd` say what differs ([`Spec`]).

pub mod abi;
mod core;
mod entry;

use std::sync::atomic::AtomicPtr;

use abi::{CoreFunctions, ValueType};

use crate::daemon::Daemon;

pub use entry::plugin_functions;

/// What one interface-version-4 daemon is like.
pub trait Spec: 'static {
    const DAEMON: Daemon;
    /// The event that carries the plugin's options (and starts the runner).
    const NEW_PLUGIN_OPTIONS: u32;
    /// The core's table, set by loadPlugin.
    fn table() -> &'static AtomicPtr<CoreFunctions>;
    /// Events whose value is a C string (all other values are the core's
    /// own pointers, never passed on).
    fn text_value(event: u32) -> bool;
    /// What `getBareosValue` writes for `var`; `None`: never asked.
    fn read_type(var: i32) -> Option<ValueType>;
    /// What `setBareosValue` takes for `var` (`Str` or `Int`); `None`:
    /// refused without asking the core. The same in both daemons.
    fn write_type(var: i32) -> Option<ValueType> {
        match var {
            abi::wvar::VolumeName => Some(ValueType::Str),
            abi::wvar::Priority | abi::wvar::JobLevel => Some(ValueType::Int),
            _ => None,
        }
    }
}

/// loadPlugin for daemon `S`: keep its table, hand it ours.
pub fn load<S: Spec>(table: &'static CoreFunctions) {
    S::table().store(
        (table as *const CoreFunctions).cast_mut(),
        std::sync::atomic::Ordering::SeqCst,
    );
}

/// unloadPlugin: forget the core.
pub fn unload<S: Spec>() {
    S::table().store(std::ptr::null_mut(), std::sync::atomic::Ordering::SeqCst);
}

/// The statics and loadPlugin/unloadPlugin of one version-4 daemon's edge:
/// its table slot, what `status` shows of the plugin, its entry points.
macro_rules! edge {
    ($spec:ident, magic: $magic:literal, description: $description:literal, usage: $usage:literal) => {
        static TABLE: std::sync::atomic::AtomicPtr<abi::CoreFunctions> =
            std::sync::atomic::AtomicPtr::new(std::ptr::null_mut());

        /// What `status` and plugin listings show; the license must be one
        /// the daemon accepts, and says the truth.
        static PLUGIN_INFORMATION: abi::PluginInformation = abi::PluginInformation {
            size: std::mem::size_of::<abi::PluginInformation>() as u32,
            version: 4,
            plugin_magic: $magic.as_ptr(),
            plugin_license: c"AGPLv3".as_ptr(),
            plugin_author: c"bareos-sidecar".as_ptr(),
            plugin_date: c"December 2026".as_ptr(),
            plugin_version: concat!(env!("CARGO_PKG_VERSION"), " (sidecar)\0")
                .as_ptr()
                .cast(),
            plugin_description: $description.as_ptr(),
            plugin_usage: $usage.as_ptr(),
        };

        static PLUGIN_FUNCTIONS: abi::PluginFunctions = $crate::v4::plugin_functions::<$spec>();

        /// loadPlugin: keep the core's table, hand it ours.
        pub fn load(
            table: &'static abi::CoreFunctions,
        ) -> (
            &'static abi::PluginInformation,
            &'static abi::PluginFunctions,
        ) {
            $crate::v4::load::<$spec>(table);
            (&PLUGIN_INFORMATION, &PLUGIN_FUNCTIONS)
        }

        /// unloadPlugin: forget the core.
        pub fn unload() {
            $crate::v4::unload::<$spec>();
        }
    };
}
pub(crate) use edge;
