//! Links the runner against the machine's shared libpython and records its
//! directory as RPATH, so `sidecar-runner` starts without LD_LIBRARY_PATH.

fn main() {
    let config = pyo3_build_config::get();
    if let Some(dir) = &config.lib_dir {
        println!("cargo:rustc-link-arg-bins=-Wl,-rpath,{dir}");
    }
    pyo3_build_config::use_pyo3_cfgs();
}
