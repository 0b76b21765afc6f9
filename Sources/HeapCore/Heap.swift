/// The shared object heap: CPython 3.11's memory model over a compact object table.
///
/// A value type with one owner: the server keeps it behind a single lock, tests own it directly.
/// Every mutation reports what it caused through `HeapEvents`. A mutation that throws has changed
/// nothing: each one validates all of its input before touching the heap.
public struct Heap: Sendable {
    /// Sentinel slots of the lists (gcmodule.c's generation heads and working lists).
    enum ListHead {
        static let permanent: Slot = 3
        static let unreachable: Slot = 4
        static let callbacks: Slot = 5
        static func generation(_ g: Int) -> Slot { Slot(g) }
    }

    var table = ObjectTable()
    var fieldPool = FieldPool()
    var types = TypeRegistry()
    public internal(set) var gc = GCState()
    public var limits: HeapLimits
    var sessions: [SessionID: SessionRefs] = [:]
    var sessionNames: [String: SessionID] = [:]
    var nextSessionID: UInt64 = 1
    var roots: [String: Slot] = [:]
    /// `gc.garbage`: each entry holds one reference.
    var garbage: [Slot] = []
    public internal(set) var totalBytes: UInt64 = 0
    /// Refused `set`s that kept their failed delete's key-table effect (`noSuchField`): a
    /// batch in which only such ops ran still changed the heap and must be journaled.
    public internal(set) var failedDeletes = 0
    /// Where and when each live object was allocated.
    var origins = AllocationOrigins()
    /// The wall clock in seconds since 1970, as the daemon last set it (`tick`): the allocation
    /// time objects record. Part of the heap's state, so that replay gives the same times.
    public internal(set) var clock: UInt32 = 0
    /// Buffers of the refcount cascade (RefcountCascade.swift), kept between cascades.
    var cascadeScratch = CascadeScratch()
    /// Off only in tests that compare the collector's fast paths with the general ones:
    /// `PlainGarbageSweep` against `deleteGarbage`, memory-order `update_refs`/`subtract_refs`
    /// against the list walks. The counts tell a test which fast paths ran.
    var plainGarbageSweepEnabled = true
    var memoryOrderPassesEnabled = true
    var fastPathRuns = FastPathRuns()
    struct FastPathRuns: Sendable {
        var plainSweeps = 0
        /// `update_refs` and `subtract_refs` fused (every live object collected).
        var onePassRefCounts = 0
        /// `move_unreachable` skipped: no young object was referenced from outside.
        var wholeYoungGarbage = 0
    }

    public init(limits: HeapLimits = HeapLimits()) {
        self.limits = limits
        _ = types.intern("weakref")
    }

    public var objectCount: Int { table.liveCount }

    // MARK: resolving ids

    func resolveLive(_ id: ObjectID) throws(HeapError) -> Slot {
        switch table.resolve(id) {
        case .live(let slot): return slot
        case .freed: throw .noSuchObject(id, .freed)
        case .neverExisted: throw .noSuchObject(id, .neverExisted)
        }
    }

    /// Whether an id names a live object.
    public func contains(_ id: ObjectID) -> Bool {
        if case .live = table.resolve(id) { return true }
        return false
    }

    /// Whether an id was issued and its object is gone.
    public func wasFreed(_ id: ObjectID) -> Bool {
        if case .freed = table.resolve(id) { return true }
        return false
    }

    func typeName(_ slot: Slot) -> String { types.name(table.records[Int(slot)].type) }

    // MARK: reference counting

    mutating func incref(_ slot: Slot) {
        table.records[Int(slot)].refcount += 1
    }

    // `decref` (drop one strong reference; at zero, the cascade) is `RefcountCascading`'s.

    /// The most references an object may have. Two below what 32 bits hold, as when the
    /// collector's gc_refs had two marker values above every count (they now live in the record:
    /// `ObjectFlags.collecting`); the limit stays where snapshots and clients met it.
    static let maxRefcount = UInt32.max - 2

    func checkRefcountRoom(_ slot: Slot, _ id: ObjectID, adding n: Int = 1) throws(HeapError) {
        try Self.checkRefcountRoom(table.records[Int(slot)].refcount, id, adding: n)
    }

    /// Shared with `apply`'s dry run (the same limit and words).
    static func checkRefcountRoom(_ refcount: UInt32, _ id: ObjectID, adding n: Int = 1) throws(HeapError) {
        if UInt64(refcount) + UInt64(n) > UInt64(maxRefcount) {
            throw .refcountLimit(id)
        }
    }
}
