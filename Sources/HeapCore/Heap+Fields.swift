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

    /// Position of `key` in the object's block, or where it would be inserted.
    func fieldPosition(_ slot: Slot, key: UInt32) -> (index: Int, found: Bool) {
        let entries = fieldEntries(slot)
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
        let (i, found) = fieldPosition(slot, key: key)
        let r = table.records[Int(slot)]
        let entry = FieldPool.pack(key: key, target: target)
        if found {
            let at = r.fieldsAt + UInt32(i)
            let old = FieldPool.target(fieldPool[at])
            fieldPool[at] = entry
            return old
        }
        let count = Int(r.fieldCount)
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
        let (i, found) = fieldPosition(slot, key: key)
        guard found else { return nil }
        let r = table.records[Int(slot)]
        let count = Int(r.fieldCount)
        let at = r.fieldsAt
        let old = FieldPool.target(fieldPool[at + UInt32(i)])
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

    /// `tp_clear`: empties the object's fields, dropping each reference in key order (each drop
    /// may cascade). The block is detached first and freed last, so the cascade never sees it.
    mutating func clearFields(_ slot: Slot, _ events: inout HeapEvents) {
        let r = table.records[Int(slot)]
        guard r.fieldCount > 0 else { return }
        table.records[Int(slot)].fieldCount = 0
        table.records[Int(slot)].fieldsAt = 0
        for i in 0..<UInt32(r.fieldCount) { decref(FieldPool.target(fieldPool[r.fieldsAt + i]), &events) }
        fieldPool.freeBlock(at: r.fieldsAt, count: Int(r.fieldCount))
    }
}
