//! The storage daemon's variable numbers (dir-sd-api §3.4, §3.5), as
//! `bareossd` shows them; the events are `sidecar_proto::events::sd`.

use crate::pymodule::named_numbers;

named_numbers!(
    /// `bsdrVariable`: what `GetValue` reads.
    var, "bsdVar", {
        Job = 1, Level = 2, Type = 3, JobId = 4, Client = 5, Pool = 6, PoolType = 7,
        Storage = 8, MediaType = 9, JobName = 10, JobStatus = 11, VolumeName = 12,
        JobErrors = 13, JobFiles = 14, JobBytes = 15, PluginDir = 16,
    }
);

named_numbers!(
    /// `bsdwVariable`: what `SetValue` writes.
    wvar, "bsdwVar", { JobReport = 1, VolumeName = 2, Priority = 3, JobLevel = 4 }
);
