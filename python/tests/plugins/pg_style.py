"""Test plugin shaped like bareos-fd-postgresql: every backup starts with an
FT_RESTORE_FIRST restore object (before the first file), then one virtual
file per name of `files=a,b` (under /pg/, content "<name>:<tag>", changed
now). The
restore keeps per-file state keyed by the name create_file saw, and
end_restore_file looks it up, as bareos-fd-postgresql does: a
start/end_restore_file pair without create_file (a restore object's
plugin-name records) raises KeyError ''. check_file keeps the names of
`keep=` (bRC_Seen) and lets the others be deleted. Every call is reported
as a job message `pg: ...` (restore packets' where/regexwhere, bVarWhere,
bVarRegexWhere, bVarUsedConfig, get_acl/get_xattr)."""

import os
import time

import bareosfd
from bareosfd import (
    CF_EXTRACT,
    FT_REG,
    FT_RESTORE_FIRST,
    IO_CLOSE,
    IO_OPEN,
    IO_READ,
    IO_WRITE,
    M_INFO,
    bRC_More,
    bRC_OK,
    bRC_Seen,
    bRC_Stop,
    bVarRegexWhere,
    bVarUsedConfig,
    bVarWhere,
    iostat_do_in_plugin,
)

state = {
    "opts": {},
    "todo": [],
    "object_sent": False,
    "data": b"",
    "current": "",
    "files": {},
    "out": None,
}


def say(text):
    bareosfd.JobMessage(M_INFO, "pg: %s\n" % text)


def load_bareos_plugin(plugindef):
    bareosfd.RegisterEvents(
        [bareosfd.bEventStartRestoreJob, bareosfd.bEventEndRestoreJob]
    )
    say("used_config=%s" % bareosfd.GetValue(bVarUsedConfig))
    return bRC_OK


def parse_plugin_definition(plugindef):
    say("parse")
    opts = dict(p.split("=", 1) for p in plugindef.split(":") if "=" in p)
    state["opts"] = opts
    state["todo"] = [n for n in opts.get("files", "").split(",") if n]
    state["object_sent"] = False
    return bRC_OK


def handle_plugin_event(event):
    if event == bareosfd.bEventStartRestoreJob:
        say("start restore job")
    elif event == bareosfd.bEventEndRestoreJob:
        say("end restore job")
    return bRC_OK


def start_backup_file(savepkt):
    if not state["object_sent"]:
        state["object_sent"] = True
        data = ("state:%s" % state["opts"].get("tag", "")).encode()
        savepkt.fname = "/@pg_style/pg-state"
        savepkt.statp = bareosfd.StatPacket()
        savepkt.type = FT_RESTORE_FIRST
        savepkt.object_name = "pg-state"
        savepkt.object = bytearray(data)
        savepkt.object_len = len(data)
        savepkt.object_index = 1
        return bRC_OK
    if not state["todo"]:
        return bRC_Stop
    name = state["todo"].pop(0)
    text = ("%s:%s" % (name, state["opts"].get("tag", ""))).encode()
    savepkt.fname = "/pg/" + name
    savepkt.type = FT_REG
    statp = bareosfd.StatPacket()
    statp.st_size = len(text)
    statp.st_mode = 0o100644
    # Changed now: an accurate Incremental/Differential saves it.
    statp.st_mtime = statp.st_ctime = int(time.time())
    savepkt.statp = statp
    state["data"] = text
    return bRC_OK


def end_backup_file():
    return bRC_More if state["todo"] else bRC_OK


def check_file(fname):
    keep = ["/pg/" + n for n in state["opts"].get("keep", "").split(",") if n]
    return bRC_Seen if fname in keep else bRC_OK


def get_acl(acl):
    say("get_acl %s" % acl.fname)
    return bRC_OK


def get_xattr(xattr):
    say("get_xattr %s" % xattr.fname)
    return bRC_OK


def restore_object_data(rop):
    say("object %s jobid=%s %s" % (rop.object_name, rop.jobid, bytes(rop.object).decode()))
    return bRC_OK


def start_restore_file(cmd):
    state["current"] = ""
    say(
        "start_restore_file where=%s regexwhere=%s"
        % (bareosfd.GetValue(bVarWhere), bareosfd.GetValue(bVarRegexWhere))
    )
    return bRC_OK


def create_file(restorepkt):
    state["current"] = restorepkt.ofname
    state["files"][restorepkt.ofname] = restorepkt.original_file_name
    say(
        "create_file %s where=%s regexwhere=%s"
        % (restorepkt.ofname, restorepkt.where, restorepkt.regexwhere)
    )
    restorepkt.create_status = CF_EXTRACT
    return bRC_OK


def end_restore_file():
    original = state["files"][state["current"]]  # KeyError '' without create_file
    say("end_restore_file %s" % original)
    return bRC_OK


def set_file_attributes(restorepkt):
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
