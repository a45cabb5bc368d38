"""Test plugin for the conformance tests (tests/fdhost/tests/conformance.rs).

Plugin = "python3:module_path=...:module_name=conf_plugin[:files=a,b][:OPTION=VALUE...]"

Backs up one virtual file /conf/NAME per name in `files` (default `a`),
whose content is NAME, through plugin_io; restores them below the restore
location. It defines no check_file, get_acl or get_xattr. Restore calls
(create_file, set_file_attributes, end_restore_file) are reported as job
messages "conf: CALL ...". Options (all optional):

events=1        register every event 1..30 in load_bareos_plugin and report
                each one handle_plugin_event sees ("conf: event N")
term=1          handle_plugin_event returns 4 (bRC_Term)
end_restore=str end_restore_file returns a str
create=skip_error
                create_file sets create_status = CF_SKIP and returns bRC_Error
io_open=core_nofd
                IO_OPEN answers iostat_do_in_core without a descriptor
read_errno=N    IO_READ fails with status -1 and io_errno N
jobmsg=abort|error_term|percent
                JobMessage(M_ABORT resp. M_ERROR_TERM) in start_backup_file;
                percent: a job and a debug message with printf directives
ftype=N         the first file's savepkt.type is N (mode=OCTAL: its st_mode)
create=error|skip
                create_file answers CF_ERROR resp. CF_SKIP (with bRC_OK)
start_restore=error
                start_restore_file returns bRC_Error
short_write=1   IO_WRITE reports one byte less than it got
rebind=1        start_backup_file rebinds the module's end_backup_file
index_rc=1      end_restore_file returns an object with __index__ (0) and
                create_file returns True (1)
atexit=PATH     register an atexit handler and start a non-daemon thread;
                they write PATH.atexit resp. PATH.thread
"""

import atexit
import os
import threading
import time

import bareosfd
from bareosfd import (
    CF_ERROR,
    CF_EXTRACT,
    CF_SKIP,
    FT_REG,
    IO_CLOSE,
    IO_OPEN,
    IO_READ,
    IO_WRITE,
    M_ABORT,
    M_ERROR_TERM,
    M_INFO,
    bRC_Error,
    bRC_More,
    bRC_OK,
    iostat_do_in_core,
    iostat_do_in_plugin,
)

options = {}
state = {"todo": [], "data": b"", "out": None}


def parse(plugindef):
    for item in plugindef.split(":"):
        if "=" in item:
            key, value = item.split("=", 1)
            options[key] = value


def write_marker(path):
    with open(path, "w") as f:
        f.write("ran\n")


def load_bareos_plugin(plugindef):
    parse(plugindef)
    if options.get("events") == "1":
        bareosfd.RegisterEvents(list(range(1, 31)))
    else:
        bareosfd.RegisterEvents([2])  # bEventJobEnd
    marker = options.get("atexit")
    if marker:
        atexit.register(write_marker, marker + ".atexit")

        def late():
            time.sleep(0.5)
            write_marker(marker + ".thread")

        threading.Thread(target=late, daemon=False).start()
    return bRC_OK


def parse_plugin_definition(plugindef):
    parse(plugindef)
    state["todo"] = [n for n in options.get("files", "a").split(",") if n]
    return bRC_OK


def handle_plugin_event(event):
    if options.get("events") == "1":
        bareosfd.JobMessage(M_INFO, "conf: event %d\n" % event)
    if options.get("term") == "1":
        return 4
    return bRC_OK


def start_backup_file(savepkt):
    if options.get("jobmsg") == "percent":
        bareosfd.JobMessage(M_INFO, "conf: 100%s %n %d%%\n")
        bareosfd.DebugMessage(100, "conf: debug 100%s %n %d%%\n")
    elif options.get("jobmsg") == "abort":
        bareosfd.JobMessage(M_ABORT, "conf: plugin sent M_ABORT\n")
    elif options.get("jobmsg") == "error_term":
        bareosfd.JobMessage(M_ERROR_TERM, "conf: plugin sent M_ERROR_TERM\n")
    if options.get("rebind") == "1":
        globals()["end_backup_file"] = rebound_end_backup_file
    first = len(state["todo"]) == len(options.get("files", "a").split(","))
    name = state["todo"].pop(0)
    statp = bareosfd.StatPacket()
    statp.st_size = len(name)
    if first and "mode" in options:
        statp.st_mode = int(options["mode"], 8)
    savepkt.statp = statp
    savepkt.fname = "/conf/" + name
    savepkt.type = FT_REG
    if first and "ftype" in options:
        savepkt.type = int(options["ftype"])
    state["data"] = name.encode()
    return bRC_OK


def end_backup_file():
    return bRC_More if state["todo"] else bRC_OK


def rebound_end_backup_file():
    bareosfd.JobMessage(M_INFO, "conf: rebound end_backup_file\n")
    return bRC_More if state["todo"] else bRC_OK


class Index:
    def __index__(self):
        return 0


def plugin_io(IOP):
    if IOP.func == IO_OPEN:
        if options.get("io_open") == "core_nofd":
            IOP.status = iostat_do_in_core
            return bRC_OK
        if IOP.flags & 3:
            os.makedirs(os.path.dirname(IOP.fname), exist_ok=True)
            state["out"] = open(IOP.fname, "wb")
        IOP.status = iostat_do_in_plugin
    elif IOP.func == IO_READ:
        if "read_errno" in options:
            IOP.status = -1
            IOP.io_errno = int(options["read_errno"])
            return bRC_Error
        IOP.buf = bytearray(state["data"])
        IOP.status = len(state["data"])
        state["data"] = b""
    elif IOP.func == IO_WRITE:
        state["out"].write(IOP.buf)
        IOP.status = IOP.count
        if options.get("short_write") == "1":
            IOP.status = IOP.count - 1
    elif IOP.func == IO_CLOSE and state["out"]:
        state["out"].close()
        state["out"] = None
    return bRC_OK


def start_restore_file(cmd):
    if options.get("start_restore") == "error":
        return bRC_Error
    return bRC_OK


def end_restore_file():
    bareosfd.JobMessage(M_INFO, "conf: end_restore_file\n")
    if options.get("end_restore") == "str":
        return "not an int"
    if options.get("index_rc") == "1":
        return Index()
    return bRC_OK


def create_file(restorepkt):
    bareosfd.JobMessage(M_INFO, "conf: create_file %s\n" % restorepkt.ofname)
    create = options.get("create")
    if create == "skip_error":
        restorepkt.create_status = CF_SKIP
        return bRC_Error
    if create == "error":
        restorepkt.create_status = CF_ERROR
        return bRC_OK
    if create == "skip":
        restorepkt.create_status = CF_SKIP
        return bRC_OK
    restorepkt.create_status = CF_EXTRACT
    if options.get("index_rc") == "1":
        return True
    return bRC_OK


def set_file_attributes(restorepkt):
    bareosfd.JobMessage(M_INFO, "conf: set_file_attributes %s\n" % restorepkt.ofname)
    return bRC_OK
