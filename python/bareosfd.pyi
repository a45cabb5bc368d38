"""Type stubs for `bareosfd`, the module Bareos Python FD plugins import.

The same module in process (python3-fd) and out of process (bareos-sidecar's
sidecar-runner). Functions are positional-only. Dicts are keyed by bytes
(b"bRC_OK"). Core functions raise RuntimeError when no daemon is attached
(for example under `sidecar-runner python` in unit tests) or outside a
plugin call.
"""

from typing import Final, Sequence

# ----------------------------------------------------------------- constants

# bRCs
bRC_OK: Final[int]
bRC_Stop: Final[int]
bRC_Error: Final[int]
bRC_More: Final[int]
bRC_Term: Final[int]
bRC_Seen: Final[int]
bRC_Core: Final[int]
bRC_Skip: Final[int]
bRC_Cancel: Final[int]

# bJobMessageType
M_ABORT: Final[int]
M_DEBUG: Final[int]
M_FATAL: Final[int]
M_ERROR: Final[int]
M_WARNING: Final[int]
M_INFO: Final[int]
M_SAVED: Final[int]
M_NOTSAVED: Final[int]
M_SKIPPED: Final[int]
M_MOUNT: Final[int]
M_ERROR_TERM: Final[int]
M_TERM: Final[int]
M_RESTORED: Final[int]
M_SECURITY: Final[int]
M_ALERT: Final[int]
M_VOLMGMT: Final[int]

# bVariable
bVarJobId: Final[int]
bVarFDName: Final[int]
bVarLevel: Final[int]
bVarType: Final[int]
bVarClient: Final[int]
bVarJobName: Final[int]
bVarJobStatus: Final[int]
bVarSinceTime: Final[int]
bVarAccurate: Final[int]
bVarFileSeen: Final[int]
bVarVssClient: Final[int]
bVarWorkingDir: Final[int]
bVarWhere: Final[int]
bVarRegexWhere: Final[int]
bVarExePath: Final[int]
bVarVersion: Final[int]
bVarDistName: Final[int]
bVarPrevJobName: Final[int]
bVarPrefixLinks: Final[int]
bVarCheckChanges: Final[int]
bVarUsedConfig: Final[int]
bVarAccurateOptions: Final[int]

# bAccurateOption
bAccurateOptionInode: Final[int]
bAccurateOptionPermissions: Final[int]
bAccurateOptionNlink: Final[int]
bAccurateOptionUid: Final[int]
bAccurateOptionGid: Final[int]
bAccurateOptionSize: Final[int]
bAccurateOptionAtime: Final[int]
bAccurateOptionMtime: Final[int]
bAccurateOptionCtime: Final[int]
bAccurateOptionSizeDecrease: Final[int]
bAccurateOptionAlways: Final[int]
bAccurateOptionMD5: Final[int]
bAccurateOptionSha1: Final[int]

# bFileType
FT_LNKSAVED: Final[int]
FT_REGE: Final[int]
FT_REG: Final[int]
FT_LNK: Final[int]
FT_DIREND: Final[int]
FT_SPEC: Final[int]
FT_NOACCESS: Final[int]
FT_NOFOLLOW: Final[int]
FT_NOSTAT: Final[int]
FT_NOCHG: Final[int]
FT_DIRNOCHG: Final[int]
FT_ISARCH: Final[int]
FT_NORECURSE: Final[int]
FT_NOFSCHG: Final[int]
FT_NOOPEN: Final[int]
FT_RAW: Final[int]
FT_FIFO: Final[int]
FT_DIRBEGIN: Final[int]
FT_INVALIDFS: Final[int]
FT_INVALIDDT: Final[int]
FT_REPARSE: Final[int]
FT_PLUGIN: Final[int]
FT_DELETED: Final[int]
FT_BASE: Final[int]
FT_RESTORE_FIRST: Final[int]
FT_JUNCTION: Final[int]
FT_PLUGIN_CONFIG: Final[int]
FT_PLUGIN_CONFIG_FILLED: Final[int]

# bCFs
CF_SKIP: Final[int]
CF_ERROR: Final[int]
CF_EXTRACT: Final[int]
CF_CREATED: Final[int]
CF_CORE: Final[int]

# bEventType
bEventJobStart: Final[int]
bEventJobEnd: Final[int]
bEventStartBackupJob: Final[int]
bEventEndBackupJob: Final[int]
bEventStartRestoreJob: Final[int]
bEventEndRestoreJob: Final[int]
bEventStartVerifyJob: Final[int]
bEventEndVerifyJob: Final[int]
bEventBackupCommand: Final[int]
bEventRestoreCommand: Final[int]
bEventEstimateCommand: Final[int]
bEventLevel: Final[int]
bEventSince: Final[int]
bEventCancelCommand: Final[int]
bEventRestoreObject: Final[int]
bEventEndFileSet: Final[int]
bEventPluginCommand: Final[int]
bEventOptionPlugin: Final[int]
bEventHandleBackupFile: Final[int]
bEventNewPluginOptions: Final[int]
bEventVssInitializeForBackup: Final[int]
bEventVssInitializeForRestore: Final[int]
bEventVssSetBackupState: Final[int]
bEventVssPrepareForBackup: Final[int]
bEventVssBackupAddComponents: Final[int]
bEventVssPrepareSnapshot: Final[int]
bEventVssCreateSnapshots: Final[int]
bEventVssRestoreLoadComponentMetadata: Final[int]
bEventVssRestoreSetComponentsSelected: Final[int]
bEventVssCloseRestore: Final[int]
bEventVssBackupComplete: Final[int]

# bIOPS
IO_OPEN: Final[int]
IO_READ: Final[int]
IO_WRITE: Final[int]
IO_CLOSE: Final[int]
IO_SEEK: Final[int]

# bIOPstatus
iostat_error: Final[int]
iostat_do_in_plugin: Final[int]
iostat_do_in_core: Final[int]

# bLevels
L_FULL: Final[str]
L_INCREMENTAL: Final[str]
L_DIFFERENTIAL: Final[str]
L_SINCE: Final[str]
L_VERIFY_CATALOG: Final[str]
L_VERIFY_INIT: Final[str]
L_VERIFY_VOLUME_TO_CATALOG: Final[str]
L_VERIFY_DISK_TO_CATALOG: Final[str]
L_VERIFY_DATA: Final[str]
L_BASE: Final[str]
L_NONE: Final[str]
L_VIRTUAL_FULL: Final[str]

bRCs: Final[dict[bytes, int]]
bJobMessageType: Final[dict[bytes, int]]
bVariable: Final[dict[bytes, int]]
bAccurateOption: Final[dict[bytes, int]]
bFileType: Final[dict[bytes, int]]
bCFs: Final[dict[bytes, int]]
bEventType: Final[dict[bytes, int]]
bIOPS: Final[dict[bytes, int]]
bIOPstatus: Final[dict[bytes, int]]
bLevels: Final[dict[bytes, bytes]]

# ----------------------------------------------------------------- functions
def GetValue(var: int, /) -> int | str | bool | frozenset[int] | None: ...
def SetValue(var: int, value: object, /) -> int: ...
def DebugMessage(level: int, msg: str | None = None, /) -> None: ...
def JobMessage(type: int, msg: str | None = None, /) -> None: ...
def RegisterEvents(events: Sequence[int], /) -> int: ...
def UnRegisterEvents(events: Sequence[int], /) -> int: ...
def GetInstanceCount() -> int | None: ...
def AddExclude(file: str | None = None, /) -> int: ...
def AddInclude(file: str | None = None, /) -> int: ...
def AddOptions(opts: str | None = None, /) -> int: ...
def AddRegex(item: str | None, type: int, /) -> int: ...
def AddWild(item: str | None, type: int, /) -> int: ...
def NewOptions() -> int: ...
def NewInclude() -> int: ...
def NewPreInclude() -> int: ...
def CheckChanges(savepkt: SavePacket, /) -> int: ...
def AcceptFile(savepkt: SavePacket, /) -> int: ...
def SetSeenBitmap(all: object, fname: str = ..., /) -> int: ...
def ClearSeenBitmap(all: object, fname: str = ..., /) -> int: ...

# ------------------------------------------------------------------- packets
class StatPacket:
    st_dev: int
    st_ino: int
    st_mode: int
    st_nlink: int
    st_uid: int
    st_gid: int
    st_rdev: int
    st_size: int
    st_atime: int
    st_mtime: int
    st_ctime: int
    st_blksize: int
    st_blocks: int
    def __init__(
        self,
        dev: int = 0,
        ino: int = 0,
        mode: int = 0o100700,
        nlink: int = 0,
        uid: int = 0,
        gid: int = 0,
        rdev: int = 0,
        size: int = -1,
        atime: int = ...,
        mtime: int = ...,
        ctime: int = ...,
        blksize: int = 4096,
        blocks: int = 1,
    ) -> None: ...

class SavePacket:
    fname: str | None
    link: str | None
    statp: StatPacket | None
    type: int
    flags: bytearray | None
    no_read: bool
    portable: bool
    accurate_found: bool
    @property
    def cmd(self) -> str | None: ...
    save_time: int
    delta_seq: int
    object_name: str | None
    object: bytearray | None
    object_len: int
    object_index: int
    def __init__(
        self,
        fname: str | None = None,
        link: str | None = None,
        type: int = 0,
        flags: bytearray | None = None,
        no_read: bool = False,
        portable: bool = False,
        accurate_found: bool = False,
        cmd: str | None = None,
        save_time: int = 0,
        delta_seq: int = 0,
        object_name: str | None = None,
        object: bytearray | None = None,
        object_len: int = 0,
        object_index: int = 0,
    ) -> None: ...

class RestorePacket:
    stream: int
    data_stream: int
    type: int
    file_index: int
    linkFI: int
    uid: int
    # Always set on packets the daemon hands to create_file and
    # set_file_attributes.
    statp: StatPacket
    @property
    def attrEX(self) -> str | None: ...
    @property
    def ofname(self) -> str: ...
    @property
    def olname(self) -> str: ...
    @property
    def where(self) -> str | None: ...
    @property
    def regexwhere(self) -> str | None: ...
    replace: int
    create_status: int
    filedes: int
    @property
    def original_file_name(self) -> str | None: ...
    @property
    def original_link_name(self) -> str | None: ...
    def __init__(
        self,
        stream: int = 0,
        data_stream: int = 0,
        type: int = 0,
        file_index: int = 0,
        linkFI: int = 0,
        uid: int = 0,
        statp: StatPacket | None = None,
        attrEX: str | None = None,
        ofname: str | None = None,
        olname: str | None = None,
        where: str | None = None,
        regexwhere: str | None = None,
        replace: int = 0,
        create_status: int = 0,
        filedes: int = -1,
        original_file_name: str | None = None,
        original_link_name: str | None = None,
    ) -> None: ...

class IoPacket:
    func: int
    count: int
    flags: int
    mode: int
    buf: bytearray | bytes | None
    @property
    def fname(self) -> str | None: ...
    status: int
    io_errno: int
    lerror: int
    whence: int
    offset: int
    win32: bool
    filedes: int
    def __init__(
        self,
        func: int = 0,
        count: int = 0,
        flags: int = 0,
        mode: int = 0,
        buf: bytearray | bytes | None = None,
        fname: str | None = None,
        status: int = 0,
        io_errno: int = 0,
        lerror: int = 0,
        whence: int = 0,
        offset: int = 0,
        win32: bool = False,
        filedes: int = -1,
    ) -> None: ...

class AclPacket:
    @property
    def fname(self) -> str | None: ...
    content: bytearray | None
    def __init__(self, fname: str | None = None, content: bytearray | None = None) -> None: ...

class XattrPacket:
    @property
    def fname(self) -> str | None: ...
    name: bytearray | None
    value: bytearray | None
    def __init__(
        self,
        fname: str | None = None,
        name: bytearray | None = None,
        value: bytearray | None = None,
    ) -> None: ...

class RestoreObject:
    object_name: str | None
    object: bytearray | None
    @property
    def plugin_name(self) -> str | None: ...
    object_type: int
    object_len: int
    object_full_len: int
    object_index: int
    object_compression: int
    stream: int
    jobid: int
    def __init__(
        self,
        object_name: str | None = None,
        object: bytearray | None = None,
        plugin_name: str | None = None,
        object_type: int = 0,
        object_len: int = 0,
        object_full_len: int = 0,
        object_index: int = 0,
        object_compression: int = 0,
        stream: int = 0,
        jobid: int = 0,
    ) -> None: ...
