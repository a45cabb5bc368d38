"""Test option plugin (FileSet `Options { Plugin = ... }`): consulted for
every file the core walks. `*.skip` -> bRC_Skip (not saved), `*.core` ->
bRC_Core (the core saves it), everything else -> bRC_OK (saved through
this plugin's plugin_io, restored with CF_CORE through plugin_io)."""

import bareosfd
from bareosfd import (
    CF_CORE,
    IO_CLOSE,
    IO_OPEN,
    IO_READ,
    IO_WRITE,
    M_INFO,
    bEventHandleBackupFile,
    bRC_Core,
    bRC_OK,
    bRC_Skip,
    iostat_do_in_plugin,
)

io = {"file": None, "name": None, "bytes": 0}


def load_bareos_plugin(plugindef):
    bareosfd.RegisterEvents([bEventHandleBackupFile])
    return bRC_OK


def parse_plugin_definition(plugindef):
    return bRC_OK


def handle_backup_file(savepkt):
    name = savepkt.fname
    if name.endswith(".skip"):
        answer = "skip"
    elif name.endswith(".core"):
        answer = "core"
    else:
        answer = "plugin"
    bareosfd.JobMessage(
        M_INFO,
        "option_plugin: %s type=%d size=%d -> %s\n"
        % (name, savepkt.type, savepkt.statp.st_size, answer),
    )
    return {"skip": bRC_Skip, "core": bRC_Core, "plugin": bRC_OK}[answer]


def plugin_io(IOP):
    if IOP.func == IO_OPEN:
        writing = IOP.flags & 3
        io["file"] = open(IOP.fname, "wb" if writing else "rb")
        io["name"] = IOP.fname
        io["bytes"] = 0
        IOP.status = iostat_do_in_plugin
    elif IOP.func == IO_READ:
        IOP.buf = bytearray(io["file"].read(IOP.count))
        IOP.status = len(IOP.buf)
        io["bytes"] += IOP.status
    elif IOP.func == IO_WRITE:
        io["file"].write(IOP.buf)
        IOP.status = IOP.count
        io["bytes"] += IOP.count
    elif IOP.func == IO_CLOSE:
        io["file"].close()
        bareosfd.JobMessage(M_INFO, "option_plugin: %d bytes through plugin_io for %s\n" % (io["bytes"], io["name"]))
    return bRC_OK


def start_restore_file(cmd):
    return bRC_OK


def end_restore_file():
    return bRC_OK


def create_file(restorepkt):
    restorepkt.create_status = CF_CORE
    return bRC_OK


def set_file_attributes(restorepkt):
    return bRC_OK
