/// The heap invariant checker: every refcount equals the holders counted from scratch, no field
/// points at a dead object, and the generation lists hold exactly the live objects.
extension Heap {
    /// Violations found (empty: the heap is consistent). O(objects + fields).
    public func checkInvariants() -> [String] {
        var problems: [String] = []
        // Outside a collection no object is collecting: its gcPrev is a list link again.
        if !gc.collecting,
            let s = table.objectSlots.first(where: { table.records[Int($0)].flags.contains(.collecting) })
        {
            problems.append("slot \(s) is still collecting outside a collection")
        }
        var counted = [UInt32](repeating: 0, count: table.records.count)
        for s in table.objectSlots where table.isLive(s) {
            for e in fieldEntries(s) {
                let t = FieldPool.target(e)
                if !table.isLive(t) {
                    problems.append("object \(table.id(of: s)) has a field pointing at dead slot \(t)")
                } else {
                    counted[Int(t)] += 1
                }
            }
        }
        for (_, refs) in sessions {
            for (slot, n) in refs.allHeld {
                if table.isLive(slot) {
                    counted[Int(slot)] += n
                } else {
                    problems.append("a session holds dead slot \(slot)")
                }
            }
        }
        for (name, slot) in roots {
            if table.isLive(slot) {
                counted[Int(slot)] += 1
            } else {
                problems.append("root '\(name)' holds dead slot \(slot)")
            }
        }
        for slot in garbage {
            if table.isLive(slot) {
                counted[Int(slot)] += 1
            } else {
                problems.append("gc.garbage holds dead slot \(slot)")
            }
        }
        var live = 0
        var bytes: UInt64 = 0
        for s in table.objectSlots where table.isLive(s) {
            live += 1
            bytes &+= table.size(s)  // a checker must not trap on the damage it reports
            let rc = table.records[Int(s)].refcount
            if rc != counted[Int(s)] {
                problems.append("object \(table.id(of: s)) has refcount \(rc) but \(counted[Int(s)]) holders")
            }
            if rc == 0 { problems.append("object \(table.id(of: s)) is live with refcount 0") }
            if let referent = table.weakReferent[s], !table.isLive(referent) {
                problems.append("weakref \(table.id(of: s)) points at dead slot \(referent)")
            }
        }
        if live != table.liveCount { problems.append("live count \(table.liveCount), found \(live)") }
        problems += typeCountProblems()
        if bytes != totalBytes { problems.append("total bytes \(totalBytes), counted \(bytes)") }
        var listed = 0
        for g in 0...3 {
            let head = g == 3 ? ListHead.permanent : ListHead.generation(g)
            for s in table.listSlots(head) {
                listed += 1
                if !table.isLive(s) { problems.append("generation \(g) lists dead slot \(s)") }
                if table.generation(of: s) != g {
                    problems.append(
                        "object \(table.id(of: s)) is in list \(g) but marked generation "
                            + "\(table.generation(of: s))"
                    )
                }
            }
            if table.generationSize(g) != table.listCount(head) {
                problems.append(
                    "generation \(g) counts \(table.generationSize(g)) objects, lists \(table.listCount(head))")
            }
        }
        if listed != live { problems.append("generation lists hold \(listed) objects, \(live) are live") }
        for referent in table.weakrefs.referents {
            if !table.isLive(referent) { problems.append("dead slot \(referent) has a weakref list") }
            if !table.records[Int(referent)].flags.contains(.hasWeakrefs) {
                problems.append("slot \(referent) has weakrefs but no hasWeakrefs flag")
            }
            for w in table.weakrefs.weakrefs(to: referent) where table.weakReferent[w] != referent {
                problems.append("weakref \(table.id(of: w)) is listed under slot \(referent) but points elsewhere")
            }
        }
        return problems
    }

    /// The type histogram's counts, total and frozen, against the objects.
    private func typeCountProblems() -> [String] {
        var counts = [Int](repeating: 0, count: types.counts.count)
        var bytes = [UInt64](repeating: 0, count: types.counts.count)
        var frozenCounts = counts
        var frozenBytes = bytes
        for s in table.objectSlots where table.isLive(s) {
            let t = Int(table.records[Int(s)].type)
            guard t < counts.count else { return ["object \(table.id(of: s)) has unknown type \(t)"] }
            counts[t] += 1
            bytes[t] &+= table.size(s)
            if table.generation(of: s) == 3 {
                frozenCounts[t] += 1
                frozenBytes[t] &+= table.size(s)
            }
        }
        var problems: [String] = []
        if counts != types.counts || bytes != types.bytes {
            problems.append("the per-type counts or bytes do not match the objects")
        }
        if frozenCounts != types.frozenCounts || frozenBytes != types.frozenBytes {
            problems.append("the frozen per-type counts or bytes do not match the permanent generation")
        }
        return problems
    }
}
