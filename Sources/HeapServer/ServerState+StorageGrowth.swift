import Foundation
import HeapCore

extension ServerState {
    /// Arrays smaller than this keep doubling inside the lock (a few milliseconds at most):
    /// `HEAPD_GROW_AHEAD_BYTES` or 16 MiB (tests set 0 so that small heaps grow ahead too).
    static let defaultGrowAheadMinimumBytes =
        max(0, ProcessInfo.processInfo.environment["HEAPD_GROW_AHEAD_BYTES"].flatMap { Int($0) } ?? 16 << 20)

    /// Inside the lock: the heap's arrays to grow ahead (``StorageGrowth``), when one is nearly
    /// full and no other growth is being made. The one caller it returns a plan to must hand the
    /// storage back (`adoptStorageGrowth`).
    mutating func storageGrowthWanted() -> StorageGrowth.Plan? {
        guard !storageGrowthBeingMade, let plan = heap.storageGrowthWanted(minimumBytes: growAheadMinimumBytes)
        else { return nil }
        storageGrowthBeingMade = true
        return plan
    }

    /// Storage made outside the lock for `storageGrowthWanted`'s plan: the heap's arrays move
    /// into it (one copy of their elements, into pages faulted in already); their old storage is
    /// freed on another thread. `inout`, not a copy: storage with a second reference would be
    /// copied again on the first append, into fresh pages, inside the lock.
    mutating func adoptStorageGrowth(_ growth: inout StorageGrowth) {
        storageGrowthBeingMade = false
        let copied = heap.adoptStorage(&growth)
        if copied > 0 {
            storageGrownAhead &+= 1
            storageCopiedBytes &+= UInt64(copied)
        }
        Self.releaseLater(growth)
        growth = StorageGrowth()
    }
}
