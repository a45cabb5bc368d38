"""Test plugin for the debugger tests: backs up one virtual file whose
name is known, with a line in start_backup_file marked for a breakpoint."""

import bareosfd
from bareosfd import CF_EXTRACT, FT_REG, IO_CLOSE, IO_OPEN, IO_READ, IO_WRITE, bRC_OK

state = {"sent": False}
DATA = b"debugged\n"


def load_bareos_plugin(plugindef):
    return bRC_OK


def parse_plugin_definition(plugindef):
    return bRC_OK


def handle_plugin_event(event):
    return bRC_OK


def start_backup_file(savepkt):
    savepkt.fname = "/debug_target/file"
    savepkt.type = FT_REG
    statp = bareosfd.StatPacket()
    statp.st_size = len(DATA)
    savepkt.statp = statp
    return bRC_OK  # BREAK HERE


def end_backup_file():
    return bRC_OK


def plugin_io(IOP):
    if IOP.func == IO_OPEN:
        state["sent"] = False
        IOP.status = 0
    elif IOP.func == IO_READ:
        IOP.buf = bytearray(b"" if state["sent"] else DATA)
        IOP.status = len(IOP.buf)
        state["sent"] = True
    elif IOP.func in (IO_CLOSE, IO_WRITE):
        IOP.status = 0 if IOP.func == IO_CLOSE else len(IOP.buf)
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


def check_file(fname):
    return bRC_OK
