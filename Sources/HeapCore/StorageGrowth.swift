/// The heap's big arrays' next storage, made ahead of need outside the heap's lock.
///
/// The object table, the field pool and the allocation origins are arrays that double when
/// full. At millions of objects a doubling inside the lock faults in hundreds of megabytes of
/// fresh pages while every client waits (building ten million objects held the lock 0.3-0.7 s
/// once, at the table's doubling past 8M slots). A daemon instead asks which arrays are nearly
/// full (``Heap/storageGrowthWanted(minimumBytes:)``), makes their next storage with its pages
/// faulted in while other requests run (``resident(for:)``), and hands it to the heap
/// (``Heap/adoptStorage(_:)``), which only copies its elements over: about 20 ms per 256 MB here.
public struct StorageGrowth: Sendable {
    /// The room each array will need next, and how much of it to fault in ahead: what the heap
    /// copies into it (faulting in the rest ahead would only make it resident earlier; appends
    /// fault it a page at a time).
    public struct Room: Sendable, Equatable {
        public var capacity = 0
        public var faulted = 0
    }

    /// The room of each array (none: it needs none yet).
    public struct Plan: Sendable, Equatable {
        public var records = Room()
        public var fieldEntries = Room()
        public var birthOf = Room()

        /// Bytes the plan faults in.
        public var bytes: Int {
            records.faulted * MemoryLayout<ObjectRecord>.stride + birthOf.faulted
                * 4
                + fieldEntries.faulted * 8
        }
    }

    var records: [ObjectRecord] = []
    var fieldEntries: [FieldPool.Entry] = []
    var birthOf: [UInt32] = []

    /// None: nothing to adopt.
    public init() {}

    init(
        records: [ObjectRecord], fieldEntries: [FieldPool.Entry], birthOf: [UInt32]
    ) {
        (self.records, self.fieldEntries, self.birthOf) = (records, fieldEntries, birthOf)
    }

    /// Empty arrays with the plan's room, the pages to fault in written once. (Outside the heap's
    /// lock.)
    public static func resident(for plan: Plan) -> StorageGrowth {
        func made<T: BitwiseCopyable>(_ room: Room) -> [T] { .resident(capacity: room.capacity, faulted: room.faulted) }
        return StorageGrowth(
            records: made(plan.records), fieldEntries: made(plan.fieldEntries),
            birthOf: made(plan.birthOf))
    }

    /// The room an array of `count` elements in room for `capacity` needs ahead: none unless it
    /// is big enough that its doubling is a pause (`minimumBytes`) and within an eighth of full;
    /// then what Swift's doubling would give it, its present room faulted in.
    static func room(count: Int, capacity: Int, stride: Int, minimumBytes: Int) -> Room {
        guard capacity * stride >= minimumBytes && count >= capacity - capacity / 8 else { return Room() }
        return Room(capacity: max(2 * capacity, 16), faulted: capacity)
    }
}

extension Heap {
    /// The arrays to grow ahead (see ``StorageGrowth``), or nil when none is nearly full.
    public func storageGrowthWanted(minimumBytes: Int) -> StorageGrowth.Plan? {
        func room<T>(_ a: [T]) -> StorageGrowth.Room {
            StorageGrowth.room(
                count: a.count, capacity: a.capacity, stride: MemoryLayout<T>.stride, minimumBytes: minimumBytes)
        }
        let plan = StorageGrowth.Plan(
            records: room(table.records), fieldEntries: room(fieldPool.entries),
            birthOf: room(origins.birthOf))
        return plan == StorageGrowth.Plan() ? nil : plan
    }

    /// Storage for a copy of the big arrays as they are (their capacities): a compaction's
    /// snapshot keeps the heap's current storage, and the heap moves into this one
    /// (``adoptStorage(_:sameSizeToo:)``) instead of copying each array on its next change, in
    /// fresh pages, inside the lock.
    public var storageCopyPlan: StorageGrowth.Plan {
        func room<T>(_ a: [T]) -> StorageGrowth.Room { StorageGrowth.Room(capacity: a.capacity, faulted: a.count) }
        return StorageGrowth.Plan(
            records: room(table.records), fieldEntries: room(fieldPool.entries),
            birthOf: room(origins.birthOf))
    }

    /// Moves each array whose grown storage is in `growth` into it (an array that grew by itself
    /// meanwhile keeps its own; with `sameSizeToo`, storage as big as the array's is taken too);
    /// `growth` is left holding the old storage, to be freed outside the lock. Returns the bytes
    /// copied. The heap's contents do not change.
    @discardableResult
    public mutating func adoptStorage(_ growth: inout StorageGrowth, sameSizeToo: Bool = false) -> Int {
        var copied = 0
        if table.records.moveStorage(into: &growth.records, sameSizeToo: sameSizeToo) {
            copied += growth.records.count * MemoryLayout<ObjectRecord>.stride
        }
        copied += fieldPool.adoptStorage(&growth.fieldEntries, sameSizeToo: sameSizeToo)
        copied += origins.adoptStorage(&growth.birthOf, sameSizeToo: sameSizeToo)
        return copied
    }
}
