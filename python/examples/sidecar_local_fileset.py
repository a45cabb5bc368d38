"""Back up and restore local files listed in a file, Bareos local-fileset style.

FileSet:  Plugin = "python3:module_path=/usr/lib/bareos/plugins/sidecar/examples:module_name=sidecar_local_fileset:filename=/etc/bareos/backup-list"

Options (after module_name):
  filename=FILE   one path per line (blank lines and # comments ignored);
                  directories are walked recursively.
  io=core|plugin  core (default): hand the daemon the open descriptor so it
                  reads/writes the file itself ("I/O in core", no data through
                  Python); plugin: read and write the data in Python via
                  plugin_io.

Backs up regular files (also empty ones), directories and symlinks; restores
them under the job's "where" with mode, owner (when running as root), atime
and mtime. Written against the Bareos >= 22 Python API and runs unmodified
in-process (python3-fd) or out of process (bareos-sidecar).
"""

import os
import stat
from typing import IO, Optional

import bareosfd
from bareosfd import (
    bRC_Error,
    bRC_More,
    bRC_OK,
    bRC_Stop,
    CF_CREATED,
    CF_EXTRACT,
    CF_SKIP,
    FT_DIREND,
    FT_LNK,
    FT_REG,
    IO_CLOSE,
    IO_OPEN,
    IO_READ,
    IO_SEEK,
    IO_WRITE,
    M_ERROR,
    M_FATAL,
    M_INFO,
    M_WARNING,
    iostat_do_in_core,
    iostat_do_in_plugin,
)


def parse_options(plugindef: str) -> dict[str, str]:
    """key=value pairs separated by ':' ('\\:' escapes a colon); first value wins."""
    options: dict[str, str] = {}
    key_value = ""
    escaped = False
    for ch in plugindef + ":":
        if escaped:
            key_value += ch
            escaped = False
        elif ch == "\\":
            escaped = True
        elif ch == ":":
            if "=" in key_value:
                key, value = key_value.split("=", 1)
                options.setdefault(key, value)
            key_value = ""
        else:
            key_value += ch
    return options


class LocalFileset:
    def __init__(self) -> None:
        self.options: dict[str, str] = {}
        self.queue: Optional[list[str]] = None  # paths still to back up, built on first use
        self.file: Optional[IO[bytes]] = None  # Python file object for io=plugin
        self.fd: Optional[int] = None  # raw descriptor for io=core
        # (name, stat, is_link) of the file being restored
        self.attributes: Optional[tuple[str, bareosfd.StatPacket, bool]] = None

    # ---------------------------------------------------------------- backup

    def build_queue(self) -> bool:
        list_file = self.options.get("filename")
        if not list_file:
            bareosfd.JobMessage(M_FATAL, "sidecar_local_fileset: option filename=<list file> is required\n")
            return False
        self.queue = []
        with open(list_file) as f:
            for line in f:
                path = line.rstrip("\n")
                if not path.strip() or path.lstrip().startswith("#"):
                    continue
                self.add(path)
        return True

    def add(self, path: str) -> None:
        assert self.queue is not None
        if os.path.isdir(path) and not os.path.islink(path):
            # Post-order: a directory's attributes are restored after its
            # contents, which would otherwise change its mtime again.
            for root, dirs, files in os.walk(path, topdown=False):
                for name in sorted(files):
                    self.queue.append(os.path.join(root, name))
                for name in sorted(dirs):
                    sub = os.path.join(root, name)
                    if os.path.islink(sub):
                        self.queue.append(sub)  # os.walk lists links to dirs as dirs
                    else:
                        self.queue.append(sub + "/")
            self.queue.append(path.rstrip("/") + "/")
        else:
            self.queue.append(path)

    def start_backup_file(self, savepkt: bareosfd.SavePacket) -> int:
        if self.queue is None and not self.build_queue():
            return bRC_Error
        assert self.queue is not None
        while self.queue:
            path = self.queue[0]
            is_dir = path.endswith("/") and len(path) > 1
            name = path.rstrip("/") if is_dir else path
            try:
                st = os.lstat(name)
            except OSError as e:
                bareosfd.JobMessage(M_WARNING, "cannot stat %s: %s\n" % (name, e.strerror))
                self.queue.pop(0)
                continue
            statp = bareosfd.StatPacket()
            statp.st_dev = st.st_dev & 0xFFFFFFFF
            statp.st_ino = st.st_ino
            statp.st_mode = st.st_mode
            statp.st_nlink = min(st.st_nlink, 0x7FFF)
            statp.st_uid = st.st_uid
            statp.st_gid = st.st_gid
            statp.st_size = st.st_size
            statp.st_atime = int(st.st_atime)
            statp.st_mtime = int(st.st_mtime)
            statp.st_ctime = int(st.st_ctime)
            savepkt.statp = statp
            savepkt.fname = name
            if stat.S_ISLNK(st.st_mode):
                savepkt.type = FT_LNK
                savepkt.link = os.readlink(name)
                savepkt.no_read = True
            elif stat.S_ISDIR(st.st_mode):
                savepkt.type = FT_DIREND
                savepkt.link = name + "/"
                savepkt.no_read = True
            elif stat.S_ISREG(st.st_mode):
                savepkt.type = FT_REG
                savepkt.no_read = False
            else:
                bareosfd.JobMessage(M_INFO, "skipping special file %s\n" % name)
                self.queue.pop(0)
                continue
            return bRC_OK
        bareosfd.JobMessage(M_WARNING, "sidecar_local_fileset: nothing to back up\n")
        return bRC_Stop

    def end_backup_file(self) -> int:
        if self.queue:
            self.queue.pop(0)
        return bRC_More if self.queue else bRC_OK

    # ------------------------------------------------------------------- I/O

    def plugin_io(self, IOP: bareosfd.IoPacket) -> int:
        in_core = self.options.get("io", "core") == "core"
        try:
            if IOP.func == IO_OPEN:
                assert IOP.fname is not None
                if IOP.flags & (os.O_WRONLY | os.O_RDWR):
                    fd = os.open(IOP.fname, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
                else:
                    fd = os.open(IOP.fname, os.O_RDONLY)
                if in_core:
                    self.fd = fd
                    IOP.filedes = fd
                    IOP.status = iostat_do_in_core
                else:
                    mode = "wb" if IOP.flags & (os.O_WRONLY | os.O_RDWR) else "rb"
                    self.file = os.fdopen(fd, mode)
                    IOP.status = iostat_do_in_plugin
            elif IOP.func == IO_READ:
                assert self.file is not None
                data = self.file.read(IOP.count)
                IOP.buf = bytearray(data)
                IOP.status = len(data)
            elif IOP.func == IO_WRITE:
                assert self.file is not None and IOP.buf is not None
                self.file.write(IOP.buf)
                IOP.status = IOP.count
            elif IOP.func == IO_SEEK:
                if self.fd is not None:
                    fd = self.fd
                else:
                    assert self.file is not None
                    fd = self.file.fileno()
                IOP.status = os.lseek(fd, IOP.offset, IOP.whence)
            elif IOP.func == IO_CLOSE:
                if self.fd is not None:
                    os.close(self.fd)  # the daemon never closes our descriptor
                    self.fd = None
                if self.file is not None:
                    self.file.close()
                    self.file = None
                IOP.status = 0
        except OSError as e:
            IOP.status = -1
            IOP.io_errno = e.errno or 0
            bareosfd.JobMessage(M_ERROR, "I/O on %s failed: %s\n" % (IOP.fname, e.strerror))
            return bRC_Error
        return bRC_OK

    # --------------------------------------------------------------- restore

    def create_file(self, restorepkt: bareosfd.RestorePacket) -> int:
        name = restorepkt.ofname
        try:
            if restorepkt.type == FT_DIREND:
                os.makedirs(name, exist_ok=True)
                restorepkt.create_status = CF_CREATED
            elif restorepkt.type == FT_LNK:
                os.makedirs(os.path.dirname(name), exist_ok=True)
                if os.path.lexists(name):
                    os.unlink(name)
                os.symlink(restorepkt.olname, name)
                restorepkt.create_status = CF_CREATED
            elif restorepkt.type == FT_REG:
                os.makedirs(os.path.dirname(name), exist_ok=True)
                restorepkt.create_status = CF_EXTRACT
            else:
                restorepkt.create_status = CF_SKIP
        except OSError as e:
            bareosfd.JobMessage(M_ERROR, "cannot create %s: %s\n" % (name, e.strerror))
            return bRC_Error
        return bRC_OK

    def set_file_attributes(self, restorepkt: bareosfd.RestorePacket) -> int:
        # The daemon calls this before IO_CLOSE, so data still buffered in
        # Python (io=plugin) would change the mtime again when it is
        # flushed: remember the attributes and apply them once more in
        # end_restore_file, after the close.
        name = restorepkt.ofname.rstrip("/") or "/"
        self.attributes = (name, restorepkt.statp, restorepkt.type == FT_LNK)
        self.apply_attributes()
        return bRC_OK

    def end_restore_file(self) -> int:
        self.apply_attributes()
        self.attributes = None
        return bRC_OK

    def apply_attributes(self) -> None:
        if self.attributes is None:
            return
        name, st, link = self.attributes
        try:
            if os.geteuid() == 0:
                os.chown(name, st.st_uid, st.st_gid, follow_symlinks=not link)
            if not link:
                os.chmod(name, stat.S_IMODE(st.st_mode))
            os.utime(name, (st.st_atime, st.st_mtime), follow_symlinks=not link)
        except OSError as e:
            bareosfd.JobMessage(M_WARNING, "cannot set attributes of %s: %s\n" % (name, e.strerror))


plugin = LocalFileset()


def load_bareos_plugin(plugindef: str) -> int:
    return bRC_OK


def parse_plugin_definition(plugindef: str) -> int:
    for key, value in parse_options(plugindef).items():
        plugin.options.setdefault(key, value)
    if plugin.options.get("io", "core") not in ("core", "plugin"):
        bareosfd.JobMessage(M_FATAL, "sidecar_local_fileset: io must be core or plugin\n")
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
    return plugin.end_restore_file()


def create_file(restorepkt: bareosfd.RestorePacket) -> int:
    return plugin.create_file(restorepkt)


def set_file_attributes(restorepkt: bareosfd.RestorePacket) -> int:
    return plugin.set_file_attributes(restorepkt)


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
