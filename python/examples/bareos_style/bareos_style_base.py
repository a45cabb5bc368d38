"""A base class in the style of the plugins Bareos ships (written here from
the python3-fd specification, not copied): option parsing with first value
wins and mandatory options, the job's facts read with GetValue, the usual
events registered, and defaults for every entry point (I/O in Python,
CF_CORE restores, no ACL/xattr data).

Subclasses override what they need; `bareos_style_wrapper` forwards the
module-level entry points python3-fd calls to the one plugin object.
"""

import base64
import os
from typing import IO, Optional

import bareosfd
from bareosfd import (
    CF_CORE,
    IO_CLOSE,
    IO_OPEN,
    IO_READ,
    IO_SEEK,
    IO_WRITE,
    M_FATAL,
    bRC_Error,
    bRC_OK,
    bRC_Seen,
    bRC_Core,
    bEventCancelCommand,
    bEventEndBackupJob,
    bEventEndFileSet,
    bEventHandleBackupFile,
    bEventJobEnd,
    bEventStartBackupJob,
    bEventStartRestoreJob,
    bVarClient,
    bVarFDName,
    bVarJobId,
    bVarJobName,
    bVarLevel,
    bVarSinceTime,
    bVarUsedConfig,
    bVarWorkingDir,
    iostat_do_in_plugin,
    AclPacket,
    IoPacket,
    RestoreObject,
    RestorePacket,
    SavePacket,
    XattrPacket,
)


def _text(value: object) -> Optional[str]:
    return value if isinstance(value, str) else None


def parse_options(plugindef: str) -> dict[str, str]:
    """`key=value` pairs separated by `:`; `\\:` escapes a colon. The first
    value of a key wins, so a run-time override (which python3-fd hands over
    first) beats the FileSet. `key#enc=...` values are base85-encoded."""
    options: dict[str, str] = {}
    current = ""
    escaped = False
    for ch in plugindef + ":":
        if escaped:
            current += ch
            escaped = False
        elif ch == "\\":
            escaped = True
        elif ch == ":":
            if "=" in current:
                key, value = current.split("=", 1)
                if key.endswith("#enc"):
                    key = key[: -len("#enc")]
                    value = base64.b85decode(value.encode()).decode()
                options.setdefault(key, value)
            current = ""
        else:
            current += ch
    return options


class BareosStylePluginBase:
    """What every plugin of this style has."""

    #: Options that must be given; a missing one is a fatal job error.
    mandatory_options: tuple[str, ...] = ()

    @classmethod
    def unloaded(cls) -> "BareosStylePluginBase":
        """A placeholder before load_bareos_plugin (never called into)."""
        return cls.__new__(cls)

    def __init__(self, plugindef: str) -> None:
        self.options: dict[str, str] = {}
        self.canceled = False
        bareosfd.RegisterEvents(
            [
                bEventJobEnd,
                bEventEndBackupJob,
                bEventEndFileSet,
                bEventHandleBackupFile,
                bEventStartBackupJob,
                bEventStartRestoreJob,
                bEventCancelCommand,
            ]
        )
        self.fdname = _text(bareosfd.GetValue(bVarFDName))
        jobid = bareosfd.GetValue(bVarJobId)
        self.jobid = jobid if isinstance(jobid, int) else 0
        self.client = _text(bareosfd.GetValue(bVarClient))
        since = bareosfd.GetValue(bVarSinceTime)
        self.since = since if isinstance(since, int) else 0
        level = bareosfd.GetValue(bVarLevel)
        self.level = chr(level) if isinstance(level, int) and level else " "
        self.job_name = _text(bareosfd.GetValue(bVarJobName))
        self.working_dir = _text(bareosfd.GetValue(bVarWorkingDir))
        self.used_config = _text(bareosfd.GetValue(bVarUsedConfig))
        self.file: Optional[IO[bytes]] = None

    # ------------------------------------------------------------- options

    def parse_plugin_definition(self, plugindef: str) -> int:
        for key, value in parse_options(plugindef).items():
            self.options.setdefault(key, value)
        missing = [k for k in self.mandatory_options if k not in self.options]
        if missing:
            bareosfd.JobMessage(
                M_FATAL,
                "%s: mandatory option(s) missing: %s\n"
                % (type(self).__name__, ", ".join(missing)),
            )
            return bRC_Error
        return bRC_OK

    # -------------------------------------------------------------- events

    def handle_plugin_event(self, event: int) -> int:
        if event == bEventCancelCommand:
            self.canceled = True
        return bRC_OK

    def restore_object_data(self, rop: RestoreObject) -> int:
        return bRC_OK

    def handle_backup_file(self, savepkt: SavePacket) -> int:
        return bRC_Core

    # ---------------------------------------------------------------- files

    def start_backup_file(self, savepkt: SavePacket) -> int:
        return bRC_Error

    def end_backup_file(self) -> int:
        return bRC_OK

    def start_restore_file(self, cmd: str) -> int:
        return bRC_OK

    def end_restore_file(self) -> int:
        return bRC_OK

    def create_file(self, restorepkt: RestorePacket) -> int:
        restorepkt.create_status = CF_CORE
        return bRC_OK

    def set_file_attributes(self, restorepkt: RestorePacket) -> int:
        return bRC_OK

    def check_file(self, fname: str) -> int:
        return bRC_Seen

    def plugin_io(self, IOP: IoPacket) -> int:
        """I/O in plugin on the named file."""
        try:
            if IOP.func == IO_OPEN:
                writing = IOP.flags & (os.O_WRONLY | os.O_RDWR)
                self.file = open(IOP.fname or "", "wb" if writing else "rb")
                IOP.status = iostat_do_in_plugin
            elif self.file is None:
                IOP.status = -1
                return bRC_Error
            elif IOP.func == IO_READ:
                data = bytearray(self.file.read(IOP.count))
                IOP.buf = data
                IOP.status = len(data)
            elif IOP.func == IO_WRITE:
                self.file.write(IOP.buf or b"")
                IOP.status = IOP.count
            elif IOP.func == IO_CLOSE:
                self.file.close()
                self.file = None
            elif IOP.func == IO_SEEK:
                IOP.offset = self.file.seek(IOP.offset, IOP.whence)
        except OSError as e:
            IOP.status = -1
            IOP.io_errno = e.errno or 5
            return bRC_Error
        return bRC_OK

    # ------------------------------------------------------------ ACL/xattr

    def get_acl(self, acl: AclPacket) -> int:
        return bRC_OK

    def set_acl(self, acl: AclPacket) -> int:
        return bRC_OK

    def get_xattr(self, xattr: XattrPacket) -> int:
        return bRC_OK

    def set_xattr(self, xattr: XattrPacket) -> int:
        return bRC_OK
