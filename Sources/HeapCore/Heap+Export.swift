/// Taking the heap's export view (read only: no collector, no change).
extension Heap {
    /// The nodes and edges of the heap as a V8 heap snapshot: every live object (garbage
    /// included), its fields, weakref referents, and the root holders. O(slots + fields + held
    /// references); strings are interned once per type and field key, not per object.
    public func exportView() -> HeapExportView {
        var strings = StringTable()
        let n = table.records.count
        // Slot → ordinal, for edge targets (dropped when the view is built).
        var ordinal = [UInt32](repeating: .max, count: n)
        var live = 0
        var fieldCount = 0
        table.records.withUnsafeBufferPointer { records in
            for s in Int(ObjectTable.reservedSlots)..<n where records[s].flags.contains(.live) {
                ordinal[s] = UInt32(live)
                live += 1
                fieldCount += Int(records[s].fieldCount)
            }
        }
        precondition(fieldCount < Int(UInt32.max) && live < Int(UInt32.max), "too large to export")
        var ids = [UInt64](repeating: 0, count: live)
        var typeNames = [UInt32](repeating: 0, count: live)
        var sizes = [UInt64](repeating: 0, count: live)
        var edgeStart = [UInt32](repeating: 0, count: live + 1)
        var edgeName = [UInt32](repeating: 0, count: fieldCount)
        var edgeTarget = [UInt32](repeating: 0, count: fieldCount)
        // Per type: its name's string index, and its field keys' (interned on first use).
        var typeString = [UInt32](repeating: .max, count: types.entries.count)
        var keyStrings = [[UInt32]](repeating: [], count: types.entries.count)
        var o = 0
        var e = 0
        for s in Int(ObjectTable.reservedSlots)..<n where ordinal[s] != .max {
            let r = table.records[s]
            let t = Int(r.type)
            if typeString[t] == .max {
                typeString[t] = strings.intern(types.entries[t].name)
                keyStrings[t] = [UInt32](repeating: .max, count: types.entries[t].keys.count)
            }
            ids[o] = table.id(of: Slot(s)).raw
            typeNames[o] = typeString[t]
            sizes[o] = table.size(Slot(s))
            edgeStart[o] = UInt32(e)
            for i in 0..<Int(r.fieldCount) {
                let entry = fieldPool.entries[Int(r.fieldsAt) + i]
                let key = Int(FieldPool.key(entry))
                if key >= keyStrings[t].count {
                    keyStrings[t] += [UInt32](repeating: .max, count: key + 1 - keyStrings[t].count)
                }
                if keyStrings[t][key] == .max { keyStrings[t][key] = strings.intern(types.entries[t].keys[key]) }
                edgeName[e] = keyStrings[t][key]
                edgeTarget[e] = ordinal[Int(FieldPool.target(entry))]
                e += 1
            }
            o += 1
        }
        edgeStart[live] = UInt32(e)
        let weak = table.weakReferent.compactMap { w, referent -> (source: UInt32, target: UInt32)? in
            let (a, b) = (ordinal[Int(w)], ordinal[Int(referent)])
            return a == .max || b == .max ? nil : (a, b)
        }.sorted { $0.source < $1.source }
        let weakName = strings.intern("referent")
        let holders = exportHolders(ordinal, ids, &strings)
        return HeapExportView(
            strings: strings.strings, ids: ids, typeNames: typeNames, sizes: sizes, edgeStart: edgeStart,
            edgeName: edgeName, edgeTarget: edgeTarget, weak: weak, weakName: weakName, holders: holders)
    }

    /// Every holder that holds something, in holder order (as `graph()` orders them), with the
    /// ordinals it holds distinct and by id.
    private func exportHolders(
        _ ordinal: [UInt32], _ ids: [UInt64], _ strings: inout StringTable
    ) -> [HeapExportView.Holder] {
        func distinct(_ slots: some Sequence<Slot>) -> [UInt32] {
            Set(slots.lazy.map { ordinal[Int($0)] }).filter { $0 != .max }.sorted { ids[Int($0)] < ids[Int($1)] }
        }
        var found: [(holder: RootHolder, targets: [UInt32])] = []
        for (sid, refs) in sessions {
            let held = distinct(refs.frames.lazy.flatMap(\.keys))
            if !held.isEmpty { found.append((RootHolder(kind: .session, name: refs.name, session: sid), held)) }
        }
        for (name, slot) in roots { found.append((RootHolder(kind: .root, name: name), distinct([slot]))) }
        let frozen = distinct(table.listSlots(ListHead.permanent))
        if !frozen.isEmpty { found.append((RootHolder(kind: .permanent), frozen)) }
        if !garbage.isEmpty { found.append((RootHolder(kind: .garbage), distinct(garbage))) }
        return found.sorted { $0.holder < $1.holder }.map { holder, targets in
            let h = holder
            let name: String
            switch h.kind {
            case .session: name = h.name.map { "(session \($0))" } ?? "(session #\(h.session?.raw ?? 0))"
            case .root: name = "(root \(h.name ?? ""))"
            case .permanent: name = "(permanent generation)"
            case .garbage: name = "(gc.garbage)"
            }
            return HeapExportView.Holder(
                name: strings.intern(name), propertyName: h.kind == .root ? strings.intern(h.name ?? "") : nil,
                targets: targets)
        }
    }
}

/// Distinct strings by index, "" first (the export's string table).
private struct StringTable {
    var strings: [String] = [""]
    var index: [String: UInt32] = ["": 0]

    mutating func intern(_ s: String) -> UInt32 {
        if let i = index[s] { return i }
        let i = UInt32(strings.count)
        strings.append(s)
        index[s] = i
        return i
    }
}
