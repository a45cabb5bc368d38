//! The variable numbers of `getBareosValue`/`setBareosValue` in the three
//! daemons' plugin ABIs, defined once for both sides: the shim decides by
//! them what the core writes, the runner shows them to Python.

crate::numbered!(i32,
    /// `bVariable` of the file daemon (fd-abi §7.3).
    fd, "bVar", {
        JobId = 1, FDName = 2, Level = 3, Type = 4, Client = 5, JobName = 6,
        JobStatus = 7, SinceTime = 8, Accurate = 9, FileSeen = 10, VssClient = 11,
        WorkingDir = 12, Where = 13, RegexWhere = 14, ExePath = 15, Version = 16,
        DistName = 17, PrevJobName = 18, PrefixLinks = 19, CheckChanges = 20,
        UsedConfig = 21, PluginPath = 22, AccurateOptions = 23,
    }
);

crate::numbered!(i32,
    /// `brDirVariable`: what a director plugin may read (dir-sd-api §2.4).
    dir, "bDirVar", {
        Job = 1, Level = 2, Type = 3, JobId = 4, Client = 5, NumVols = 6, Pool = 7,
        Storage = 8, WriteStorage = 9, ReadStorage = 10, Catalog = 11, MediaType = 12,
        JobName = 13, JobStatus = 14, Priority = 15, VolumeName = 16, CatalogRes = 17,
        JobErrors = 18, JobFiles = 19, SDJobFiles = 20, SDErrors = 21, FDJobStatus = 22,
        SDJobStatus = 23, PluginDir = 24, LastRate = 25, JobBytes = 26, ReadBytes = 27,
    }
);

crate::numbered!(i32,
    /// `bwDirVariable`: what a director plugin may set (dir-sd-api §2.5).
    dir_write, "bwDirVar", { JobReport = 1, VolumeName = 2, Priority = 3, JobLevel = 4 }
);

crate::numbered!(i32,
    /// `bsdrVariable`: what a storage daemon plugin may read (dir-sd-api
    /// §3.4).
    sd, "bsdVar", {
        Job = 1, Level = 2, Type = 3, JobId = 4, Client = 5, Pool = 6, PoolType = 7,
        Storage = 8, MediaType = 9, JobName = 10, JobStatus = 11, VolumeName = 12,
        JobErrors = 13, JobFiles = 14, JobBytes = 15, PluginDir = 16,
    }
);

crate::numbered!(i32,
    /// `bsdwVariable`: what a storage daemon plugin may set (dir-sd-api
    /// §3.5); the same numbers as the director's.
    sd_write, "bsdwVar", { JobReport = 1, VolumeName = 2, Priority = 3, JobLevel = 4 }
);
