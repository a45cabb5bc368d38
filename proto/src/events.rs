//! The event numbers of the three daemons' plugin ABIs, defined once for
//! both sides: the shim hands them to the core, the runner shows them to
//! Python. Each table has the short names the Rust code uses and, in
//! `ALL`, the names Python sees (`bEventJobStart`, `bDirEventJobStart`,
//! `bsdEventJobStart`), in number order.

crate::numbered!(u32,
    /// `bEventType` of the file daemon (fd-abi §7.1), interface version 10.
    fd, "bEvent", {
        JobStart = 1, JobEnd = 2, StartBackupJob = 3, EndBackupJob = 4,
        StartRestoreJob = 5, EndRestoreJob = 6, StartVerifyJob = 7, EndVerifyJob = 8,
        BackupCommand = 9, RestoreCommand = 10, EstimateCommand = 11, Level = 12,
        Since = 13, CancelCommand = 14, RestoreObject = 15, EndFileSet = 16,
        PluginCommand = 17, OptionPlugin = 18, HandleBackupFile = 19, NewPluginOptions = 20,
        VssInitializeForBackup = 21, VssInitializeForRestore = 22, VssSetBackupState = 23,
        VssPrepareForBackup = 24, VssBackupAddComponents = 25, VssPrepareSnapshot = 26,
        VssCreateSnapshots = 27, VssRestoreLoadComponentMetadata = 28,
        VssRestoreSetComponentsSelected = 29, VssCloseRestore = 30, VssBackupComplete = 31,
    }
);

crate::numbered!(u32,
    /// `bDirEventType` of the director (dir-sd-api §2.3), interface version 4
    /// (`Recyle` is spelled as in Bareos).
    dir, "bDirEvent", {
        JobStart = 1, JobEnd = 2, JobInit = 3, JobRun = 4, VolumePurged = 5,
        NewVolume = 6, NeedVolume = 7, VolumeFull = 8, Recyle = 9, GetScratch = 10,
        NewPluginOptions = 11,
    }
);

crate::numbered!(u32,
    /// `bSdEventType` of the storage daemon (dir-sd-api §3.3), interface
    /// version 4; Python spells them `bsdEvent…`.
    sd, "bsdEvent", {
        JobStart = 1, JobEnd = 2, DeviceInit = 3, DeviceMount = 4, VolumeLoad = 5,
        DeviceReserve = 6, DeviceOpen = 7, LabelRead = 8, LabelVerified = 9,
        LabelWrite = 10, DeviceClose = 11, VolumeUnload = 12, DeviceUnmount = 13,
        ReadError = 14, WriteError = 15, DriveStatus = 16, VolumeStatus = 17,
        SetupRecordTranslation = 18, ReadRecordTranslation = 19,
        WriteRecordTranslation = 20, DeviceRelease = 21, NewPluginOptions = 22,
        ChangerLock = 23, ChangerUnlock = 24,
    }
);

/// The highest event number the FD core accepts (`FD_NR_EVENTS`).
pub const FD_MAX: u32 = 31;

/// The FD events whose value is a plugin string (python3-fd's "command"
/// events): they can load the module, so they start a runner, carry the
/// `sidecar.*` options, and go to `parse_plugin_definition` rather than
/// `handle_plugin_event`.
pub const FD_COMMANDS: [u32; 5] = [
    fd::BackupCommand,
    fd::RestoreCommand,
    fd::EstimateCommand,
    fd::PluginCommand,
    fd::NewPluginOptions,
];

#[cfg(test)]
mod tests {
    #[test]
    fn tables_are_in_number_order_and_named_for_python() {
        for all in [super::fd::ALL, super::dir::ALL, super::sd::ALL] {
            for (i, (_, n)) in all.iter().enumerate() {
                assert_eq!(*n as usize, i + 1);
            }
        }
        assert_eq!(super::fd::ALL[13], ("bEventCancelCommand", 14));
        assert_eq!(super::dir::ALL[10], ("bDirEventNewPluginOptions", 11));
        assert_eq!(super::sd::ALL[23], ("bsdEventChangerUnlock", 24));
    }
}
