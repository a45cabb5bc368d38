//! Plugin discovery, loading and the compatibility checks, as bareos-dir
//! and bareos-sd do them at daemon start (dir-sd-api §1; the loader is the
//! FD's, fd-abi §1–§2), and unloading at exit.

use std::ffi::{CString, c_void};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use std::sync::atomic::{AtomicBool, Ordering};

use libloading::os::unix::{Library, RTLD_GLOBAL, RTLD_LAZY};
use sidecar_shim::dir::abi::{
    Plugin, PluginApiDefinition, PluginFunctions, PluginInformation, bRC, bRC_OK, msg,
};

use crate::core::{self, Kind, daemon_msg};

/// DIR_PLUGIN_INTERFACE_VERSION = SD_PLUGIN_INTERFACE_VERSION.
const INTERFACE_VERSION: u32 = 4;

type LoadPluginFn = unsafe extern "C" fn(
    *mut PluginApiDefinition,
    *mut c_void,
    *mut *mut PluginInformation,
    *mut *mut PluginFunctions,
) -> bRC;
type UnloadPluginFn = unsafe extern "C" fn() -> bRC;

macro_rules! ddebug {
    ($level:expr, $($arg:tt)*) => { $crate::debug!(0, $level, $($arg)*) };
}

/// An accepted plugin (one per shared object), shared by all jobs.
pub struct LoadedPlugin {
    /// Set when an instance returned bRC_Term: the daemon unloads the
    /// plugin then (see `job`); here its instances get no more calls.
    pub unloaded: AtomicBool,
    /// The core's `Plugin` record that `ctx->plugin` points at; owned here
    /// (from `Box::into_raw`), freed on drop.
    record: *mut Plugin,
    /// Bare file name, e.g. `python3-dir.so`; `record.file` points into it.
    file: CString,
    /// Offset of the first suffix in `file`: the plugin name's length.
    pub file_len: usize,
    funcs: *const PluginFunctions,
    unload: UnloadPluginFn,
    lib: Option<Library>,
}

// SAFETY: the record and the plugin's tables are immutable after loading;
// plugins must be callable from any job thread.
unsafe impl Send for LoadedPlugin {}
// SAFETY: as above.
unsafe impl Sync for LoadedPlugin {}

impl LoadedPlugin {
    /// The bare file name (`python3-dir.so`).
    pub fn file(&self) -> &str {
        self.file.to_str().unwrap_or("<non-UTF-8 name>")
    }

    /// For `ctx->plugin`.
    pub fn record(&self) -> *mut c_void {
        self.record.cast()
    }

    /// The plugin's entry points (None if it returned a NULL table).
    pub fn funcs(&self) -> Option<&PluginFunctions> {
        // SAFETY: NULL or the plugin's static table, valid until dlclose,
        // which happens only in drop.
        unsafe { self.funcs.as_ref() }
    }

    /// Does the plugin name of an options entry select this plugin?
    /// (DispatchNewPluginOptions: same length as the file name up to the
    /// suffix, compared case-insensitively.)
    pub fn matches(&self, name: &str) -> bool {
        name.len() == self.file_len
            && self.file.as_bytes()[..self.file_len].eq_ignore_ascii_case(name.as_bytes())
    }

    /// What the plugin's PluginInformation says (for `list`).
    pub fn information(&self) -> Vec<(&'static str, String)> {
        // SAFETY: the record's information is the plugin's static
        // PluginInformation (checked non-NULL when loading).
        let Some(i) = (unsafe {
            (*self.record)
                .plugin_information
                .cast::<PluginInformation>()
                .as_ref()
        }) else {
            return Vec::new();
        };
        // SAFETY (string reads): NULL or C strings in the plugin's data.
        let s = |p| unsafe { core::cstr(p) }.map_or("(null)".to_string(), |s| s.into_owned());
        vec![
            ("version", i.version.to_string()),
            ("magic", s(i.plugin_magic)),
            ("license", s(i.plugin_license)),
            ("author", s(i.plugin_author)),
            ("date", s(i.plugin_date)),
            ("plugin version", s(i.plugin_version)),
            ("description", s(i.plugin_description)),
            ("usage", s(i.plugin_usage)),
        ]
    }

    pub fn is_unloaded(&self) -> bool {
        self.unloaded.load(Ordering::SeqCst)
    }
}

impl Drop for LoadedPlugin {
    fn drop(&mut self) {
        ddebug!(50, "unloading plugin {}", self.file());
        // SAFETY: the plugin's exported unloadPlugin, library still open.
        unsafe { (self.unload)() };
        if let Some(lib) = self.lib.take()
            && let Err(e) = lib.close()
        {
            ddebug!(1, "dlclose {} failed: {e}", self.file());
        }
        // SAFETY: from Box::into_raw in `load_one`; no context refers to it
        // any more (jobs end before the plugins are dropped).
        drop(unsafe { Box::from_raw(self.record) });
    }
}

/// Load the plugins of `dir`: `<dir>/<name><suffix>` for each of `names`,
/// or every `*<suffix>` if `names` is empty. Rejections are reported as
/// daemon messages and skipped. Err only if the directory cannot be read.
pub fn load_plugins(kind: Kind, dir: &Path, names: &[String]) -> Result<Vec<LoadedPlugin>, String> {
    let suffix = kind.suffix();
    let candidates: Vec<PathBuf> = if !names.is_empty() {
        let mut d = dir.as_os_str().as_bytes().to_vec();
        if !d.ends_with(b"/") {
            d.push(b'/');
        }
        names
            .iter()
            .map(|n| {
                let mut p = d.clone();
                p.extend_from_slice(n.as_bytes());
                p.extend_from_slice(suffix.as_bytes());
                PathBuf::from(std::ffi::OsStr::from_bytes(&p))
            })
            .collect()
    } else {
        let entries = std::fs::read_dir(dir)
            .map_err(|e| format!("Failed to open Plugin directory {}: ERR={e}", dir.display()))?;
        entries
            .filter_map(|e| e.ok())
            .filter(|e| {
                let n = e.file_name();
                let n = n.as_bytes();
                n.len() > suffix.len() && n.ends_with(suffix.as_bytes())
            })
            .map(|e| e.path())
            .collect()
    };

    let mut loaded = Vec::new();
    for path in candidates {
        match std::fs::symlink_metadata(&path) {
            Ok(m) if m.file_type().is_file() => {}
            Ok(_) => {
                ddebug!(50, "skipping {}: not a regular file", path.display());
                continue;
            }
            Err(e) => {
                ddebug!(50, "skipping {}: {e}", path.display());
                continue;
            }
        }
        if let Some(p) = load_one(kind, &path) {
            ddebug!(
                50,
                "loaded plugin: {} (name length {})",
                p.file(),
                p.file_len
            );
            loaded.push(p);
        }
    }
    if loaded.is_empty() {
        daemon_msg(
            msg::WARNING,
            &format!("Failed to find any plugins in {}\n", dir.display()),
        );
    }
    Ok(loaded)
}

/// dlopen one candidate, call loadPlugin and check the answer. None (after
/// unloadPlugin + dlclose, and a message where the daemon gives one) if the
/// plugin is rejected.
fn load_one(kind: Kind, path: &Path) -> Option<LoadedPlugin> {
    let suffix = kind.suffix();
    // SAFETY: loading a shared object runs its constructors; that is what
    // loading a plugin means.
    let lib = match unsafe { Library::open(Some(path), RTLD_LAZY | RTLD_GLOBAL) } {
        Ok(l) => l,
        Err(e) => {
            daemon_msg(
                msg::ERROR,
                &format!("dlopen plugin {} failed: ERR={e}\n", path.display()),
            );
            return None;
        }
    };
    let lookup = |sym: &str| -> Option<*const c_void> {
        let cname = CString::new(sym).expect("no NUL");
        // SAFETY: only the address is taken; it is called with the type the
        // ABI declares.
        match unsafe { lib.get::<*const c_void>(cname.as_bytes_with_nul()) } {
            Ok(s) if !s.is_null() => Some(*s),
            Ok(_) => {
                daemon_msg(
                    msg::ERROR,
                    &format!(
                        "Lookup of {sym} in plugin {} failed: ERR=symbol is NULL\n",
                        path.display()
                    ),
                );
                None
            }
            Err(e) => {
                daemon_msg(
                    msg::ERROR,
                    &format!(
                        "Lookup of {sym} in plugin {} failed: ERR={e}\n",
                        path.display()
                    ),
                );
                None
            }
        }
    };
    let (Some(load), Some(unload)) = (lookup("loadPlugin"), lookup("unloadPlugin")) else {
        close(lib, path);
        return None;
    };
    // SAFETY: the exported symbols have these C signatures (dir-sd-api §1.1).
    let (load, unload): (LoadPluginFn, UnloadPluginFn) = unsafe {
        (
            std::mem::transmute::<*const c_void, LoadPluginFn>(load),
            std::mem::transmute::<*const c_void, UnloadPluginFn>(unload),
        )
    };

    let file_os = path.file_name().unwrap_or_default().as_bytes().to_vec();
    let file_len = find(&file_os, suffix.as_bytes()).unwrap_or(file_os.len());
    let file = CString::new(file_os).unwrap_or_default();
    let shown = file.to_string_lossy().into_owned();

    let mut info: *mut PluginInformation = std::ptr::null_mut();
    let mut funcs: *mut PluginFunctions = std::ptr::null_mut();
    let (api, table) = core::tables(kind);
    // SAFETY: the tables are static and writable; the out-pointers are
    // valid locals.
    let rc = unsafe { load(api, table, &mut info, &mut funcs) };
    let reject = |lib: Library| {
        // SAFETY: the daemons call unloadPlugin on every rejection.
        unsafe { unload() };
        close(lib, path);
        None
    };
    if rc != bRC_OK {
        ddebug!(1, "loadPlugin of {shown} returned {rc}: plugin not loaded");
        return reject(lib);
    }
    // SAFETY: NULL or the plugin's static PluginInformation. (The daemons
    // do not check for NULL and crash; v4host refuses the plugin.)
    let Some(i) = (unsafe { info.as_ref() }) else {
        daemon_msg(
            msg::ERROR,
            &format!(
                "plugin {shown} returned no PluginInformation (bareos-{} would crash here)\n",
                if kind == Kind::Dir { "dir" } else { "sd" }
            ),
        );
        return reject(lib);
    };
    if let Some(problem) = incompatibility(kind, &shown, i) {
        daemon_msg(msg::ERROR, &format!("{problem}\n"));
        return reject(lib);
    }
    let mut record = Box::new(Plugin {
        file: std::ptr::null_mut(),
        file_len: file_len as i32,
        unloadPlugin: Some(unload),
        plugin_information: info.cast(),
        plugin_functions: funcs.cast(),
        plugin_handle: std::ptr::null_mut(),
    });
    record.file = file.as_ptr().cast_mut();
    Some(LoadedPlugin {
        unloaded: AtomicBool::new(false),
        record: Box::into_raw(record),
        file,
        file_len,
        funcs,
        unload,
        lib: Some(lib),
    })
}

/// The checks of dir-sd-api §1.2 in order (IsPluginCompatible); the message
/// of the first that fails.
fn incompatibility(kind: Kind, file: &str, i: &PluginInformation) -> Option<String> {
    let wanted_magic = kind.magic();
    // SAFETY (string reads): NULL or C strings in the plugin's static data.
    let s = |p| unsafe { core::cstr(p) }.map_or("(null)".to_string(), |s| s.into_owned());
    let magic = s(i.plugin_magic);
    if i.plugin_magic.is_null() || magic != wanted_magic {
        return Some(format!(
            "Plugin magic wrong. Plugin={file} wanted={wanted_magic} got={magic}"
        ));
    }
    if i.version != INTERFACE_VERSION {
        return Some(format!(
            "Plugin version incorrect. Plugin={file} wanted={INTERFACE_VERSION} got={}",
            i.version
        ));
    }
    let license = s(i.plugin_license);
    if i.plugin_license.is_null()
        || !(license.eq_ignore_ascii_case("Bareos AGPLv3")
            || license.eq_ignore_ascii_case("AGPLv3"))
    {
        return Some(format!(
            "Plugin license incompatible. Plugin={file} license={license}"
        ));
    }
    let want = std::mem::size_of::<PluginInformation>();
    if i.size as usize != want {
        return Some(format!(
            "Plugin size incorrect. Plugin={file} wanted={want} got={}",
            i.size
        ));
    }
    None
}

fn close(lib: Library, path: &Path) {
    if let Err(e) = lib.close() {
        ddebug!(1, "dlclose {} failed: {e}", path.display());
    }
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// Unload every plugin (unloadPlugin + dlclose), in load order.
pub fn unload_all(plugins: Vec<LoadedPlugin>) {
    drop(plugins);
}

#[cfg(test)]
mod tests {
    #[test]
    fn finds_first_suffix() {
        assert_eq!(super::find(b"python3-dir.so", b"-dir.so"), Some(7));
        assert_eq!(super::find(b"a-sd.so-sd.so", b"-sd.so"), Some(1));
    }

    #[test]
    fn cstr_helper_tolerates_null() {
        // SAFETY: NULL is allowed.
        assert!(unsafe { crate::core::cstr(std::ptr::null()) }.is_none());
    }
}
