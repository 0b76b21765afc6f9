/// The dry run of an `apply` batch: predicts each op's outcome (the same result or the same
/// error) without touching the heap, over an overlay of what the ops so far changed.
///
/// The heap is only read (never copied: a copy-on-write array is copied on its first write,
/// and a dry run makes none). The overlay keeps, per slot the batch touched, the object's
/// refcount, liveness, reuse count, type, size and fields; the session's references taken or
/// dropped; the object and byte counts for the quota; the free-slot stack and type field
/// keys, so that new objects get exactly the ids and field order the real run gives them
/// (a later op may name a new object by its literal id). Refcount cascades are the heap's own
/// (`RefcountCascading`, trashcan included), reading fields from the overlay, then the heap.
/// Weakrefs need no simulation: clearing them changes no refcount, and no automatic
/// collection runs inside an atomic batch (`Heap.applyBatch`).
struct BatchSimulation {
    struct SimObject {
        var live: Bool
        var refcount: UInt32
        var reuse: UInt32
        var type: TypeID
        var size: UInt64
        /// In the field pool's order: by key, or insertion order with its own dict.
        var fields: [(key: UInt32, target: Slot)]
        var ownDict = false
        /// On shared keys: the keys in the object's insertion order (the pool's ranks).
        var insertion: [UInt32] = []
    }

    let heap: Heap
    let session: SessionID
    var objects: [Slot: SimObject] = [:]
    /// References the session took (+) or dropped (-) per slot.
    var heldDelta: [Slot: Int] = [:]
    var liveCount: Int
    var totalBytes: UInt64
    var recordCount: Int
    var freeCount: Int
    /// Slots the batch freed, most recent last (on top of the heap's own free stack).
    var freedSlots: [Slot] = []
    /// The heap's own free stack, from its top, as far as the batch has not popped it.
    var nextFreeSlot: Slot
    var addedTypes: [String: TypeID] = [:]
    var addedKeys: [TypeID: [String: UInt32]] = [:]
    /// Per type the batch touched: its shared-keys state (`TypeRegistry.Entry`).
    var sharedStates: [TypeID: (sharedCount: Int, usable: Int)] = [:]
    var freed = 0
    var cascadeScratch = CascadeScratch()

    init(_ heap: Heap, session: SessionID) {
        self.heap = heap
        self.session = session
        let free = heap.table.freeListState
        liveCount = free.live
        freeCount = free.count
        nextFreeSlot = free.top
        totalBytes = heap.totalBytes
        recordCount = heap.table.records.count
    }

    /// Each op's predicted outcome (and the predicted number of frees).
    mutating func run(_ ops: [BatchOp], stoppingAtFirstFailure: Bool = false) -> BatchOutcome {
        var outcome = BatchOutcome()
        for (i, op) in ops.enumerated() {
            let r = run(op, at: i, of: ops, outcome.results)
            outcome.results.append(r)
            if stoppingAtFirstFailure && !r.succeeded { break }
        }
        outcome.freed = freed
        return outcome
    }

    private mutating func run(
        _ op: BatchOp, at i: Int, of ops: [BatchOp], _ results: [BatchOpOutcome]
    ) -> BatchOpOutcome {
        do {
            switch try op.resolved(at: i, of: ops, results) {
            case .alloc(let type, let size, _): return .object(try allocate(type: type, size: size))
            case .ref(let id): return .refcount(try ref(id))
            case .unref(let id): return .refcount(try unref(id))
            case .set(let id, let field, let target): return .refcount(try set(id, field: field, target: target))
            case .weakref(let id, _): return .object(try weakref(to: id))
            }
        } catch {
            return .failed(error)
        }
    }

    // MARK: the ops, checking what `Heap`'s methods check, in the same order

    private mutating func allocate(type: String, size: UInt64?) throws(HeapError) -> ObjectID {
        try heap.checkSession(session)
        guard !type.isEmpty else { throw .emptyTypeName }
        guard type != Heap.weakrefType else {
            throw .weakrefTypeReserved
        }
        try HeapLimits.checkSize(size ?? 0)
        try checkQuota(adding: size ?? 0)
        let typeID = internType(type)
        let slot = makeObject(type: typeID, size: size ?? 0)
        instanceCreated(typeID)
        heldDelta[slot, default: 0] += 1
        return id(of: slot)
    }

    private mutating func weakref(to id: ObjectID) throws(HeapError) -> ObjectID {
        try heap.checkSession(session)
        _ = try resolveLive(id)
        try checkQuota(adding: 0)
        let slot = makeObject(type: internType(Heap.weakrefType), size: 0)
        heldDelta[slot, default: 0] += 1
        return self.id(of: slot)
    }

    private mutating func ref(_ id: ObjectID) throws(HeapError) -> Int {
        try heap.checkSession(session)
        let slot = try resolveLive(id)
        try checkRefcountRoom(slot, id)
        objects[slot]!.refcount += 1
        heldDelta[slot, default: 0] += 1
        return Int(objects[slot]!.refcount)
    }

    private mutating func unref(_ id: ObjectID) throws(HeapError) -> Int {
        try heap.checkSession(session)
        let slot = try resolveLive(id)
        guard held(slot) > 0 else { throw .referenceNotHeld(id) }
        heldDelta[slot, default: 0] -= 1
        let after = Int(objects[slot]!.refcount) - 1
        decref(slot)
        return after
    }

    /// `Heap.set` with one field and no data: the same temporary holds, so the same frees.
    private mutating func set(_ id: ObjectID, field: String, target: ObjectID?) throws(HeapError) -> Int {
        let slot = try resolveLive(id)
        try HeapLimits.checkFieldName(field)
        var t: Slot?
        if let target {
            t = try resolveLive(target)
            try Heap.checkRefcountRoom(objects[t!]!.refcount, target, adding: 2)  // as `Heap.set` counts
        }
        if objects[slot]!.fields.count == FieldPool.maxFields {
            throw .fieldLimit(id)
        }
        if t == nil && !has(slot, field) {
            _ = deleteField(slot, name: field)  // interned all the same (`Heap.set`)
            throw .noSuchField(id, field: field)
        }
        incref(slot)
        if let t {
            incref(t)
            incref(t)
            if let old = setField(slot, name: field, target: t) { decref(old) }
            decref(t)
        } else if let old = deleteField(slot, name: field) {
            decref(old)
        }
        let after = Int(objects[slot]!.refcount) - 1
        decref(slot)
        return after
    }

    // MARK: checks

    /// Resolves an id as `ObjectTable.resolve` would after the ops so far; the object is then
    /// in the overlay.
    private mutating func resolveLive(_ id: ObjectID) throws(HeapError) -> Slot {
        guard id.isWellFormed else { throw .noSuchObject(id, .neverExisted) }
        let (slot, overflow) = (id.slotOrdinal - 1).addingReportingOverflow(ObjectTable.reservedSlots)
        guard !overflow, Int(slot) < recordCount else { throw .noSuchObject(id, .neverExisted) }
        let (live, reuse) =
            objects[slot].map { ($0.live, $0.reuse) }
            ?? (heap.table.isLive(slot), heap.table.records[Int(slot)].reuse)
        if id.reuse == UInt64(reuse) {
            guard live else { throw .noSuchObject(id, .freed) }
            load(slot)
            return slot
        }
        throw .noSuchObject(id, id.reuse < UInt64(reuse) ? .freed : .neverExisted)
    }

    private func checkRefcountRoom(_ slot: Slot, _ id: ObjectID) throws(HeapError) {
        try Heap.checkRefcountRoom(objects[slot]!.refcount, id)
    }

    private func checkQuota(adding bytes: UInt64) throws(HeapError) {
        try heap.limits.check(objects: liveCount, total: totalBytes, adding: bytes, newObject: true)
    }

    private func held(_ slot: Slot) -> Int {
        let real = Int(slot) < heap.table.records.count ? Int(heap.sessions[session]?.count(slot) ?? 0) : 0
        return real + heldDelta[slot, default: 0]
    }

    func id(of slot: Slot) -> ObjectID {
        ObjectID(
            slotOrdinal: slot - ObjectTable.reservedSlots + 1,
            reuse: objects[slot]?.reuse ?? heap.table.records[Int(slot)].reuse)
    }
}
