import CHeapdSystem

public enum MallocTuning {
    /// Fixes glibc's mmap threshold at 1 MiB. By default the threshold grows each time a large
    /// block is freed, after which the old buffers of a growing object table stay resident in
    /// the malloc heap; with a fixed threshold they go back to the system.
    public static func keepLargeBlocksOutOfTheHeap() {
        _ = heapd_set_mmap_threshold(1 << 20)
    }
}
