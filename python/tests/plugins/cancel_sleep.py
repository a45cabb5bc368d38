"""Test plugin: one file whose IO_READ sleeps for a long time, and a
bEventCancelCommand handler. Used to check that a cancel reaches Python on
another thread while the job thread is blocked in plugin_io, and that the
job still ends in bounded time.

Option `quick=1`: instead, an endless stream of empty files whose calls all
return at once (the cancel then arrives between and during quick calls)."""

import threading
import time

import bareosfd
from bareosfd import (
    FT_REG,
    IO_OPEN,
    IO_READ,
    M_INFO,
    bEventCancelCommand,
    bRC_More,
    bRC_OK,
    iostat_do_in_plugin,
)

state = {"in_read": False, "quick": False, "files": 0}


def load_bareos_plugin(plugindef):
    bareosfd.RegisterEvents([bEventCancelCommand])
    return bRC_OK


def parse_plugin_definition(plugindef):
    state["quick"] = "quick=1" in plugindef.split(":")
    return bRC_OK


def handle_plugin_event(event):
    if event == bEventCancelCommand:
        bareosfd.JobMessage(
            M_INFO,
            "cancel_sleep: bEventCancelCommand on thread %s (main: %s), job thread in IO_READ: %s\n"
            % (threading.get_ident(), threading.main_thread().ident, state["in_read"]),
        )
    return bRC_OK


def start_backup_file(savepkt):
    if state["quick"]:
        state["files"] += 1
        savepkt.fname = "/cancel_sleep/quick-%d" % state["files"]
        savepkt.type = FT_REG
        savepkt.statp = bareosfd.StatPacket()
        return bRC_OK
    savepkt.fname = "/cancel_sleep/blocked"
    savepkt.type = FT_REG
    statp = bareosfd.StatPacket()
    statp.st_size = 10
    savepkt.statp = statp
    return bRC_OK


def end_backup_file():
    return bRC_More if state["quick"] else bRC_OK


def plugin_io(IOP):
    if IOP.func == IO_OPEN:
        IOP.status = iostat_do_in_plugin
    elif IOP.func == IO_READ and state["quick"]:
        IOP.buf = bytearray()
        IOP.status = 0
    elif IOP.func == IO_READ:
        state["in_read"] = True
        time.sleep(60)
        IOP.buf = bytearray()
        IOP.status = 0
    return bRC_OK
