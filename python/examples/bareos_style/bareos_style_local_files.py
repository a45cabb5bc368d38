"""Local files, Bareos-plugin style, with accurate mode, ACLs, xattrs and a
restore object.

FileSet:  Plugin = "python3:module_path=<this dir>:module_name=bareos_style_local_files:filename=<list file>"

Options:
  filename=FILE   one path per line; directories are walked recursively.

* Incremental/Differential: nothing to do here; python3-fd's automatic
  change check after start_backup_file turns unchanged entries into
  FT_NOCHG, and the core skips them.
* Accurate: check_file answers bRC_Seen only for paths that still exist,
  so the core records the others as deleted.
* ACLs: the raw `system.posix_acl_access` attribute (get_acl/set_acl).
* Xattrs: every `user.*` attribute, one pair per get_xattr call (bRC_More
  while more follow).
* Restore object: every backup starts with an FT_RESTORE_FIRST JSON object
  describing the job; restore_object_data reports each object it receives
  (during the next Incremental/Differential and at restore) as a job
  message with all its fields.
"""

import errno
import json
import os
import stat
from typing import Optional

import bareosfd
from bareosfd import (
    CF_CREATED,
    CF_EXTRACT,
    FT_DIREND,
    FT_LNK,
    FT_REG,
    FT_RESTORE_FIRST,
    M_INFO,
    M_WARNING,
    bRC_Error,
    bRC_More,
    bRC_OK,
    bRC_Seen,
    bRC_Skip,
    bRC_Stop,
    AclPacket,
    RestoreObject,
    RestorePacket,
    SavePacket,
    StatPacket,
    XattrPacket,
)

from bareos_style_base import BareosStylePluginBase
from bareos_style_wrapper import *  # noqa: F401,F403 (the entry points)
from bareos_style_wrapper import BareosPlugin

ACL_XATTR = "system.posix_acl_access"
OBJECT_NAME = "bareos_style_local_files.json"


def _stat_packet(st: os.stat_result) -> StatPacket:
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
    return statp


@BareosPlugin
class LocalFilesPlugin(BareosStylePluginBase):
    mandatory_options = ("filename",)

    def __init__(self, plugindef: str) -> None:
        super().__init__(plugindef)
        self.queue: Optional[list[str]] = None
        self.object_sent = False
        self.xattr_queue: dict[str, list[str]] = {}
        self.restored: Optional[tuple[str, StatPacket]] = None

    # ---------------------------------------------------------------- backup

    def _build_queue(self) -> list[str]:
        queue: list[str] = []
        with open(self.options["filename"]) as f:
            for line in f:
                path = line.rstrip("\n")
                if path.strip() and not path.lstrip().startswith("#"):
                    self._add(queue, path)
        return queue

    @staticmethod
    def _add(queue: list[str], path: str) -> None:
        if os.path.isdir(path) and not os.path.islink(path):
            for root, dirs, files in os.walk(path, topdown=False):
                for name in sorted(files):
                    queue.append(os.path.join(root, name))
                for name in sorted(dirs):
                    sub = os.path.join(root, name)
                    queue.append(sub if os.path.islink(sub) else sub + "/")
            queue.append(path.rstrip("/") + "/")
        else:
            queue.append(path)

    def start_backup_file(self, savepkt: SavePacket) -> int:
        if not self.object_sent:
            self.object_sent = True
            state = {
                "jobid": self.jobid,
                "level": self.level,
                "since": self.since,
                "job_name": self.job_name,
            }
            data = json.dumps(state, sort_keys=True).encode()
            savepkt.fname = "/@bareos_style/" + OBJECT_NAME
            savepkt.statp = bareosfd.StatPacket()
            savepkt.type = FT_RESTORE_FIRST
            savepkt.object_name = OBJECT_NAME
            savepkt.object = bytearray(data)
            savepkt.object_len = len(data)
            savepkt.object_index = 7
            return bRC_OK
        if self.queue is None:
            self.queue = self._build_queue()
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
            savepkt.statp = _stat_packet(st)
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
            else:
                self.queue.pop(0)
                return bRC_Skip
            return bRC_OK
        return bRC_Stop  # nothing (left) to back up

    def end_backup_file(self) -> int:
        if self.queue is None:
            return bRC_More  # the restore object went first
        if self.queue:
            self.queue.pop(0)
        return bRC_More if self.queue else bRC_OK

    def check_file(self, fname: str) -> int:
        """Accurate: keep what still exists; the rest is deleted."""
        return bRC_Seen if os.path.lexists(fname.rstrip("/") or "/") else bRC_OK

    # ------------------------------------------------------------- ACL/xattr

    def get_acl(self, acl: AclPacket) -> int:
        try:
            acl.content = bytearray(os.getxattr(acl.fname or "", ACL_XATTR, follow_symlinks=False))
        except OSError as e:
            if e.errno not in (errno.ENODATA, errno.ENOTSUP, errno.EOPNOTSUPP):
                raise
        return bRC_OK

    def set_acl(self, acl: AclPacket) -> int:
        os.setxattr(self._target(acl.fname), ACL_XATTR, bytes(acl.content or b""), follow_symlinks=False)
        return bRC_OK

    def get_xattr(self, xattr: XattrPacket) -> int:
        name = xattr.fname or ""
        if name not in self.xattr_queue:
            try:
                names = [n for n in os.listxattr(name, follow_symlinks=False) if n.startswith("user.")]
            except OSError:
                names = []
            self.xattr_queue[name] = sorted(names)
        pending = self.xattr_queue[name]
        if not pending:
            del self.xattr_queue[name]
            return bRC_OK
        attr = pending.pop(0)
        xattr.name = bytearray(attr.encode())
        xattr.value = bytearray(os.getxattr(name, attr, follow_symlinks=False))
        if pending:
            return bRC_More
        del self.xattr_queue[name]
        return bRC_OK

    def set_xattr(self, xattr: XattrPacket) -> int:
        os.setxattr(
            self._target(xattr.fname),
            bytes(xattr.name or b"").decode(),
            bytes(xattr.value or b""),
            follow_symlinks=False,
        )
        return bRC_OK

    def _target(self, fname: Optional[str]) -> str:
        return (fname or "").rstrip("/") or "/"

    # ------------------------------------------------------- restore objects

    def restore_object_data(self, rop: RestoreObject) -> int:
        fields = {
            "object_name": rop.object_name,
            "object": json.loads(bytes((rop.object or b"")[: rop.object_len]).decode()),
            "plugin_name": rop.plugin_name,
            "object_type": rop.object_type,
            "object_len": rop.object_len,
            "object_full_len": rop.object_full_len,
            "object_index": rop.object_index,
            "object_compression": rop.object_compression,
            "stream": rop.stream,
            "jobid": rop.jobid,
        }
        bareosfd.JobMessage(
            M_INFO,
            "restore object in job %s: %s\n" % (self.jobid, json.dumps(fields, sort_keys=True)),
        )
        return bRC_OK

    # ---------------------------------------------------------------- restore

    def create_file(self, restorepkt: RestorePacket) -> int:
        name = restorepkt.ofname
        parent = os.path.dirname(name.rstrip("/"))
        if parent:
            os.makedirs(parent, exist_ok=True)
        if restorepkt.type == FT_DIREND:
            os.makedirs(name.rstrip("/"), exist_ok=True)
            restorepkt.create_status = CF_CREATED
        elif restorepkt.type == FT_LNK:
            if os.path.lexists(name):
                os.unlink(name)
            os.symlink(restorepkt.olname, name)
            restorepkt.create_status = CF_CREATED
        elif restorepkt.type == FT_REG:
            restorepkt.create_status = CF_EXTRACT
        else:
            return bRC_Error
        return bRC_OK

    def set_file_attributes(self, restorepkt: RestorePacket) -> int:
        # The core closes the file (IO_CLOSE) after this call, which may
        # still write buffered data: apply again in end_restore_file.
        self.restored = (restorepkt.ofname.rstrip("/") or "/", restorepkt.statp)
        self._apply(*self.restored)
        return bRC_OK

    def end_restore_file(self) -> int:
        if self.restored:
            self._apply(*self.restored)
            self.restored = None
        return bRC_OK

    @staticmethod
    def _apply(name: str, st: StatPacket) -> None:
        if not stat.S_ISLNK(st.st_mode):
            os.chmod(name, stat.S_IMODE(st.st_mode))
        os.utime(name, (st.st_atime, st.st_mtime), follow_symlinks=False)
