/// The `gc` module's controls and automatic collection (gcmodule.c §3.1 of CPYTHON-GC.md).
extension Heap {
    /// `_PyObject_GC_Link`: every allocation counts; crossing threshold 0 collects right here,
    /// inside the allocation, before the new object exists (as 3.11 does; 3.12 defers it).
    mutating func trackAllocation(_ events: inout HeapEvents) {
        gc.counts[0] += 1
        guard automaticCollectionDue else { return }
        if gc.deferringCollection { gc.collectionDeferred = true } else { collectGenerations(&events) }
    }

    private var automaticCollectionDue: Bool {
        gc.enabled && gc.thresholds[0] != 0 && gc.counts[0] > gc.thresholds[0] && !gc.collecting
    }

    /// Holds automatic collection back until `endCollectionDeferral` (an atomic `apply` batch).
    mutating func beginCollectionDeferral() {
        gc.deferringCollection = true
        gc.collectionDeferred = false
    }

    /// A collection that fell due while deferred runs now, once, if it is still due (frees
    /// since may have brought count0 back under the threshold), as 3.12 runs a scheduled one.
    mutating func endCollectionDeferral(_ events: inout HeapEvents) {
        let due = gc.collectionDeferred
        gc.deferringCollection = false
        gc.collectionDeferred = false
        if due && automaticCollectionDue { collectGenerations(&events) }
    }

    /// `gc_collect_generations`: the oldest generation over its threshold, except that a full
    /// collection waits until the objects promoted since the last one are 25% of the survivors.
    mutating func collectGenerations(_ events: inout HeapEvents) {
        for i in stride(from: 2, through: 0, by: -1) where gc.counts[i] > gc.thresholds[i] {
            if i == 2 && gc.longLivedPending < gc.longLivedTotal / 4 { continue }
            _ = try? collect(generation: i, events: &events)
            break
        }
    }

    public mutating func setEnabled(_ on: Bool) { gc.enabled = on }

    /// `gc.set_threshold(t0[, t1[, t2]])`: omitted values keep theirs. Any C `int` is taken,
    /// as 3.11 takes it: a negative threshold 0 makes every allocation collect (count0 is
    /// always above it), a negative older one makes every trigger collect that generation.
    public mutating func setThresholds(_ t: [Int]) throws(HeapError) {
        guard (1...3).contains(t.count) else {
            throw .thresholdCount(t.count)
        }
        for (i, v) in t.enumerated() {
            guard v >= Int(Int32.min) && v <= Int(Int32.max) else {
                throw .thresholdOutOfRange(index: i, value: v)
            }
        }
        for (i, v) in t.enumerated() { gc.thresholds[i] = v }
    }

    public mutating func setDebug(_ flags: GCState.DebugFlags) { gc.debug = flags }

    /// `gc.freeze()`: every tracked object moves to the permanent generation, which collections
    /// never examine (its references act as external ones); all counts restart at 0. O(types):
    /// the lists merge in O(1); the type histogram's frozen share becomes the whole one.
    public mutating func freeze() {
        for g in 0...2 { table.mergeGeneration(g, into: 3) }
        gc.counts = [0, 0, 0]
        types.freezeAll()
    }

    /// `gc.unfreeze()`: the permanent generation joins the oldest one. O(types), as `freeze`.
    public mutating func unfreeze() {
        table.mergeGeneration(3, into: 2)
        types.unfreezeAll()
    }

    public var freezeCount: Int { table.generationSize(3) }

    /// Objects per generation (0, 1, 2, permanent): O(1), from counters (CPython walks the lists).
    public var generationSizes: [Int] { (0...3).map(table.generationSize) }

    /// `gc.get_objects(generation)`: the objects of one generation (3 = permanent) in list order.
    public func objects(inGeneration g: Int) -> [ObjectID] {
        table.listSlots(g == 3 ? ListHead.permanent : ListHead.generation(g)).map { table.id(of: $0) }
    }

    /// Every live object in id order.
    public func allObjects() -> [ObjectID] {
        table.objectSlots.filter { table.isLive($0) }.map { table.id(of: $0) }
    }

    public func isFinalized(_ id: ObjectID) throws(HeapError) -> Bool {
        table.records[Int(try resolveLive(id))].flags.contains(.finalized)
    }

    public func generation(of id: ObjectID) throws(HeapError) -> Int {
        table.generation(of: try resolveLive(id))
    }
}
