"""Test plugin: imports standard-library modules that live in C extension
files (struct, hashlib, json's speedups, datetime) and reports the Python
it runs in. A runner that took another Python build's standard library
fails here at import, as Bareos's own plugins did when bareos-fd was
started with a service manager's bare environment."""

import _struct  # noqa: F401  (a lib-dynload extension of the runner's Python)
import datetime
import hashlib
import json
import struct
import sys

import bareosfd
from bareosfd import M_INFO, bRC_OK


def load_bareos_plugin(plugindef):
    bareosfd.JobMessage(
        M_INFO,
        "stdlib_probe: prefix=%s executable=%s struct=%s sha256=%s at %s %s\n"
        % (
            sys.prefix,
            sys.executable,
            struct.calcsize("q"),
            hashlib.sha256(b"").hexdigest()[:8],
            datetime.date(2026, 1, 1).isoformat(),
            json.dumps([1]),
        ),
    )
    return bRC_OK


def parse_plugin_definition(plugindef):
    return bRC_OK


def handle_plugin_event(event):
    return bRC_OK


def start_backup_file(savepkt):
    # Nothing to save: the job shows the imports worked.
    return bareosfd.bRC_Stop
