"""Test plugin: reports which CPUs its serving thread may run on and which
a thread it starts with `threading` gets, then saves nothing. The runner
moves its serving thread to the calling daemon thread's CPU
(sidecar.toml `follow_cpu`); the plugin's own threads must not stay
there."""

import os
import threading

import bareosfd
from bareosfd import M_INFO, bRC_OK


def _cpus(mask):
    return ",".join(str(c) for c in sorted(mask))


def load_bareos_plugin(plugindef):
    seen = {}

    def worker():
        seen["mask"] = os.sched_getaffinity(0)

    t = threading.Thread(target=worker)
    t.start()
    t.join()
    bareosfd.JobMessage(
        M_INFO,
        "cpu_probe: serving=%s thread=%s\n"
        % (_cpus(os.sched_getaffinity(0)), _cpus(seen["mask"])),
    )
    return bRC_OK


def parse_plugin_definition(plugindef):
    return bRC_OK


def handle_plugin_event(event):
    return bRC_OK


def start_backup_file(savepkt):
    return bareosfd.bRC_Stop
