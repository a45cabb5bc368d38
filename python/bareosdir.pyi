"""Type stubs for `bareosdir`, the module Bareos Python director plugins import.

The same module in process (python3-dir) and out of process (bareos-sidecar's
sidecar-runner). Functions are positional-only. Dicts are keyed by str
("bRC_OK"), and every entry is a module attribute too. Core functions raise
RuntimeError when no daemon is attached (for example under `sidecar-runner
python` in unit tests) or outside a plugin call; DebugMessage and JobMessage
only when no daemon is attached.
"""

from typing import Final, Iterable

# ----------------------------------------------------------------- constants

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

# bDirVariable
bDirVarJob: Final[int]
bDirVarLevel: Final[int]
bDirVarType: Final[int]
bDirVarJobId: Final[int]
bDirVarClient: Final[int]
bDirVarNumVols: Final[int]
bDirVarPool: Final[int]
bDirVarStorage: Final[int]
bDirVarWriteStorage: Final[int]
bDirVarReadStorage: Final[int]
bDirVarCatalog: Final[int]
bDirVarMediaType: Final[int]
bDirVarJobName: Final[int]
bDirVarJobStatus: Final[int]
bDirVarPriority: Final[int]
bDirVarVolumeName: Final[int]
bDirVarCatalogRes: Final[int]
bDirVarJobErrors: Final[int]
bDirVarJobFiles: Final[int]
bDirVarSDJobFiles: Final[int]
bDirVarSDErrors: Final[int]
bDirVarFDJobStatus: Final[int]
bDirVarSDJobStatus: Final[int]
bDirVarPluginDir: Final[int]
bDirVarLastRate: Final[int]
bDirVarJobBytes: Final[int]
bDirVarReadBytes: Final[int]

# bwDirVariable
bwDirVarJobReport: Final[int]
bwDirVarVolumeName: Final[int]
bwDirVarPriority: Final[int]
bwDirVarJobLevel: Final[int]

# bDirEventType
bDirEventJobStart: Final[int]
bDirEventJobEnd: Final[int]
bDirEventJobInit: Final[int]
bDirEventJobRun: Final[int]
bDirEventVolumePurged: Final[int]
bDirEventNewVolume: Final[int]
bDirEventNeedVolume: Final[int]
bDirEventVolumeFull: Final[int]
bDirEventRecyle: Final[int]
bDirEventGetScratch: Final[int]
bDirEventNewPluginOptions: Final[int]

bJobMessageType: Final[dict[str, int]]
bRCs: Final[dict[str, int]]
bDirVariable: Final[dict[str, int]]
bwDirVariable: Final[dict[str, int]]
bDirEventType: Final[dict[str, int]]

# ----------------------------------------------------------------- functions
def GetValue(var: int, /) -> int | str | None: ...
def SetValue(var: int, value: object, /) -> int: ...
def DebugMessage(level: int, msg: str | None = None, /) -> None: ...
def JobMessage(type: int, msg: str | None = None, /) -> None: ...
def RegisterEvents(events: Iterable[int], /) -> int: ...
def UnRegisterEvents(events: Iterable[int], /) -> int: ...
def GetInstanceCount() -> int | None: ...
