"""Test plugin: hangs, and answers a cancel the way Bareos's own
cancel-check plugins do, with core functions from the handler.

Plugin = "python3:module_path=...:module_name=cancel_handler[:at=ENTRY][:register=0]"

at=start_backup_file (default) | plugin_io: where the job thread hangs
    (time.sleep, GIL released, as a plugin waiting for a database would).
register=0: do not register bEventCancelCommand (the daemon then never
    calls the plugin on cancel; the job must still end promptly).

The handler (on the daemon's cancel thread) calls GetValue(bVarJobId) and
JobMessage; its message says which job it was and where the job thread
was, so a test can tell that both core functions answered."""

import threading
import time

import bareosfd
from bareosfd import (
    FT_REG,
    IO_OPEN,
    IO_READ,
    M_INFO,
    bEventCancelCommand,
    bRC_OK,
    bVarJobId,
    iostat_do_in_plugin,
)

options = {"at": "start_backup_file", "register": "1"}
state = {"hanging_in": None}


def load_bareos_plugin(plugindef):
    for part in plugindef.split(":"):
        if "=" in part:
            key, value = part.split("=", 1)
            options[key] = value
    if options["register"] != "0":
        bareosfd.RegisterEvents([bEventCancelCommand])
    return bRC_OK


def parse_plugin_definition(plugindef):
    return bRC_OK


def handle_plugin_event(event):
    if event == bEventCancelCommand:
        jobid = bareosfd.GetValue(bVarJobId)
        bareosfd.JobMessage(
            M_INFO,
            "cancel handler: jobid=%d, main thread in %s, handler thread is main: %s\n"
            % (
                jobid,
                state["hanging_in"],
                threading.current_thread() is threading.main_thread(),
            ),
        )
    return bRC_OK


def hang(where):
    state["hanging_in"] = where
    time.sleep(3600)


def start_backup_file(savepkt):
    if options["at"] == "start_backup_file":
        hang("start_backup_file")
    savepkt.fname = "/cancel_handler/blocked"
    savepkt.type = FT_REG
    statp = bareosfd.StatPacket()
    statp.st_size = 10
    savepkt.statp = statp
    return bRC_OK


def end_backup_file():
    return bRC_OK


def plugin_io(IOP):
    if IOP.func == IO_OPEN:
        IOP.status = iostat_do_in_plugin
    elif IOP.func == IO_READ:
        hang("plugin_io")
        IOP.buf = bytearray()
        IOP.status = 0
    return bRC_OK
