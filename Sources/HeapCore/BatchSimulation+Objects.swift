/// The dry run's object overlay: loading objects from the heap, fields, slots, type keys and
/// the refcount cascade, each mirroring the heap's own code closely enough to give the same
/// ids, the same field order and the same frees.
extension BatchSimulation {
    /// Copies a heap object into the overlay on first touch.
    mutating func load(_ slot: Slot) {
        guard objects[slot] == nil else { return }
        let r = heap.table.records[Int(slot)]
        let entries = heap.fieldEntries(slot)
        objects[slot] = SimObject(
            live: r.flags.contains(.live), refcount: r.refcount, reuse: r.reuse, type: r.type,
            size: heap.table.size(slot),
            fields: entries.map { (FieldPool.key($0), FieldPool.target($0)) },
            ownDict: r.flags.contains(.ownDict),
            insertion: heap.ranked(slot)
                ? entries.sorted { FieldPool.rank($0) < FieldPool.rank($1) }.map(FieldPool.key) : [])
    }

    mutating func incref(_ slot: Slot) {
        load(slot)
        objects[slot]!.refcount += 1
    }

    /// Drops one reference, with the heap's own cascade (`RefcountCascading`) over the overlay.
    mutating func decref(_ slot: Slot) {
        var none = NoEvents()
        decref(slot, &none)
    }

    /// `Heap.makeObject` over `ObjectTable.allocateSlot`: a free slot once enough wait, else a
    /// new one at the end of the table.
    mutating func makeObject(type: TypeID, size: UInt64) -> Slot {
        liveCount += 1
        totalBytes += size
        let slot: Slot
        var reuse: UInt32 = 0
        if freeCount >= ObjectTable.reuseThreshold {
            if let s = freedSlots.popLast() {
                slot = s
            } else {
                slot = nextFreeSlot
                nextFreeSlot = heap.table.records[Int(slot)].gcNext
            }
            freeCount -= 1
            reuse = (objects[slot]?.reuse ?? heap.table.records[Int(slot)].reuse) + 1
        } else {
            slot = Slot(recordCount)
            recordCount += 1
        }
        objects[slot] = SimObject(live: true, refcount: 1, reuse: reuse, type: type, size: size, fields: [])
        return slot
    }

    // MARK: fields (`Heap+Fields.swift`)

    func has(_ slot: Slot, _ name: String) -> Bool {
        guard let k = key(name, of: objects[slot]!.type) else { return false }
        return objects[slot]!.fields.contains { $0.key == k }
    }

    mutating func setField(_ slot: Slot, name: String, target: Slot) -> Slot? {
        let type = objects[slot]!.type
        let key: UInt32
        if objects[slot]!.ownDict {
            key = internKey(name, of: type)
        } else if let k = sharedKey(name, of: type) {
            key = k
        } else {
            materializeDict(slot)
            key = internKey(name, of: type)
        }
        return storeField(slot, key: key, target: target)
    }

    mutating func deleteField(_ slot: Slot, name: String) -> Slot? {
        let type = objects[slot]!.type
        if objects[slot]!.ownDict {
            guard let k = key(name, of: type) else { return nil }
            return removeField(slot, key: k)
        }
        if let k = sharedKey(name, of: type) { return removeField(slot, key: k) }
        materializeDict(slot)
        return nil
    }

    mutating func materializeDict(_ slot: Slot) {
        let o = objects[slot]!
        objects[slot]!.fields = o.insertion.map { k in (k, o.fields.first { $0.key == k }!.target) }
        objects[slot]!.insertion = []
        objects[slot]!.ownDict = true
    }

    mutating func storeField(_ slot: Slot, key: UInt32, target: Slot) -> Slot? {
        let fields = objects[slot]!.fields
        let i =
            objects[slot]!.ownDict
            ? (fields.firstIndex { $0.key == key } ?? fields.count)
            : (fields.firstIndex { $0.key >= key } ?? fields.count)
        if i < fields.count && fields[i].key == key {
            let old = fields[i].target
            objects[slot]!.fields[i].target = target
            return old
        }
        objects[slot]!.fields.insert((key, target), at: i)
        if !objects[slot]!.ownDict && objects[slot]!.type != TypeRegistry.permanent {
            objects[slot]!.insertion.append(key)
        }
        return nil
    }

    mutating func removeField(_ slot: Slot, key: UInt32) -> Slot? {
        guard let i = objects[slot]!.fields.firstIndex(where: { $0.key == key }) else { return nil }
        objects[slot]!.insertion.removeAll { $0 == key }
        return objects[slot]!.fields.remove(at: i).target
    }

    // MARK: types and field keys (`TypeRegistry`), with what the batch added

    mutating func internType(_ name: String) -> TypeID {
        if let t = heap.types.lookup(name) ?? addedTypes[name] { return t }
        let t = TypeID(heap.types.entries.count + addedTypes.count)
        addedTypes[name] = t
        return t
    }

    func key(_ name: String, of type: TypeID) -> UInt32? {
        if Int(type) < heap.types.entries.count, let k = heap.types.key(name, of: type) { return k }
        return addedKeys[type]?[name]
    }

    func sharedState(_ type: TypeID) -> (sharedCount: Int, usable: Int) {
        if let st = sharedStates[type] { return st }
        if Int(type) < heap.types.entries.count && !heap.types.entries[Int(type)].name.isEmpty {
            return heap.types.sharedState(of: type)
        }
        return (0, TypeRegistry.sharedKeysMax)
    }

    /// `TypeRegistry.instanceCreated`.
    mutating func instanceCreated(_ type: TypeID) {
        var st = sharedState(type)
        if st.usable > 1 { st.usable -= 1 }
        sharedStates[type] = st
    }

    /// `TypeRegistry.sharedKey`.
    mutating func sharedKey(_ name: String, of type: TypeID) -> UInt32? {
        var st = sharedState(type)
        if let k = key(name, of: type) { return type == TypeRegistry.permanent || Int(k) < st.sharedCount ? k : nil }
        if type == TypeRegistry.permanent { return internKey(name, of: type) }
        guard st.usable > 0 else { return nil }
        st.usable -= 1
        st.sharedCount += 1
        sharedStates[type] = st
        return internKey(name, of: type)
    }

    mutating func internKey(_ name: String, of type: TypeID) -> UInt32 {
        if let k = key(name, of: type) { return k }
        let existing = Int(type) < heap.types.entries.count ? heap.types.entries[Int(type)].keys.count : 0
        let k = UInt32(existing + addedKeys[type, default: [:]].count)
        addedKeys[type, default: [:]][name] = k
        return k
    }
}

/// The overlay's side of the one refcount cascade: the same order, trashcan included, so the
/// same frees and the same slot release order as the real run.
extension BatchSimulation: RefcountCascading {
    /// The dry run reports nothing.
    struct NoEvents {}

    mutating func dropsLastReference(_ slot: Slot) -> Bool {
        load(slot)
        objects[slot]!.refcount -= 1
        return objects[slot]!.refcount == 0
    }

    /// The object is dead from here on (the overlay has neither finalizers nor weakrefs to
    /// clear: clearing a weakref changes no refcount).
    mutating func beginDeallocation(_ slot: Slot, _ events: inout NoEvents) {
        objects[slot]!.live = false
        freed += 1
        totalBytes -= objects[slot]!.size
    }

    func releasesThroughDict(_ slot: Slot) -> Bool { objects[slot]!.ownDict }
    func fieldCount(_ slot: Slot) -> Int { objects[slot]!.fields.count }

    func fieldTarget(_ slot: Slot, _ i: Int) -> Slot { objects[slot]!.fields[i].target }

    /// `ObjectTable.releaseSlot`: a slot whose reuse count ran out is retired.
    mutating func finishDeallocation(_ slot: Slot) {
        objects[slot]!.fields = []
        objects[slot]!.size = 0
        liveCount -= 1
        guard objects[slot]!.reuse < ObjectID.maxReuse else { return }
        freedSlots.append(slot)
        freeCount += 1
    }
}
