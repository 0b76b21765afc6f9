/// An object's fields inside the field pool: lookup, insert, remove, sorted by key index.
extension Heap {
    func fieldEntries(_ slot: Slot) -> ArraySlice<FieldPool.Entry> {
        let r = table.records[Int(slot)]
        guard r.fieldCount > 0 else { return [] }
        return fieldPool.entries[Int(r.fieldsAt)..<Int(r.fieldsAt) + Int(r.fieldCount)]
    }

    /// The object's fields as (name, target slot), in key (release) order.
    func namedFields(_ slot: Slot) -> [(String, Slot)] {
        let type = table.records[Int(slot)].type
        return fieldEntries(slot).map { (types.keyName(FieldPool.key($0), of: type), FieldPool.target($0)) }
    }

    /// Position of `key` in the object's block, or where it would be inserted (the end, for an
    /// object with its own dict, whose fields are in insertion order).
    func fieldPosition(_ slot: Slot, key: UInt32) -> (index: Int, found: Bool) {
        let entries = fieldEntries(slot)
        if table.records[Int(slot)].flags.contains(.ownDict) {
            for i in entries.indices where FieldPool.key(entries[i]) == key { return (i - entries.startIndex, true) }
            return (entries.count, false)
        }
        var lo = entries.startIndex
        var hi = entries.endIndex
        while lo < hi {
            let mid = (lo + hi) / 2
            let k = FieldPool.key(entries[mid])
            if k == key { return (mid - entries.startIndex, true) }
            if k < key { lo = mid + 1 } else { hi = mid }
        }
        return (lo - entries.startIndex, false)
    }

    func fieldTarget(_ slot: Slot, named name: String) -> Slot? {
        guard let key = types.key(name, of: table.records[Int(slot)].type) else { return nil }
        let (i, found) = fieldPosition(slot, key: key)
        guard found else { return nil }
        return FieldPool.target(fieldPool[table.records[Int(slot)].fieldsAt + UInt32(i)])
    }

    /// Stores `target` under `key` (the reference is already counted by the caller) and returns
    /// the target it replaced, whose reference the caller must drop.
    mutating func storeField(_ slot: Slot, key: UInt32, target: Slot) -> Slot? {
        table.noteChange(slot)
        let (i, found) = fieldPosition(slot, key: key)
        let r = table.records[Int(slot)]
        if found {
            // A replaced value keeps its place in the insertion order (its rank).
            let at = r.fieldsAt + UInt32(i)
            let old = FieldPool.target(fieldPool[at])
            fieldPool[at] = FieldPool.pack(key: key, target: target, rank: FieldPool.rank(fieldPool[at]))
            return old
        }
        let count = Int(r.fieldCount)
        // A new name comes last in the insertion order.
        let entry = FieldPool.pack(key: key, target: target, rank: ranked(slot) ? UInt32(count) : 0)
        var at = r.fieldsAt
        if count == 0 || FieldPool.sizeClass(forCount: count + 1) != FieldPool.sizeClass(forCount: count) {
            let newAt = fieldPool.allocateBlock(count: count + 1)
            for j in 0..<count { fieldPool[newAt + UInt32(j)] = fieldPool[at + UInt32(j)] }
            fieldPool.freeBlock(at: at, count: count)
            at = newAt
            table.records[Int(slot)].fieldsAt = at
        }
        var j = count
        while j > i { fieldPool[at + UInt32(j)] = fieldPool[at + UInt32(j - 1)]; j -= 1 }
        fieldPool[at + UInt32(i)] = entry
        table.records[Int(slot)].fieldCount = UInt16(count + 1)
        return nil
    }

    /// Removes the field under `key`; returns its target, whose reference the caller must drop.
    mutating func removeField(_ slot: Slot, key: UInt32) -> Slot? {
        table.noteChange(slot)
        let (i, found) = fieldPosition(slot, key: key)
        guard found else { return nil }
        let r = table.records[Int(slot)]
        let count = Int(r.fieldCount)
        let at = r.fieldsAt
        let old = FieldPool.target(fieldPool[at + UInt32(i)])
        if ranked(slot) {
            // `delete_index_from_values`: the name leaves the insertion order.
            let gone = FieldPool.rank(fieldPool[at + UInt32(i)])
            for j in 0..<count where FieldPool.rank(fieldPool[at + UInt32(j)]) > gone {
                let e = fieldPool[at + UInt32(j)]
                fieldPool[at + UInt32(j)] = FieldPool.withRank(e, FieldPool.rank(e) - 1)
            }
        }
        for j in i..<(count - 1) { fieldPool[at + UInt32(j)] = fieldPool[at + UInt32(j + 1)] }
        if count - 1 == 0 || FieldPool.sizeClass(forCount: count - 1) != FieldPool.sizeClass(forCount: count) {
            var newAt: UInt32 = 0
            if count - 1 > 0 {
                newAt = fieldPool.allocateBlock(count: count - 1)
                for j in 0..<(count - 1) { fieldPool[newAt + UInt32(j)] = fieldPool[at + UInt32(j)] }
            }
            fieldPool.freeBlock(at: at, count: count)
            table.records[Int(slot)].fieldsAt = newAt
        }
        table.records[Int(slot)].fieldCount = UInt16(count - 1)
        return old
    }

    /// Whether the object's entries carry insertion ranks: objects on shared keys (weakrefs
    /// stand for `__slots__` and never get a dict).
    func ranked(_ slot: Slot) -> Bool {
        let r = table.records[Int(slot)]
        return !r.flags.contains(.ownDict) && r.type != TypeRegistry.permanent
    }

    /// `setattr`: stores `target` under `name` (the reference is already counted by the caller)
    /// and returns the target it replaced. `_PyObject_StoreInstanceAttribute`: a name that is
    /// not in the class's shared keys and no longer fits makes the object's own dict first.
    mutating func setField(_ slot: Slot, name: String, target: Slot) -> Slot? {
        let type = table.records[Int(slot)].type
        let key: UInt32
        if table.records[Int(slot)].flags.contains(.ownDict) {
            key = types.internKey(name, of: type)
        } else if let k = types.sharedKey(name, of: type) {
            key = k
        } else {
            materializeDict(slot)
            key = types.internKey(name, of: type)
        }
        // `MAINTAIN_TRACKING`: a dict starts being tracked when it gets a tracked value (every
        // heap object is one).
        if table.records[Int(slot)].flags.contains(.ownDict) { table.records[Int(slot)].flags.insert(.dictTracked) }
        return storeField(slot, key: key, target: target)
    }

    /// `delattr`: removes the field `name` and returns its target, or nil (and changes no
    /// field) if the object has none. As 3.11's `_PyObject_StoreInstanceAttribute` with a NULL
    /// value, the name is first interned in the shared keys, or, when it does not fit, the
    /// object's own dict is made (CPYTHON-GC.md §4.1 step 5): a failed delete still does that.
    mutating func deleteField(_ slot: Slot, name: String) -> Slot? {
        let type = table.records[Int(slot)].type
        if table.records[Int(slot)].flags.contains(.ownDict) {
            guard let key = types.key(name, of: type) else { return nil }
            return removeField(slot, key: key)
        }
        if let key = types.sharedKey(name, of: type) { return removeField(slot, key: key) }
        materializeDict(slot)
        return nil
    }

    /// `make_dict_from_instance_attributes` + the resize of the first insertion: the object's
    /// fields move to its own dict, in its own insertion order. The dict is tracked if it has a
    /// value.
    mutating func materializeDict(_ slot: Slot) {
        table.noteChange(slot)
        let r = table.records[Int(slot)]
        var flags: ObjectFlags = [.ownDict]
        if r.fieldCount > 0 {
            let at = r.fieldsAt
            let byRank = (0..<UInt32(r.fieldCount)).map { fieldPool[at + $0] }.sorted {
                FieldPool.rank($0) < FieldPool.rank($1)
            }
            for (j, e) in byRank.enumerated() { fieldPool[at + UInt32(j)] = FieldPool.withRank(e, 0) }
            flags.insert(.dictTracked)
        }
        table.records[Int(slot)].flags.formUnion(flags)
    }

    /// `tp_clear`: empties the object's fields, dropping each reference in key order (each drop
    /// may cascade). The block is detached first and freed last, so the cascade never sees it.
    mutating func clearFields(_ slot: Slot, _ events: inout HeapEvents) {
        table.noteChange(slot)
        let r = table.records[Int(slot)]
        guard r.fieldCount > 0 else { return }
        table.records[Int(slot)].fieldCount = 0
        table.records[Int(slot)].fieldsAt = 0
        for i in 0..<UInt32(r.fieldCount) { decref(FieldPool.target(fieldPool[r.fieldsAt + i]), &events) }
        fieldPool.freeBlock(at: r.fieldsAt, count: Int(r.fieldCount))
    }
}
