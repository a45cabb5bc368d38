//! A runner serving one daemon gives its plugin that daemon's module only:
//! all three are built in, the others refuse to load.

use std::ffi::CString;

use pyo3::prelude::*;
use sidecar_runner::daemon::{self, Daemon};
use sidecar_runner::embedding;

#[test]
fn a_director_runner_refuses_the_other_daemons_modules() {
    daemon::set_served(Daemon::Dir);
    daemon::register_modules();
    embedding::initialize(embedding::Mode::Plugin).expect("python starts");
    Python::with_gil(|py| {
        let code = CString::new(
            r#"
import bareosdir
for other, daemon in [("bareosfd", "file daemon"), ("bareossd", "storage daemon")]:
    try:
        __import__(other)
    except ImportError as e:
        assert str(e) == f"{other} is the {daemon}'s module; this plugin runs in the director (import bareosdir)", str(e)
    else:
        raise AssertionError(other)
"#,
        )
        .expect("no NUL");
        py.run(&code, None, None).expect("python");
    });
}
