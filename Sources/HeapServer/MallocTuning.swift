/// glibc's `mallopt`, which the Glibc module does not export (it lives in <malloc.h>).
@_silgen_name("mallopt")
private func glibcMallopt(_ parameter: Int32, _ value: Int32) -> Int32

public enum MallocTuning {
    /// Fixes glibc's mmap threshold at 1 MiB. By default the threshold grows each time a large
    /// block is freed, after which the old buffers of a growing object table stay resident in
    /// the malloc heap; with a fixed threshold they go back to the system.
    public static func keepLargeBlocksOutOfTheHeap() {
        #if os(Linux)
        let M_MMAP_THRESHOLD: Int32 = -3
        _ = glibcMallopt(M_MMAP_THRESHOLD, 1 << 20)
        #endif
    }
}
