/// The heap's big arrays' next storage, made ahead of need outside the heap's lock.
///
/// The object table, the collector's scratch, the field pool and the allocation origins are
/// arrays that double when full. At millions of objects a doubling inside the lock faults in
/// hundreds of megabytes of fresh pages while every client waits (building ten million objects
/// held the lock 0.3-0.7 s once, at the table's doubling past 8M slots). A daemon instead asks
/// which arrays are nearly full (``Heap/storageGrowthWanted(minimumBytes:)``), makes their next
/// storage with its pages faulted in while other requests run (``resident(for:)``), and hands
/// it to the heap (``Heap/adoptStorage(_:)``), which only copies its elements over: about 20 ms
/// per 256 MB here.
public struct StorageGrowth: Sendable {
    /// The room each array will need next (0: it needs none yet).
    public struct Plan: Sendable, Equatable {
        public var records = 0
        public var gcRefs = 0
        public var fieldEntries = 0
        public var originOf = 0
        public var bornAt = 0

        /// Bytes the plan's arrays take.
        public var bytes: Int {
            records * MemoryLayout<ObjectRecord>.stride + (gcRefs + originOf + bornAt) * 4 + fieldEntries * 8
        }
    }

    var records: [ObjectRecord] = []
    var gcRefs: [UInt32] = []
    var fieldEntries: [FieldPool.Entry] = []
    var originOf: [UInt32] = []
    var bornAt: [UInt32] = []

    /// None: nothing to adopt.
    public init() {}

    init(
        records: [ObjectRecord], gcRefs: [UInt32], fieldEntries: [FieldPool.Entry], originOf: [UInt32],
        bornAt: [UInt32]
    ) {
        (self.records, self.gcRefs, self.fieldEntries, self.originOf, self.bornAt) =
            (records, gcRefs, fieldEntries, originOf, bornAt)
    }

    /// Empty arrays with the plan's room, every page written once. (Outside the heap's lock.)
    public static func resident(for plan: Plan) -> StorageGrowth {
        StorageGrowth(
            records: .resident(capacity: plan.records), gcRefs: .resident(capacity: plan.gcRefs),
            fieldEntries: .resident(capacity: plan.fieldEntries), originOf: .resident(capacity: plan.originOf),
            bornAt: .resident(capacity: plan.bornAt))
    }

    /// Whether an array of `count` elements in room for `capacity` is worth growing ahead: big
    /// enough that its doubling is a pause (`minimumBytes`), and within an eighth of full. The
    /// room wanted is what Swift's doubling would give it.
    static func room(count: Int, capacity: Int, stride: Int, minimumBytes: Int) -> Int {
        capacity * stride >= minimumBytes && count >= capacity - capacity / 8 ? max(2 * capacity, 16) : 0
    }
}

extension Heap {
    /// The arrays to grow ahead (see ``StorageGrowth``), or nil when none is nearly full.
    public func storageGrowthWanted(minimumBytes: Int) -> StorageGrowth.Plan? {
        func room<T>(_ a: [T]) -> Int {
            StorageGrowth.room(
                count: a.count, capacity: a.capacity, stride: MemoryLayout<T>.stride, minimumBytes: minimumBytes)
        }
        let plan = StorageGrowth.Plan(
            records: room(table.records), gcRefs: room(table.gcRefs), fieldEntries: room(fieldPool.entries),
            originOf: room(origins.originOf), bornAt: room(origins.bornAt))
        return plan == StorageGrowth.Plan() ? nil : plan
    }

    /// Moves each array whose grown storage is in `growth` into it (an array that grew by itself
    /// meanwhile keeps its own); `growth` is left holding the old storage, to be freed outside
    /// the lock. Returns the bytes copied. The heap's contents do not change.
    @discardableResult
    public mutating func adoptStorage(_ growth: inout StorageGrowth) -> Int {
        var copied = 0
        if table.records.moveStorage(into: &growth.records) {
            copied += growth.records.count * MemoryLayout<ObjectRecord>.stride
        }
        if table.gcRefs.moveStorage(into: &growth.gcRefs) { copied += growth.gcRefs.count * 4 }
        copied += fieldPool.adoptStorage(&growth.fieldEntries)
        copied += origins.adoptStorage(&growth.originOf, &growth.bornAt)
        return copied
    }
}
