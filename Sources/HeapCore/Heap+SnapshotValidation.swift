/// The structural check of a heap just read from a snapshot.
///
/// Records and field entries are loaded as raw memory, so every index in them (slots, generation
/// links, field blocks, types, keys, free lists) is as the file says. Checksums catch a damaged
/// file; this catches what they cannot (a file written by a buggy build, or forged) so that no
/// snapshot can make the daemon trap later: every index is checked against its table before
/// anything follows it, in an order where each check relies only on earlier ones. Last comes the
/// invariant checker (refcounts equal holders), which is then safe to run. O(objects + fields).
extension Heap {
    mutating func validateRestored() throws(SnapshotError) {
        func refuse(_ reason: String) -> SnapshotError { SnapshotError(reason: "snapshot is inconsistent: \(reason)") }
        let records = table.records
        let count = records.count
        let reserved = Int(ObjectTable.reservedSlots)
        guard count >= reserved, count < Int(UInt32.max - 16) else { throw refuse("\(count) record slots") }
        func inRange(_ s: Slot) -> Bool { Int(s) < count }
        func isObject(_ s: Slot) -> Bool { Int(s) >= reserved && Int(s) < count }
        func isLiveObject(_ s: Slot) -> Bool { isObject(s) && records[Int(s)].flags.contains(.live) }
        let entries = fieldPool.entries

        // Records: links in range, live objects' type, size, data and field block.
        var live = 0
        var perType = [Int](repeating: 0, count: types.entries.count)
        var usedEntries = [Bool](repeating: false, count: entries.count)
        for s in 0..<count {
            let r = records[s]
            guard inRange(r.gcPrev), inRange(r.gcNext) else {
                throw refuse("slot \(s) links to slot \(r.gcPrev)/\(r.gcNext)")
            }
            guard r.reuse <= ObjectID.maxReuse else { throw refuse("slot \(s) has reuse count \(r.reuse)") }
            guard s >= reserved, r.flags.contains(.live) else { continue }
            live += 1
            guard Int(r.type) < types.entries.count else { throw refuse("slot \(s) has type \(r.type)") }
            perType[Int(r.type)] += 1
            if r.flags.contains(.bigSize) != (table.bigSizes[Slot(s)] != nil) {
                throw refuse("slot \(s)'s size is lost")
            }
            if r.flags.contains(.hasData) != (table.data[Slot(s)] != nil) { throw refuse("slot \(s)'s data is lost") }
            guard r.fieldCount > 0 else { continue }
            let start = Int(r.fieldsAt)
            let capacity = 1 << FieldPool.sizeClass(forCount: Int(r.fieldCount))
            guard start + capacity <= entries.count else { throw refuse("slot \(s)'s fields lie outside the pool") }
            let keys = types.entries[Int(r.type)].keys.count
            let ownDict = r.flags.contains(.ownDict)
            // Shared keys: sorted by key, ranks a permutation of 0..<count. Own dict: insertion
            // order, so keys only distinct, ranks 0.
            let sharedLimit = r.type == TypeRegistry.permanent ? keys : types.entries[Int(r.type)].sharedCount
            var previousKey: Int64 = -1
            var seenKeys = Set<UInt32>()
            var ranks: UInt64 = 0
            for i in start..<start + capacity {
                guard !usedEntries[i] else { throw refuse("slot \(s)'s fields overlap another object's") }
                usedEntries[i] = true
                guard i < start + Int(r.fieldCount) else { continue }
                let key = FieldPool.key(entries[i])
                let rank = FieldPool.rank(entries[i])
                let target = FieldPool.target(entries[i])
                let inOrder = ownDict ? seenKeys.insert(key).inserted && rank == 0 : Int64(key) > previousKey
                guard Int(key) < (ownDict ? keys : sharedLimit), inOrder else {
                    throw refuse("slot \(s) has field key \(key)")
                }
                previousKey = Int64(key)
                if !ownDict && r.type != TypeRegistry.permanent { ranks |= 1 << UInt64(min(rank, 63)) }
                guard isLiveObject(target) else { throw refuse("slot \(s) has a field pointing at slot \(target)") }
            }
            if !ownDict && r.type != TypeRegistry.permanent
                && (Int(r.fieldCount) > TypeRegistry.sharedKeysMax || ranks != (1 << UInt64(r.fieldCount)) - 1)
            {
                throw refuse("slot \(s)'s field ranks are not 0..<\(r.fieldCount)")
            }
            if r.flags.contains(.dictTracked) && !ownDict { throw refuse("slot \(s) has a tracked dict it lacks") }
        }
        guard live == table.liveCount else { throw refuse("\(table.liveCount) live objects announced, \(live) found") }
        guard perType == types.counts else { throw refuse("the per-type object counts do not match the objects") }

        // Generation lists: each a closed doubly linked ring through live objects of its generation,
        // together holding every live object once; the collector's working lists are empty.
        var listed = 0
        for head in 0..<reserved {
            var previous = Slot(head)
            var s = records[head].gcNext
            var steps = 0
            while Int(s) != head {
                guard head <= 3, isLiveObject(s), records[Int(s)].gcPrev == previous, steps <= live else {
                    throw refuse("generation list \(head) is broken at slot \(s)")
                }
                previous = s
                s = records[Int(s)].gcNext
                steps += 1
            }
            guard records[head].gcPrev == previous else { throw refuse("generation list \(head) is broken at its end") }
            listed += steps
        }
        guard listed == live else { throw refuse("generation lists hold \(listed) objects, \(live) are live") }

        // The free slot stack: distinct dead object slots that can still be reused.
        let (freeTop, freeCount, _) = table.freeListState
        guard freeCount >= 0, freeCount <= count else { throw refuse("free slot count \(freeCount)") }
        var seen = Set<Slot>()
        var s = freeTop
        for _ in 0..<freeCount {
            guard isObject(s), !records[Int(s)].flags.contains(.live), records[Int(s)].reuse < ObjectID.maxReuse,
                seen.insert(s).inserted
            else { throw refuse("the free slot list is broken at slot \(s)") }
            s = records[Int(s)].gcNext
        }

        // Field pool free lists: blocks inside the pool, overlapping nothing.
        for (cls, head) in fieldPool.freeListHeads.enumerated() {
            var at = head
            var steps = 0
            while at != .max {
                let capacity = 1 << cls
                guard Int(at) + capacity <= entries.count, steps <= entries.count else {
                    throw refuse("field pool free list \(cls) is broken at \(at)")
                }
                for i in Int(at)..<Int(at) + capacity {
                    guard !usedEntries[i] else { throw refuse("field pool free list \(cls) overlaps fields at \(at)") }
                    usedEntries[i] = true
                }
                at = UInt32(truncatingIfNeeded: entries[Int(at)])
                steps += 1
            }
        }

        // Side tables, sessions, roots, garbage: only live objects.
        for slot in table.data.keys where !isLiveObject(slot) { throw refuse("data of slot \(slot)") }
        for slot in table.bigSizes.keys where !isLiveObject(slot) { throw refuse("size of slot \(slot)") }
        for (w, referent) in table.weakReferent {
            guard isLiveObject(w), records[Int(w)].flags.contains(.isWeakref), isLiveObject(referent) else {
                throw refuse("weakref at slot \(w) to slot \(referent)")
            }
        }
        for referent in table.weakrefs.referents where !isLiveObject(referent) {
            throw refuse("weakref list of slot \(referent)")
        }
        for (id, session) in sessions {
            guard !session.frames.isEmpty, id.raw < nextSessionID,
                session.frames.allSatisfy({ $0.keys.allSatisfy(isLiveObject) })
            else {
                throw refuse("session \(id.raw) holds what is not a live object")
            }
        }
        for (name, slot) in roots where !isLiveObject(slot) { throw refuse("root '\(name)' holds slot \(slot)") }
        for slot in garbage where !isLiveObject(slot) { throw refuse("gc.garbage holds slot \(slot)") }

        // Counts and sizes in wide arithmetic first, so the checker's own sums cannot overflow.
        var holders = [Int](repeating: 0, count: count)
        var bytes = [UInt64](repeating: 0, count: types.entries.count)
        var total: UInt64 = 0
        for s in ObjectTable.reservedSlots..<Slot(count) where records[Int(s)].flags.contains(.live) {
            for e in fieldEntries(s) { holders[Int(FieldPool.target(e))] += 1 }
            let t = Int(records[Int(s)].type)
            let size = table.size(s)
            var overflow = false
            (bytes[t], overflow) = bytes[t].addingReportingOverflow(size)
            guard !overflow else { throw refuse("the bytes of type '\(types.name(TypeID(t)))' overflow") }
            (total, overflow) = total.addingReportingOverflow(size)
            guard !overflow else { throw refuse("the total bytes overflow") }
        }
        for session in sessions.values {
            for f in session.frames { for (slot, held) in f { holders[Int(slot)] += Int(held.count) } }
        }
        for slot in roots.values { holders[Int(slot)] += 1 }
        for slot in garbage { holders[Int(slot)] += 1 }
        for s in reserved..<count where records[s].flags.contains(.live) && holders[s] != Int(records[s].refcount) {
            throw refuse("slot \(s) has refcount \(records[s].refcount) but \(holders[s]) holders")
        }
        guard bytes == types.bytes, total == totalBytes else {
            throw refuse("the byte totals do not match the objects")
        }

        // Now every index is known good: the list codes in the file were whatever the writer's
        // were, so label the lists afresh; then the invariant checker can run.
        table.relabelLists()
        let problems = checkInvariants()
        guard problems.isEmpty else { throw refuse(problems.prefix(3).joined(separator: "; ")) }
    }
}
