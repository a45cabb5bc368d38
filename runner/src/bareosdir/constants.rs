//! The director's variable numbers (dir-sd-api §2.4, §2.5), as `bareosdir`
//! shows them; the events are `sidecar_proto::events::dir`.

use crate::pymodule::named_numbers;

named_numbers!(
    /// `brDirVariable`: what `GetValue` reads.
    var, "bDirVar", {
        Job = 1, Level = 2, Type = 3, JobId = 4, Client = 5, NumVols = 6, Pool = 7,
        Storage = 8, WriteStorage = 9, ReadStorage = 10, Catalog = 11, MediaType = 12,
        JobName = 13, JobStatus = 14, Priority = 15, VolumeName = 16, CatalogRes = 17,
        JobErrors = 18, JobFiles = 19, SDJobFiles = 20, SDErrors = 21, FDJobStatus = 22,
        SDJobStatus = 23, PluginDir = 24, LastRate = 25, JobBytes = 26, ReadBytes = 27,
    }
);

named_numbers!(
    /// `bwDirVariable`: what `SetValue` writes.
    wvar, "bwDirVar", { JobReport = 1, VolumeName = 2, Priority = 3, JobLevel = 4 }
);
