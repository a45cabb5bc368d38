"""Shared skeleton of the limit_* test plugins (tests/fdhost/tests/limits.rs).

Each limit_<name>.py backs up one small virtual file and runs its `hog` in
start_backup_file, where it runs into the runner's limit. At load time the
plugin reports the option string it was given, so a test can check that the
shim removed every sidecar.* option before Python saw it.
"""

import bareosfd
from bareosfd import FT_REG, IO_CLOSE, IO_OPEN, IO_READ, M_INFO, bRC_OK, iostat_do_in_plugin


def plugin(hog):
    options = {}
    state = {"sent": False}

    def parse(plugindef):
        for item in plugindef.split(":"):
            if "=" in item:
                key, value = item.split("=", 1)
                options.setdefault(key, value)

    def load_bareos_plugin(plugindef):
        bareosfd.JobMessage(M_INFO, "limit plugin options: %s\n" % plugindef)
        parse(plugindef)
        return bRC_OK

    def parse_plugin_definition(plugindef):
        parse(plugindef)
        return bRC_OK

    def handle_plugin_event(event):
        return bRC_OK

    def start_backup_file(savepkt):
        hog(options)
        statp = bareosfd.StatPacket()
        statp.st_size = 4
        savepkt.statp = statp
        savepkt.fname = "/limit/file"
        savepkt.type = FT_REG
        return bRC_OK

    def end_backup_file():
        return bRC_OK

    def plugin_io(IOP):
        if IOP.func == IO_OPEN:
            IOP.status = iostat_do_in_plugin
        elif IOP.func == IO_READ:
            data = b"" if state["sent"] else b"data"
            state["sent"] = True
            IOP.buf = bytearray(data)
            IOP.status = len(data)
        elif IOP.func == IO_CLOSE:
            IOP.status = 0
        return bRC_OK

    return {
        "load_bareos_plugin": load_bareos_plugin,
        "parse_plugin_definition": parse_plugin_definition,
        "handle_plugin_event": handle_plugin_event,
        "start_backup_file": start_backup_file,
        "end_backup_file": end_backup_file,
        "plugin_io": plugin_io,
    }
