"""Test plugin: sidecar_local_fileset (the example) with a pause before
every file it backs up, so that a job takes a predictable time and two jobs
really are inside the file daemon at once (tests/bareos
`two-concurrent-jobs`).

Plugin = "python3:module_path=<this dir>:module_name=slow_local_fileset:examples=<dir of sidecar_local_fileset.py>:delay=0.2:filename=<list>"

* `examples=DIR`: where sidecar_local_fileset.py is (prepended to sys.path);
* `delay=SECONDS`: sleep in start_backup_file before each file (default 0.2);
  restores are not slowed down.

Every other option goes to sidecar_local_fileset unchanged.
"""

import importlib
import sys
import time

state = {"delay": 0.2, "inner": None}


def _options(plugindef):
    return dict(item.split("=", 1) for item in plugindef.split(":") if "=" in item)


def _inner(plugindef):
    if state["inner"] is None:
        opts = _options(plugindef)
        examples = opts.get("examples")
        if examples and examples not in sys.path:
            sys.path.insert(0, examples)
        state["delay"] = float(opts.get("delay", state["delay"]))
        state["inner"] = importlib.import_module("sidecar_local_fileset")
    return state["inner"]


def load_bareos_plugin(plugindef):
    return _inner(plugindef).load_bareos_plugin(plugindef)


def parse_plugin_definition(plugindef):
    return _inner(plugindef).parse_plugin_definition(plugindef)


def start_backup_file(savepkt):
    time.sleep(state["delay"])
    return state["inner"].start_backup_file(savepkt)


# Everything else straight to the example.


def handle_plugin_event(*args):
    return state["inner"].handle_plugin_event(*args)


def end_backup_file(*args):
    return state["inner"].end_backup_file(*args)


def plugin_io(*args):
    return state["inner"].plugin_io(*args)


def start_restore_file(*args):
    return state["inner"].start_restore_file(*args)


def end_restore_file(*args):
    return state["inner"].end_restore_file(*args)


def create_file(*args):
    return state["inner"].create_file(*args)


def set_file_attributes(*args):
    return state["inner"].set_file_attributes(*args)


def check_file(*args):
    return state["inner"].check_file(*args)


def get_acl(*args):
    return state["inner"].get_acl(*args)


def set_acl(*args):
    return state["inner"].set_acl(*args)


def get_xattr(*args):
    return state["inner"].get_xattr(*args)


def set_xattr(*args):
    return state["inner"].set_xattr(*args)
