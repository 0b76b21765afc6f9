/// Building the inspection graph from the heap's tables (read only: no collector, no change).
extension Heap {
    /// The heap as a graph with its root holders. O(slots + fields + held references).
    public func graph() -> HeapGraph { graph(names: false, types: false).graph }

    /// The graph and, if asked, its fields' names and its slots' types (``FieldNames``,
    /// ``SlotTypes``), all in one pass over the records in memory order, writing every array once
    /// (none is zeroed first): this runs under the heap's lock, and at 10M objects each extra
    /// pass over the tables, or page-faulting fill of a fresh array, is tens of milliseconds of
    /// other clients' wait. The successors get the pool's entry count as capacity (an upper
    /// bound on live fields).
    public func graph(names wantNames: Bool, types wantTypes: Bool) -> (
        graph: HeapGraph, names: FieldNames?, types: SlotTypes?
    ) {
        let n = table.records.count
        let wantTypes = wantTypes || wantNames  // names are per (type, key)
        var edgeCount = 0
        let capacity = fieldPool.entries.count
        precondition(capacity < Int(UInt32.max), "too many fields for the inspection graph")
        var start: [UInt32] = []
        var ids: [UInt64] = []
        var sizes: [UInt64] = []
        var keys: [UInt32] = []
        var typeOfSlot: [UInt32] = []
        let successors = table.records.withUnsafeBufferPointer { records in
            fieldPool.entries.withUnsafeBufferPointer { pool in
                [Slot](unsafeUninitializedCapacity: capacity) { out, written in
                    start = [UInt32](unsafeUninitializedCapacity: n + 1) { startOut, startCount in
                        ids = [UInt64](unsafeUninitializedCapacity: n) { idsOut, idsCount in
                            sizes = [UInt64](unsafeUninitializedCapacity: n) { sizesOut, sizesCount in
                                keys = [UInt32](unsafeUninitializedCapacity: wantNames ? capacity : 0) { keysOut, keysCount in
                                    typeOfSlot = [UInt32](unsafeUninitializedCapacity: wantTypes ? n : 0) { typesOut, typesCount in
                                        let reserved = Int(ObjectTable.reservedSlots)
                                        var e = 0
                                        for s in 0..<n {
                                            startOut[s] = UInt32(e)
                                            let r = records[s]
                                            guard s >= reserved, r.flags.contains(.live) else {
                                                idsOut[s] = 0
                                                sizesOut[s] = 0
                                                if wantTypes { typesOut[s] = 0 }
                                                continue
                                            }
                                            idsOut[s] = table.id(of: Slot(s), r).raw
                                            sizesOut[s] = table.size(Slot(s), r)
                                            if wantTypes { typesOut[s] = UInt32(r.type) }
                                            let at = Int(r.fieldsAt)
                                            // Live blocks never overlap, so live fields fit the
                                            // pool; checked, as a break would write out of bounds.
                                            precondition(e + Int(r.fieldCount) <= capacity, "field blocks overlap")
                                            for i in 0..<Int(r.fieldCount) {
                                                let entry = pool[at + i]
                                                out[e + i] = FieldPool.target(entry)
                                                if wantNames { keysOut[e + i] = FieldPool.key(entry) }
                                            }
                                            e += Int(r.fieldCount)
                                        }
                                        startOut[n] = UInt32(e)
                                        edgeCount = e
                                        typesCount = wantTypes ? n : 0
                                    }
                                    keysCount = wantNames ? edgeCount : 0
                                }
                                sizesCount = n
                            }
                            idsCount = n
                        }
                        startCount = n + 1
                    }
                    written = edgeCount
                }
            }
        }
        let graph = HeapGraph(
            ids: ids, sizes: sizes, successorStart: start, successors: successors, holders: rootHolders(ids))
        let types = wantTypes ? SlotTypes(typeOfSlot: typeOfSlot, names: self.types.entries.map(\.name)) : nil
        let names = wantNames ? FieldNames(edgeKeys: keys, slotTypes: types!, keyNames: self.types.entries.map(\.keys)) : nil
        return (graph, names, types)
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
