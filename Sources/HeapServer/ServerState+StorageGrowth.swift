import Foundation
import HeapCore
import HeapStore

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

extension ServerState {
    /// Inside the lock, when the journal wants compacting. A compaction's snapshot is written
    /// from a copy of the heap that shares its storage (an O(1) copy); the heap's next change
    /// would then copy each big array inside the lock, into fresh pages (at ten million objects,
    /// hundreds of megabytes). A heap whose big arrays are smaller than `growAheadMinimumBytes`
    /// is compacted now, as before; a bigger one gets storage for its copy made outside the lock
    /// first: returns its plan, and the one caller it returns a plan to must call
    /// `compact(_:movingInto:)` with the storage.
    mutating func compactOrPlanStorage(_ store: HeapStore) -> StorageGrowth.Plan? {
        guard !compactionStorageBeingMade else { return nil }
        let plan = heap.storageCopyPlan
        guard plan.bytes >= growAheadMinimumBytes else {
            store.compact(heap)
            return nil
        }
        compactionStorageBeingMade = true
        return plan
    }

    /// The compaction `compactOrPlanStorage` planned: the snapshot keeps the heap's storage, the
    /// heap moves into `made` (one copy of its big arrays, into pages faulted in already).
    mutating func compact(_ store: HeapStore, movingInto made: inout StorageGrowth) {
        compactionStorageBeingMade = false
        if !shuttingDown, store.wantsCompaction {  // (a clean stop compacts by itself)
            let snapshot = heap
            let copied = heap.adoptStorage(&made, sameSizeToo: true)
            storageCopiedBytes &+= UInt64(copied)
            if copied > 0 { storageMovedForSnapshots &+= 1 }
            store.compact(snapshot)
        }
        Self.releaseLater(made)
        made = StorageGrowth()
    }
}
