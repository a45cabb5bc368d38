"""Test plugin for per-job details: every parse_plugin_definition is
reported (FileSet lines, pluginoptions, backup commands), GetInstanceCount
and debug messages at two levels are emitted, and each `Plugin =` line
backs up one virtual file (options file=PATH, text=CONTENT)."""

import os

import bareosfd
from bareosfd import (
    CF_EXTRACT,
    FT_REG,
    IO_CLOSE,
    IO_OPEN,
    IO_READ,
    IO_WRITE,
    M_INFO,
    bRC_OK,
    bRC_Stop,
    iostat_do_in_plugin,
)

state = {"opts": {}, "pending": False, "data": b"", "out": None}


def load_bareos_plugin(plugindef):
    bareosfd.JobMessage(M_INFO, "probe: instances=%s\n" % bareosfd.GetInstanceCount())
    bareosfd.DebugMessage(100, "probe: debug at 100\n")
    bareosfd.DebugMessage(400, "probe: debug at 400\n")
    return bRC_OK


def parse_plugin_definition(plugindef):
    bareosfd.JobMessage(M_INFO, "probe: parse %s\n" % plugindef)
    opts = dict(p.split("=", 1) for p in plugindef.split(":") if "=" in p)
    if "file" in opts:
        state["opts"] = opts
        state["pending"] = True
    return bRC_OK


def start_backup_file(savepkt):
    if not state["pending"]:
        return bRC_Stop
    state["pending"] = False
    text = state["opts"].get("text", "").encode()
    savepkt.fname = state["opts"]["file"]
    savepkt.type = FT_REG
    statp = bareosfd.StatPacket()
    statp.st_size = len(text)
    savepkt.statp = statp
    state["data"] = text
    return bRC_OK


def end_backup_file():
    return bRC_OK


def plugin_io(IOP):
    if IOP.func == IO_OPEN:
        if IOP.flags & 3:
            os.makedirs(os.path.dirname(IOP.fname), exist_ok=True)
            state["out"] = open(IOP.fname, "wb")
        IOP.status = iostat_do_in_plugin
    elif IOP.func == IO_READ:
        IOP.buf = bytearray(state["data"])
        IOP.status = len(state["data"])
        state["data"] = b""
    elif IOP.func == IO_WRITE:
        state["out"].write(IOP.buf)
        IOP.status = IOP.count
    elif IOP.func == IO_CLOSE and state["out"]:
        state["out"].close()
        state["out"] = None
    return bRC_OK


def start_restore_file(cmd):
    return bRC_OK


def end_restore_file():
    return bRC_OK


def create_file(restorepkt):
    restorepkt.create_status = CF_EXTRACT
    return bRC_OK


def set_file_attributes(restorepkt):
    return bRC_OK
