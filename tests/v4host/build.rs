//! Builds the C half of the cores (the variadic core functions, which stable
//! Rust cannot define) and the C test plugins the integration tests load.

use std::path::{Path, PathBuf};

fn main() {
    println!("cargo:rerun-if-changed=src/core_varargs.c");
    cc::Build::new()
        .file("src/core_varargs.c")
        .warnings(true)
        .compile("v4host_core_varargs");

    let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("OUT_DIR"));
    let src = Path::new("plugins/v4plugin.c");
    println!("cargo:rerun-if-changed={}", src.display());
    // (extra defines, output name, env var naming the path for the tests)
    let plugins: &[(&[&str], &str, &str)] = &[
        (&[], "cgood-dir.so", "V4HOST_DIR_GOOD"),
        (&["-DSD_PLUGIN"], "cgood-sd.so", "V4HOST_SD_GOOD"),
        (&["-DBAD_MAGIC"], "badmagic-dir.so", "V4HOST_DIR_BAD_MAGIC"),
        (
            &["-DBAD_VERSION"],
            "badversion-dir.so",
            "V4HOST_DIR_BAD_VERSION",
        ),
        (
            &["-DBAD_LICENSE"],
            "badlicense-dir.so",
            "V4HOST_DIR_BAD_LICENSE",
        ),
        (&["-DBAD_SIZE"], "badsize-dir.so", "V4HOST_DIR_BAD_SIZE"),
        (
            &["-DSD_PLUGIN", "-DBAD_MAGIC"],
            "badmagic-sd.so",
            "V4HOST_SD_BAD_MAGIC",
        ),
    ];
    let compiler = cc::Build::new().get_compiler();
    for (defines, name, var) in plugins {
        let dst = out.join(name);
        let status = compiler
            .to_command()
            .args([
                "-shared",
                "-fPIC",
                "-O1",
                "-Wall",
                "-Werror",
                "-Wno-unused-parameter",
            ])
            .args(*defines)
            .arg("-o")
            .arg(&dst)
            .arg(src)
            .status()
            .expect("run the C compiler for a test plugin");
        assert!(status.success(), "compiling {name} failed");
        println!("cargo:rustc-env={var}={}", dst.display());
    }
}
