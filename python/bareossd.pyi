"""Type stubs for `bareossd`, the module Bareos Python storage daemon plugins import.

The same module in process (python3-sd) and out of process (bareos-sidecar's
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

# bsdVariable
bsdVarJob: Final[int]
bsdVarLevel: Final[int]
bsdVarType: Final[int]
bsdVarJobId: Final[int]
bsdVarClient: Final[int]
bsdVarPool: Final[int]
bsdVarPoolType: Final[int]
bsdVarStorage: Final[int]
bsdVarMediaType: Final[int]
bsdVarJobName: Final[int]
bsdVarJobStatus: Final[int]
bsdVarVolumeName: Final[int]
bsdVarJobErrors: Final[int]
bsdVarJobFiles: Final[int]
bsdVarJobBytes: Final[int]
bsdVarPluginDir: Final[int]

# bsdwVariable
bsdwVarJobReport: Final[int]
bsdwVarVolumeName: Final[int]
bsdwVarPriority: Final[int]
bsdwVarJobLevel: Final[int]

# bsdEventType
bsdEventJobStart: Final[int]
bsdEventJobEnd: Final[int]
bsdEventDeviceInit: Final[int]
bsdEventDeviceMount: Final[int]
bsdEventVolumeLoad: Final[int]
bsdEventDeviceReserve: Final[int]
bsdEventDeviceOpen: Final[int]
bsdEventLabelRead: Final[int]
bsdEventLabelVerified: Final[int]
bsdEventLabelWrite: Final[int]
bsdEventDeviceClose: Final[int]
bsdEventVolumeUnload: Final[int]
bsdEventDeviceUnmount: Final[int]
bsdEventReadError: Final[int]
bsdEventWriteError: Final[int]
bsdEventDriveStatus: Final[int]
bsdEventVolumeStatus: Final[int]
bsdEventSetupRecordTranslation: Final[int]
bsdEventReadRecordTranslation: Final[int]
bsdEventWriteRecordTranslation: Final[int]
bsdEventDeviceRelease: Final[int]
bsdEventNewPluginOptions: Final[int]
bsdEventChangerLock: Final[int]
bsdEventChangerUnlock: Final[int]

bJobMessageType: Final[dict[str, int]]
bRCs: Final[dict[str, int]]
bsdVariable: Final[dict[str, int]]
bsdwVariable: Final[dict[str, int]]
bsdEventType: Final[dict[str, int]]

# ----------------------------------------------------------------- functions
def GetValue(var: int, /) -> int | str | None: ...
def SetValue(var: int, value: object, /) -> int: ...
def DebugMessage(level: int, msg: str | None = None, /) -> None: ...
def JobMessage(type: int, msg: str | None = None, /) -> None: ...
def RegisterEvents(events: Iterable[int], /) -> int: ...
def UnRegisterEvents(events: Iterable[int], /) -> int: ...
def GetInstanceCount() -> int | None: ...
