/// When the journal reaches the disk, as Redis's `appendfsync`.
public enum FsyncPolicy: String, Sendable, CaseIterable {
    /// A reply is written only after its change is fsynced; concurrent requests share one fsync.
    /// Loss window on power failure or kill -9: none for acknowledged changes.
    case always
    /// Written at once, fsynced once a second. Loss window: about one second on power failure;
    /// none on a process crash (the kernel has the data).
    case everysec
    /// Written at once, fsynced when the kernel decides. Loss window: whatever the kernel had not
    /// flushed (typically up to 30 s) on power failure; none on a process crash.
    case no
}
