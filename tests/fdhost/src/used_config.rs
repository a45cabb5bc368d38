//! bVarUsedConfig: the configuration path bareos-fd reports, resolved from
//! `--config` as bareos-fd resolves its `-c` (ConfigurationParser::
//! FindConfigPath in core/src/lib/parse_conf.cc):
//!
//! * an existing file: that path, as given;
//! * a directory: `<dir>/bareos-fd.conf` if it exists, else
//!   `<dir>/bareos-fd.d/*/*.conf` if `<dir>/bareos-fd.d` is a directory;
//!   else an error (bareos-fd does not start);
//! * anything else: an error.
//!
//! fdhost reads no configuration; without `--config` it reports "" (its
//! settings come from the command line, not from a file).

use std::path::Path;

/// The path bVarUsedConfig reports for `--config PATH`.
pub fn resolve(path: &Path) -> Result<String, String> {
    let shown = path.display();
    if path.is_dir() {
        let dir = shown.to_string();
        let join = |tail: &str| {
            if dir.ends_with('/') {
                format!("{dir}{tail}")
            } else {
                format!("{dir}/{tail}")
            }
        };
        let file = join("bareos-fd.conf");
        if Path::new(&file).exists() {
            return Ok(file);
        }
        let include = join("bareos-fd.d");
        if Path::new(&include).is_dir() {
            return Ok(format!("{include}/*/*.conf"));
        }
        return Err(format!(
            "Failed to find configuration files under directory \"{shown}\". \
             Did look for \"{file}\" (config file path) and \"{include}\" \
             (config include directory)."
        ));
    }
    if path.exists() {
        return Ok(shown.to_string());
    }
    Err(format!("Failed to read config file \"{shown}\""))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolves_like_bareos_fd() {
        let d = tempfile::tempdir().unwrap();
        let dir = d.path().display().to_string();
        assert!(resolve(d.path()).is_err(), "empty directory");
        std::fs::create_dir_all(d.path().join("bareos-fd.d/client")).unwrap();
        assert_eq!(
            resolve(d.path()).unwrap(),
            format!("{dir}/bareos-fd.d/*/*.conf")
        );
        let file = d.path().join("bareos-fd.conf");
        std::fs::write(&file, "").unwrap();
        assert_eq!(resolve(d.path()).unwrap(), format!("{dir}/bareos-fd.conf"));
        assert_eq!(
            resolve(&d.path().join("bareos-fd.d/../bareos-fd.conf")).unwrap(),
            format!("{dir}/bareos-fd.d/../bareos-fd.conf"),
            "a file is taken as given"
        );
        assert!(resolve(&d.path().join("missing.conf")).is_err());
    }
}
