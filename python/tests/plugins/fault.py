"""Test plugin: misbehaves in a chosen way at a chosen entry point.

Plugin = "python3:module_path=...:module_name=fault:fault=KIND:at=ENTRY[:after=N]"

KIND:  segfault | abort | exit3 | sysexit | raise | loop | deadlock |
       return_none | return_str | sleep | sigkill | garbage | closesock
       stop (the runner stops itself with SIGSTOP: alive, but silent)
       print (not a fault: prints a line to stdout and one to stderr)
       | garbage_control | closesock_control
       (garbage writes junk into the runner's call channel, closesock closes
       it; the _control variants do the same to the gRPC control stream:
       what a broken runner would do)
ENTRY: load_bareos_plugin | parse_plugin_definition | handle_plugin_event |
       start_backup_file | end_backup_file | plugin_io | start_restore_file |
       end_restore_file | create_file | set_file_attributes | check_file
after=N: misbehave only from the N-th call of ENTRY on (default 1).
phase=restore: misbehave only once a restore has started (so the backup
       that makes the archive works).

Until it misbehaves it backs up three small generated files through
plugin_io, so a test can tell "failed at the fault" from "never worked".
"""

import ctypes
import os
import signal
import socket
import sys
import threading
import time

import bareosfd
from bareosfd import (
    CF_EXTRACT,
    FT_REG,
    IO_CLOSE,
    IO_OPEN,
    IO_READ,
    IO_WRITE,
    bRC_More,
    bRC_OK,
    iostat_do_in_plugin,
)

options = {}
calls = {}
state = {"file": 0, "sent": False, "out": None, "restoring": False}
FILES = 3
# The runner's descriptors (see proto/sidecar/v1/session.proto): the call
# channel's pipe to the shim, the control stream's socket.
CHANNELS = {
    "garbage": 8,
    "closesock": 8,
    "garbage_control": 3,
    "closesock_control": 3,
}
_lock = threading.Lock()


def misbehave(entry):
    if options.get("at") != entry:
        return None
    if options.get("phase") == "restore" and not state["restoring"]:
        return None
    calls[entry] = calls.get(entry, 0) + 1
    if calls[entry] < int(options.get("after", "1")):
        return None
    kind = options.get("fault")
    if kind == "segfault":
        ctypes.string_at(0)
    elif kind == "abort":
        os.abort()
    elif kind == "exit3":
        os._exit(3)
    elif kind == "sysexit":
        sys.exit("plugin called sys.exit")
    elif kind == "raise":
        raise ValueError("fault plugin raised in %s" % entry)
    elif kind == "loop":
        while True:
            pass
    elif kind == "deadlock":
        _lock.acquire()
        _lock.acquire()
    elif kind == "sigkill":
        os.kill(os.getpid(), signal.SIGKILL)
    elif kind in ("garbage", "garbage_control"):
        os.write(CHANNELS[kind], b"\x00\x00\x08\x07\xff\xff\xff\xffgarbage!" * 4)
        time.sleep(3600)
    elif kind == "closesock":
        # Every copy of the pipe's end the runner holds: then the shim sees
        # the end of the stream.
        pipe = os.readlink("/proc/self/fd/%d" % CHANNELS[kind])
        for fd in os.listdir("/proc/self/fd"):
            try:
                if os.readlink("/proc/self/fd/" + fd) == pipe:
                    os.close(int(fd))
            except OSError:
                pass
        time.sleep(3600)
    elif kind == "closesock_control":
        socket.socket(fileno=os.dup(CHANNELS[kind])).shutdown(socket.SHUT_RDWR)
        time.sleep(3600)
    elif kind == "stop":
        os.kill(os.getpid(), signal.SIGSTOP)
    elif kind == "print":
        print("hello from the plugin's stdout in %s" % entry)
        sys.stderr.write("hello from the plugin's stderr in %s\n" % entry)
    elif kind == "sleep":
        time.sleep(float(options.get("seconds", "3600")))
    elif kind == "return_none":
        return "none"
    elif kind == "return_str":
        return "str"
    return None


def result(entry, rc=bRC_OK):
    bad = misbehave(entry)
    if bad == "none":
        return None
    if bad == "str":
        return "OK"
    return rc


def parse(plugindef):
    for item in plugindef.split(":"):
        if "=" in item:
            key, value = item.split("=", 1)
            options.setdefault(key, value)


def load_bareos_plugin(plugindef):
    parse(plugindef)
    bareosfd.RegisterEvents([bareosfd.bEventEndBackupJob, bareosfd.bEventEndRestoreJob])
    return result("load_bareos_plugin")


def parse_plugin_definition(plugindef):
    parse(plugindef)
    return result("parse_plugin_definition")


def handle_plugin_event(event):
    return result("handle_plugin_event")


def start_backup_file(savepkt):
    statp = bareosfd.StatPacket()
    statp.st_size = 10
    savepkt.statp = statp
    savepkt.fname = "/fault/file-%d" % state["file"]
    savepkt.type = FT_REG
    state["sent"] = False
    return result("start_backup_file")


def end_backup_file():
    state["file"] += 1
    return result("end_backup_file", bRC_More if state["file"] < FILES else bRC_OK)


def plugin_io(IOP):
    if IOP.func == IO_OPEN:
        if IOP.flags & (os.O_WRONLY | os.O_RDWR):
            os.makedirs(os.path.dirname(IOP.fname), exist_ok=True)
            state["out"] = open(IOP.fname, "wb")
        IOP.status = iostat_do_in_plugin
    elif IOP.func == IO_READ:
        data = b"" if state["sent"] else b"0123456789"
        state["sent"] = True
        IOP.buf = bytearray(data)
        IOP.status = len(data)
    elif IOP.func == IO_WRITE:
        state["out"].write(IOP.buf)
        IOP.status = IOP.count
    elif IOP.func == IO_CLOSE:
        if state["out"] is not None:
            state["out"].close()
            state["out"] = None
        IOP.status = 0
    return result("plugin_io")


def start_restore_file(cmd):
    state["restoring"] = True
    return result("start_restore_file")


def end_restore_file():
    return result("end_restore_file")


def create_file(restorepkt):
    restorepkt.create_status = CF_EXTRACT
    return result("create_file")


def set_file_attributes(restorepkt):
    return result("set_file_attributes")


def check_file(fname):
    return result("check_file")
