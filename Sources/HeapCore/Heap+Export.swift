/// Taking the heap's export view (read only: no collector, no change).
extension Heap {
    /// The nodes and edges of the heap as a V8 heap snapshot: every live object (garbage
    /// included), its fields, weakref referents, and the root holders. O(slots + fields + held
    /// references); strings are interned once per type and field key, not per object.
    public func exportView() -> HeapExportView {
        var strings = StringTable()
        let n = table.records.count
        // Edge targets stay slots: the encoder maps them to nodes after the lock is released.
        var live = 0
        var fieldCount = 0
        table.records.withUnsafeBufferPointer { records in
            for s in Int(ObjectTable.reservedSlots)..<n where records[s].flags.contains(.live) {
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
        // Per type: its name's string index; per (type, key): the key's, at keyBase[type] + key
        // (interned on first use, so names nothing live uses stay out of the table).
        let typeCount = types.entries.count
        var typeString = [UInt32](repeating: .max, count: typeCount)
        var keyBase = [Int](repeating: 0, count: typeCount + 1)
        for t in 0..<typeCount { keyBase[t + 1] = keyBase[t] + types.entries[t].keys.count }
        var keyString = [UInt32](repeating: .max, count: keyBase[typeCount])
        let reserved = Int(ObjectTable.reservedSlots)
        // The hot loop reads and writes through raw pointers (no bounds or uniqueness checks).
        let records = table.records
        let pool = fieldPool.entries
        records.withUnsafeBufferPointer { records in
            pool.withUnsafeBufferPointer { pool in
                do {
                    ids.withUnsafeMutableBufferPointer { ids in
                        sizes.withUnsafeMutableBufferPointer { sizes in
                            edgeName.withUnsafeMutableBufferPointer { edgeName in
                                edgeTarget.withUnsafeMutableBufferPointer { edgeTarget in
                                    var o = 0
                                    var e = 0
                                    for s in reserved..<n where records[s].flags.contains(.live) {
                                        let r = records[s]
                                        let t = Int(r.type)
                                        if typeString[t] == .max {
                                            typeString[t] = strings.intern(types.entries[t].name)
                                        }
                                        ids[o] = table.id(of: Slot(s), r).raw
                                        typeNames[o] = typeString[t]
                                        sizes[o] = table.size(Slot(s), r)
                                        edgeStart[o] = UInt32(e)
                                        let base = keyBase[t]
                                        for i in 0..<Int(r.fieldCount) {
                                            let entry = pool[Int(r.fieldsAt) + i]
                                            let k = base + Int(FieldPool.key(entry))
                                            if keyString[k] == .max {
                                                keyString[k] = strings.intern(types.entries[t].keys[k - base])
                                            }
                                            edgeName[e] = keyString[k]
                                            edgeTarget[e] = FieldPool.target(entry)
                                            e += 1
                                        }
                                        o += 1
                                    }
                                    edgeStart[live] = UInt32(e)
                                }
                            }
                        }
                    }
                }
            }
        }
        let weak = table.weakReferent.map { (source: $0.key, target: $0.value) }.sorted { $0.source < $1.source }
        let weakName = strings.intern("referent")
        let holders = exportHolders(&strings)
        return HeapExportView(
            strings: strings.strings, slotCount: n, ids: ids, typeNames: typeNames, sizes: sizes, edgeStart: edgeStart,
            edgeName: edgeName, edgeTarget: edgeTarget, weak: weak, weakName: weakName, holders: holders)
    }

    /// Every holder that holds something, in holder order (as the graph has them), with the
    /// slots it holds distinct and by id.
    private func exportHolders(_ strings: inout StringTable) -> [HeapExportView.Holder] {
        RootHolder.ordered(rootHolders()) { table.id(of: $0).raw }.map { holder, targets in
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
