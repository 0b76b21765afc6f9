/// Building the inspection graph from the heap's tables (read only: no collector, no change).
extension Heap {
    /// The heap as a graph with its root holders. O(slots + fields + held references).
    public func graph() -> HeapGraph {
        let n = table.records.count
        var ids = [UInt64](repeating: 0, count: n)
        var sizes = [UInt64](repeating: 0, count: n)
        var start = [UInt32](repeating: 0, count: n + 1)
        var edgeCount = 0
        for s in table.objectSlots where table.isLive(s) {
            ids[Int(s)] = table.id(of: s).raw
            sizes[Int(s)] = table.size(s)
            edgeCount += Int(table.records[Int(s)].fieldCount)
        }
        precondition(edgeCount < Int(UInt32.max), "too many fields for the inspection graph")
        var successors = [Slot](repeating: 0, count: edgeCount)
        // The hot loop reads the tables through raw pointers (no bounds or uniqueness checks).
        table.records.withUnsafeBufferPointer { records in
            fieldPool.entries.withUnsafeBufferPointer { pool in
                successors.withUnsafeMutableBufferPointer { out in
                    var e = 0
                    for s in 0..<n {
                        start[s] = UInt32(e)
                        let r = records[s]
                        guard r.flags.contains(.live) else { continue }
                        for i in 0..<Int(r.fieldCount) {
                            out[e] = FieldPool.target(pool[Int(r.fieldsAt) + i])
                            e += 1
                        }
                    }
                    start[n] = UInt32(e)
                }
            }
        }
        return HeapGraph(
            ids: ids, sizes: sizes, successorStart: start, successors: successors,
            holders: rootHolders(ids))
    }

    /// Every holder that holds something, in holder order, with its slots distinct and by id.
    private func rootHolders(_ ids: [UInt64]) -> [(holder: RootHolder, slots: [Slot])] {
        func distinct(_ slots: some Sequence<Slot>) -> [Slot] {
            Array(Set(slots)).sorted { ids[Int($0)] < ids[Int($1)] }
        }
        var out: [(holder: RootHolder, slots: [Slot])] = []
        for (sid, refs) in sessions {
            let held = distinct(refs.frames.lazy.flatMap(\.keys))
            if !held.isEmpty { out.append((RootHolder(kind: .session, name: refs.name, session: sid), held)) }
        }
        for (name, slot) in roots { out.append((RootHolder(kind: .root, name: name), [slot])) }
        let frozen = distinct(table.listSlots(ListHead.permanent))
        if !frozen.isEmpty { out.append((RootHolder(kind: .permanent), frozen)) }
        if !garbage.isEmpty { out.append((RootHolder(kind: .garbage), distinct(garbage))) }
        return out.sorted { $0.holder < $1.holder }
    }

    /// The name of field `index` (in field order) of a live object.
    func fieldName(_ slot: Slot, at index: Int) -> String {
        let entries = fieldEntries(slot)
        let key = FieldPool.key(entries[entries.startIndex + index])
        return types.keyName(key, of: table.records[Int(slot)].type)
    }

    /// The type of a live object.
    public func typeName(of id: ObjectID) throws(HeapError) -> String {
        typeName(try resolveLive(id))
    }
}

extension Heap {
    /// The dominator tree of the heap now (see ``DominatorTree``). O(objects + fields) · log.
    public func dominatorTree() -> DominatorTree { graph().dominatorTree() }
}
