"""Back up data produced in Python: virtual files whose bytes are computed.

FileSet:  Plugin = "python3:module_path=...:module_name=sidecar_generated:files=3:size=1048576"

Options:
  files=N        number of virtual files (default 1)
  size=BYTES     size of each file (default 1 MiB); sizes=A,B,C gives each
                 file its own size instead
  prefix=PATH    virtual directory of the files (default /generated)

Byte j of file i is (j * 31 + i * 7) % 251, so anyone can check a restore.
Backup hands the data to the daemon through plugin_io (IO_READ); restore
writes it back through plugin_io (IO_WRITE) into real files under "where".
This is the path whose data cannot be handed over as a descriptor.
"""

import os
from typing import IO, Optional

import bareosfd
from bareosfd import (
    bRC_Error,
    bRC_More,
    bRC_OK,
    CF_EXTRACT,
    FT_REG,
    IO_CLOSE,
    IO_OPEN,
    IO_READ,
    IO_SEEK,
    IO_WRITE,
    M_ERROR,
    M_FATAL,
    iostat_do_in_plugin,
)

PERIOD = 251
# One period of the pattern for each file start offset; slicing a doubled
# copy of it yields any chunk without per-byte Python work.
_BASE = bytes((j * 31) % PERIOD for j in range(PERIOD)) * 2


def pattern(index: int, offset: int, length: int) -> bytes:
    """Bytes [offset, offset + length) of file `index`."""
    shift = (index * 7) % PERIOD
    # (j*31 + i*7) % 251 == base[(j + k) % 251] where 31*k == i*7 (mod 251)
    k = (shift * pow(31, -1, PERIOD)) % PERIOD
    start = (offset + k) % PERIOD
    reps = (length + PERIOD) // PERIOD + 1
    return (_BASE[start : start + PERIOD] * reps)[:length]


class Generated:
    def __init__(self) -> None:
        self.options: dict[str, str] = {}
        self.files: Optional[list[tuple[str, int]]] = None
        self.current = 0
        self.offset = 0
        self.out: Optional[IO[bytes]] = None

    def setup(self) -> None:
        count = int(self.options.get("files", "1"))
        if "sizes" in self.options:
            sizes = [int(s) for s in self.options["sizes"].split(",")]
        else:
            sizes = [int(self.options.get("size", str(1 << 20)))] * count
        prefix = self.options.get("prefix", "/generated").rstrip("/")
        self.files = [("%s/file-%d" % (prefix, i), size) for i, size in enumerate(sizes)]

    def start_backup_file(self, savepkt: bareosfd.SavePacket) -> int:
        if self.files is None:
            self.setup()
        assert self.files is not None
        name, size = self.files[self.current]
        statp = bareosfd.StatPacket()
        statp.st_mode = 0o100644
        statp.st_size = size
        statp.st_mtime = statp.st_atime = statp.st_ctime = 1_700_000_000
        savepkt.statp = statp
        savepkt.fname = name
        savepkt.type = FT_REG
        savepkt.no_read = False
        return bRC_OK

    def end_backup_file(self) -> int:
        assert self.files is not None
        self.current += 1
        return bRC_More if self.current < len(self.files) else bRC_OK

    def plugin_io(self, IOP: bareosfd.IoPacket) -> int:
        if IOP.func == IO_OPEN:
            self.offset = 0
            if IOP.flags & (os.O_WRONLY | os.O_RDWR):
                try:
                    assert IOP.fname is not None
                    self.out = open(IOP.fname, "wb")
                except OSError as e:
                    IOP.status = -1
                    IOP.io_errno = e.errno or 0
                    return bRC_Error
            IOP.status = iostat_do_in_plugin
        elif IOP.func == IO_READ:
            assert self.files is not None
            _, size = self.files[self.current]
            n = max(0, min(IOP.count, size - self.offset))
            IOP.buf = bytearray(pattern(self.current, self.offset, n))
            IOP.status = n
            self.offset += n
        elif IOP.func == IO_WRITE:
            assert self.out is not None and IOP.buf is not None
            self.out.write(IOP.buf)
            IOP.status = IOP.count
        elif IOP.func == IO_SEEK:
            IOP.status = 0
        elif IOP.func == IO_CLOSE:
            if self.out is not None:
                self.out.close()
                self.out = None
            IOP.status = 0
        return bRC_OK

    def create_file(self, restorepkt: bareosfd.RestorePacket) -> int:
        try:
            os.makedirs(os.path.dirname(restorepkt.ofname), exist_ok=True)
        except OSError as e:
            bareosfd.JobMessage(M_ERROR, "cannot create %s: %s\n" % (restorepkt.ofname, e.strerror))
            return bRC_Error
        restorepkt.create_status = CF_EXTRACT
        return bRC_OK


plugin = Generated()


def load_bareos_plugin(plugindef: str) -> int:
    return bRC_OK


def parse_plugin_definition(plugindef: str) -> int:
    for item in plugindef.split(":"):
        if "=" in item:
            key, value = item.split("=", 1)
            plugin.options.setdefault(key, value)
    try:
        int(plugin.options.get("files", "1"))
    except ValueError:
        bareosfd.JobMessage(M_FATAL, "sidecar_generated: files must be a number\n")
        return bRC_Error
    return bRC_OK


def handle_plugin_event(event: int) -> int:
    return bRC_OK


def start_backup_file(savepkt: bareosfd.SavePacket) -> int:
    return plugin.start_backup_file(savepkt)


def end_backup_file() -> int:
    return plugin.end_backup_file()


def plugin_io(IOP: bareosfd.IoPacket) -> int:
    return plugin.plugin_io(IOP)


def start_restore_file(cmd: str) -> int:
    return bRC_OK


def end_restore_file() -> int:
    return bRC_OK


def create_file(restorepkt: bareosfd.RestorePacket) -> int:
    return plugin.create_file(restorepkt)


def set_file_attributes(restorepkt: bareosfd.RestorePacket) -> int:
    return bRC_OK


def check_file(fname: str) -> int:
    return bRC_OK


# bareos-fd asks every plugin file for ACLs and extended attributes (the
# FileSet default). This example keeps neither: nothing to save, nothing
# to restore.
def get_acl(acl: bareosfd.AclPacket) -> int:
    return bRC_OK


def set_acl(acl: bareosfd.AclPacket) -> int:
    return bRC_OK


def get_xattr(xattr: bareosfd.XattrPacket) -> int:
    return bRC_OK


def set_xattr(xattr: bareosfd.XattrPacket) -> int:
    return bRC_OK
