//! Builds the C half of the core (the variadic CoreFunctions, which stable
//! Rust cannot define) and the C test plugins the integration tests load.

use std::path::{Path, PathBuf};

fn main() {
    println!("cargo:rerun-if-changed=src/core_varargs.c");
    cc::Build::new()
        .file("src/core_varargs.c")
        .warnings(true)
        .compile("fdhost_core_varargs");

    let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("OUT_DIR"));
    println!("cargo:rerun-if-changed=plugins/fdplugin.h");
    // (source, extra defines, output name, env var naming the path for tests)
    let plugins: &[(&str, &[&str], &str, &str)] = &[
        ("good.c", &[], "good-fd.so", "FDHOST_TEST_GOOD"),
        (
            "bad.c",
            &["-DBAD_MAGIC"],
            "badmagic-fd.so",
            "FDHOST_TEST_BAD_MAGIC",
        ),
        (
            "bad.c",
            &["-DBAD_VERSION"],
            "badversion-fd.so",
            "FDHOST_TEST_BAD_VERSION",
        ),
        (
            "bad.c",
            &["-DBAD_LICENSE"],
            "badlicense-fd.so",
            "FDHOST_TEST_BAD_LICENSE",
        ),
        (
            "bad.c",
            &["-DBAD_SIZE"],
            "badsize-fd.so",
            "FDHOST_TEST_BAD_SIZE",
        ),
        (
            "bad.c",
            &["-DNO_UNLOAD"],
            "nounload-fd.so",
            "FDHOST_TEST_NO_UNLOAD",
        ),
        (
            "bad.c",
            &["-DLOAD_FAILS"],
            "loadfails-fd.so",
            "FDHOST_TEST_LOAD_FAILS",
        ),
        (
            "bad.c",
            &["-DLICENSE_LOWER"],
            "lowerlic-fd.so",
            "FDHOST_TEST_LOWER_LICENSE",
        ),
    ];
    let compiler = cc::Build::new().get_compiler();
    for (src, defines, name, var) in plugins {
        let src = Path::new("plugins").join(src);
        println!("cargo:rerun-if-changed={}", src.display());
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
                "-Iplugins",
            ])
            .args(*defines)
            .arg("-o")
            .arg(&dst)
            .arg(&src)
            .status()
            .expect("run the C compiler for a test plugin");
        assert!(status.success(), "compiling {} failed", src.display());
        println!("cargo:rustc-env={var}={}", dst.display());
    }
}
