import CPrefetch

/// The cycle collector: CPython 3.11's `gc_collect_main` (Modules/gcmodule.c), phase by phase.
///
/// The phases keep gcmodule.c's names. Two differences follow from finalizers and weakref
/// callbacks running in the clients (SPEC §1): they are events, so they cannot touch the heap
/// while the collection runs; hence nothing can be resurrected, and the callbacks cannot free
/// their own weakref (3.11's extra `num_freed` from `handle_weakrefs` is always 0 here).
extension Heap {
    /// `gc.collect(generation)`: collects `generation` and every younger one.
    public mutating func collect(generation: Int = 2, events: inout HeapEvents) throws(HeapError) -> CollectResult {
        guard (0...2).contains(generation) else {
            throw .generationOutOfRange(generation)
        }
        guard !gc.collecting else {
            // 3.11 returns 0 without collecting when a collection is already running.
            return CollectResult(generation: generation, collected: 0, uncollectable: 0, durationNanoseconds: 0)
        }
        gc.collecting = true
        defer { gc.collecting = false }
        events.append(.gcStart(generation: generation))
        let result = collectMain(generation, &events)
        events.append(.gcStop(result))
        return result
    }

    private mutating func collectMain(_ g: Int, _ events: inout HeapEvents) -> CollectResult {
        let clock = ContinuousClock()
        let start = clock.now
        if gc.debug.contains(.stats) { logGenerationSizes(collecting: g, &events) }

        // Counters: this collection counts towards the next generation's trigger.
        if g + 1 < 3 { gc.counts[g + 1] += 1 }
        for i in 0...g { gc.counts[i] = 0 }

        // Merge younger generations into this one: [gen g..., gen 0..., ..., gen g-1...]. Every
        // young object that outlives the collection is labelled again below (survivors, and
        // garbage the general `delete_garbage` may leave), so the merge leaves the labels as
        // they are and the counts start over.
        let oldGeneration = min(g + 1, 2)
        let (label, youngCodes, youngCount) = table.uncountForCollection(upTo: g, labelGeneration: oldGeneration)
        let young = ListHead.generation(g)
        for i in 0..<g { table.listMerge(ListHead.generation(i), into: young) }
        let old = ListHead.generation(oldGeneration)

        // Find what is unreachable from outside the young generation.
        let unreachable = ListHead.unreachable
        // Both passes give the same counts in any order. When the young generation is most of
        // the table, memory order is faster than its list: no load waits for the one before.
        var youngTally = Tally()
        var youngFlags: ObjectFlags? = nil
        if memoryOrderPassesEnabled && youngCount == table.liveCount {
            // Every live object is collected (a full collection, nothing frozen): one pass.
            fastPathRuns.onePassRefCounts += 1
            youngFlags = updateAndSubtractRefs(young, &youngTally)
        } else if memoryOrderPassesEnabled && youngCount >= (table.records.count - Int(ObjectTable.reservedSlots)) / 4 {
            updateRefs(codes: youngCodes, &youngTally)
            subtractRefs(codes: youngCodes, &youngTally)
        } else {
            updateRefs(young, &youngTally)
            subtractRefs(young, &youngTally)
        }
        // Survivors are promoted now, before any finalizer runs.
        let survivorTally: Tally
        let setAsideFlags: ObjectFlags
        if let youngFlags, youngTally.isClosed, mayBePlainGarbage(setAsideFlags: youngFlags) {
            // Every field points inside `young` (the one pass ran) and the refcounts add up to the
            // fields: no object is referenced from outside, so gc_refs is 0 everywhere and
            // `move_unreachable` would set every object aside, in list order, and find no
            // survivor. The whole list moves at once; the plain sweep reads no live object's
            // `gcPrev` (the first object's gc_refs becomes its link to the head, the others
            // keep theirs).
            fastPathRuns.wholeYoungGarbage += 1
            table.listMerge(young, into: unreachable)
            (survivorTally, setAsideFlags) = (Tally(), youngFlags)
        } else {
            (survivorTally, setAsideFlags) = moveUnreachable(
                young, into: unreachable, label: label, untrackDicts: g == 2, count: youngTally.objects)
        }
        let survivors = survivorTally.objects
        let unreachableTally = youngTally.minus(survivorTally)
        table.countRelabelled(survivors, code: label)
        if g == 2 {
            gc.longLivedPending = 0
            gc.longLivedTotal = survivors
        } else {
            if g == 1 { gc.longLivedPending += survivors }
            table.listMerge(young, into: old)
        }

        // (move_legacy_finalizers: only C types have tp_del; heap types never land here.)
        if gc.debug.contains(.collectable) {
            forEach(in: unreachable) { h, s in
                events.append(.debug("gc: collectable <\(h.typeName(s)) \(h.table.id(of: s))>"))
            }
        }
        // Each of these two passes walks the whole unreachable list; when no object that was set
        // aside is or has a weakref, or has a finalizer, the pass would do nothing (a heap of
        // plain garbage cycles spent a quarter of its collection in them).
        if !setAsideFlags.isDisjoint(with: [.isWeakref, .hasWeakrefs]) {
            handleWeakrefs(unreachable, old: old, oldGeneration: oldGeneration, &events)
        }
        if setAsideFlags.contains(.hasFinalizer) {
            finalizeGarbage(unreachable, &events)
        }
        // handle_resurrected_objects: client finalizers cannot resurrect, so the whole
        // unreachable set is still unreachable; nothing to recompute.
        var collected = unreachableTally.objects
        // An object's own dict is one more GC object, unreachable with it (only its owner
        // refers to it) and never older than it (made after it, tracked at gen 0's tail), so
        // it is in the collected generations too: counted here, as 3.11's `collect()` counts
        // it. Its place in the lists is not modelled (see Heap+Deallocation.swift's notes).
        if setAsideFlags.contains(.dictTracked) { collected += trackedDicts(in: unreachable) }
        if unreachableTally.isClosed && mayBePlainGarbage(setAsideFlags: setAsideFlags) {
            // Every unreachable object dies in the sweep: none needs the old generation's label.
            // The sweep writes records through raw pointers, past `noteChange`: a graph capture
            // under way learns of the deaths here (closed, so no one else dies).
            if table.changes != nil { forEach(in: unreachable) { h, s in h.table.noteChange(s) } }
            sweepPlainGarbage(unreachable, expectedDeaths: unreachableTally.objects, &events)
        } else {
            // What `delete_garbage` leaves (referenced by an object not yet cleared) joins the
            // old generation, as 3.11 merges the unreachable list there.
            relabel(unreachable, code: label)
            table.countRelabelled(unreachableTally.objects, code: label)
            deleteGarbage(unreachable, old: old, &events)
        }

        let elapsed = start.duration(to: clock.now)
        let ns =
            UInt64(elapsed.components.seconds) * 1_000_000_000
            + UInt64(elapsed.components.attoseconds / 1_000_000_000)
        gc.stats[g].collections += 1
        gc.stats[g].collected += collected
        if gc.debug.contains(.stats) {
            let secs = Double(ns) / 1e9
            events.append(.debug("gc: done, \(collected) unreachable, 0 uncollectable, \(secs)s elapsed"))
        }
        return CollectResult(generation: g, collected: collected, uncollectable: 0, durationNanoseconds: ns)
    }

    /// Objects, their refcounts and their fields, summed over a set. Every reference to an
    /// unreachable object comes from a field of another one (an outside holder would have made
    /// it reachable), so over the unreachable set the two sums are equal exactly when no
    /// unreachable object refers to anything else: then `delete_garbage` frees the unreachable
    /// objects and nothing more. The unreachable set's tally is the young generation's minus the
    /// survivors', which the passes read anyway.
    struct Tally {
        var objects = 0
        var refcounts = 0
        var fields = 0
        var isClosed: Bool { refcounts == fields }
        func minus(_ other: Tally) -> Tally {
            Tally(
                objects: objects - other.objects, refcounts: refcounts - other.refcounts, fields: fields - other.fields)
        }
    }

    /// `update_refs`: gc_refs = refcount for every object of `young`, which marks it collecting.
    /// As in gcmodule.c, gc_refs takes the place of the `gcPrev` link: until `move_unreachable`
    /// restores it, `young` is linked through `gcNext` alone (its head's `gcPrev` still the tail).
    private mutating func updateRefs(_ young: Slot, _ tally: inout Tally) {
        // Locals, not `tally`: the compiler must assume a store through the view may alias it.
        var (objects, refcounts) = (0, 0)
        withRecordView { v in
            var s = v[young].pointee.gcNext
            while s != young {
                let r = v[s]
                r.pointee.gcPrev = r.pointee.refcount
                r.pointee.flags.insert(.collecting)
                objects += 1
                refcounts += Int(r.pointee.refcount)
                s = r.pointee.gcNext
            }
        }
        tally.objects += objects
        tally.refcounts += refcounts
    }

    /// `update_refs` in memory order: every live object whose list code is in `codes`.
    private mutating func updateRefs(codes: UInt16, _ tally: inout Tally) {
        let slots = table.objectSlots
        var (objects, refcounts) = (0, 0)
        withRecordView { v in
            for s in slots {
                let r = v[s]
                if Self.isCollected(r, codes) {
                    r.pointee.gcPrev = r.pointee.refcount
                    r.pointee.flags.insert(.collecting)
                    objects += 1
                    refcounts += Int(r.pointee.refcount)
                }
            }
        }
        tally.objects += objects
        tally.refcounts += refcounts
    }

    /// `update_refs` and `subtract_refs` in one pass in memory order, when every live object is
    /// being collected (all on `young`), so every field's target is too: no target needs the
    /// collecting test, and the passes' order does not matter because the counts only add, in
    /// wrapping arithmetic. gc_refs replaces the `gcPrev` link, whose value is not known where a
    /// field pointing at the object is met first; but each object's link is the slot of the
    /// object before it on `young`, whose own visit knows it: there it is taken off. So the
    /// object's own visit adds its refcount, the one before it takes its link away, and each
    /// field pointing at it subtracts 1, in whatever order they come. Saves one of the
    /// collection's four reads of every record. Returns the union of the objects' flags.
    private mutating func updateAndSubtractRefs(_ young: Slot, _ tally: inout Tally) -> ObjectFlags {
        let slots = table.objectSlots
        var (objects, refcounts, fields) = (0, 0, 0)
        var flagsSeen: UInt16 = 0
        withRecordView { v in
            // The head is no object: the first object's link is taken off here.
            let first = v[young].pointee.gcNext
            if first != young { v[first].pointee.gcPrev &-= young }
            for s in slots {
                let r = v[s]
                guard r.pointee.flags.contains(.live) else { continue }
                let refcount = r.pointee.refcount
                r.pointee.gcPrev &+= refcount
                flagsSeen |= r.pointee.flags.rawValue
                r.pointee.flags.insert(.collecting)
                let next = r.pointee.gcNext
                // The head's `gcPrev` stays the tail, for `move_unreachable`'s appends.
                if next != young { v[next].pointee.gcPrev &-= s }
                objects += 1
                refcounts += Int(refcount)
                let count = UInt32(r.pointee.fieldCount)
                fields += Int(count)
                let at = Int(r.pointee.fieldsAt)
                for i in 0..<Int(count) { v[FieldPool.target(v.pool[at + i])].pointee.gcPrev &-= 1 }
            }
        }
        tally.objects += objects
        tally.refcounts += refcounts
        tally.fields += fields
        return ObjectFlags(rawValue: flagsSeen & ~ObjectFlags.listCodeMask)
    }

    /// Whether the record is a live object of the collected generations (`codes`: their list
    /// codes, one bit each), which are exactly the objects of the merged young list.
    @inline(__always)
    private static func isCollected(_ r: UnsafeMutablePointer<ObjectRecord>, _ codes: UInt16) -> Bool {
        r.pointee.flags.contains(.live) && codes & (1 << r.pointee.listCode) != 0
    }

    /// `visit_decref`: a reference from inside the collected generations.
    @inline(__always)
    private static func subtractRef(_ t: UnsafeMutablePointer<ObjectRecord>) {
        if t.pointee.flags.contains(.collecting) { t.pointee.gcPrev -= 1 }
    }

    /// `subtract_refs` in memory order, as `updateRefs(codes:)`.
    private mutating func subtractRefs(codes: UInt16, _ tally: inout Tally) {
        let slots = table.objectSlots
        var fields = 0
        defer { tally.fields += fields }
        withRecordView { v in
            for s in slots {
                let r = v[s]
                guard Self.isCollected(r, codes) else { continue }
                fields += Int(r.pointee.fieldCount)
                for i in 0..<UInt32(r.pointee.fieldCount) { Self.subtractRef(v[v.target(s, i)]) }
            }
        }
    }

    /// `subtract_refs`: remove the references that come from inside `young`. Afterwards
    /// gc_refs > 0 exactly for objects referenced from outside it (older or frozen objects,
    /// sessions, roots, gc.garbage), even when that holder is itself garbage.
    private mutating func subtractRefs(_ young: Slot, _ tally: inout Tally) {
        var fields = 0
        defer { tally.fields += fields }
        withRecordView { v in
            var s = v[young].pointee.gcNext
            while s != young {
                let r = v[s]
                fields += Int(r.pointee.fieldCount)
                for i in 0..<UInt32(r.pointee.fieldCount) { Self.subtractRef(v[v.target(s, i)]) }
                s = r.pointee.gcNext
            }
        }
    }

    /// What `move_unreachable` and `visit_reachable` share: the young list and the two labels.
    private struct Walk {
        let young: Slot
        /// The list code survivors get (their generation's).
        let label: UInt8
        /// The list code an object set aside wears while the walk runs (NEXT_MASK_UNREACHABLE):
        /// the permanent generation's, which no collected object can have.
        let setAside: UInt8
    }

    /// `move_unreachable`: walk `young` in order. An object with gc_refs > 0 is reachable: its
    /// referents become reachable too (moved back to the tail of `young` if they were already
    /// set aside), it is promoted to the survivors' generation (labelled with its list code),
    /// stops collecting, and gets its `gcPrev` link back. An object with gc_refs == 0 is set
    /// aside, tentatively, in `unreachable` (doubly linked there). Garbage ends in `unreachable`
    /// in young-list order, still collecting. Returns the survivors' tally and the union of the
    /// flags of every object set aside (a superset of the unreachable list's: some move back),
    /// which tells which later passes over the unreachable list can have anything to do.
    /// With `untrackDicts` (a full collection), `untrack_dicts`: a survivor's own dict that is
    /// empty stops being tracked (it is counted again once it gets a value).
    private mutating func moveUnreachable(
        _ young: Slot, into unreachable: Slot, label: UInt8, untrackDicts: Bool, count: Int
    ) -> (survivors: Tally, setAsideFlags: ObjectFlags) {
        let walk = Walk(young: young, label: label, setAside: table.codes.current[3])
        assert(table.codes.generation[Int(walk.setAside)] == 3 && label != walk.setAside)
        return withRecordView { v in
            var survivors = Tally()
            var setAsideFlags = ObjectFlags()
            var lookahead = Lookahead(room: count)
            // The last survivor: the young list is linked anew behind it.
            var prev = young
            var s = v[young].pointee.gcNext
            while s != young {
                lookahead.prefetch(visiting: s, v)
                let r = v[s]
                if r.pointee.gcPrev > 0 {
                    // Visiting may append to `young` behind `s`, changing its `gcNext`.
                    for i in 0..<UInt32(r.pointee.fieldCount) {
                        Self.visitReachable(v.target(s, i), walk, v, &lookahead)
                    }
                    r.pointee.gcPrev = prev
                    r.pointee.flags.remove(.collecting)
                    r.pointee.listCode = label
                    if untrackDicts && r.pointee.fieldCount == 0 { r.pointee.flags.remove(.dictTracked) }
                    survivors.objects += 1
                    survivors.refcounts += Int(r.pointee.refcount)
                    survivors.fields += Int(r.pointee.fieldCount)
                    prev = s
                } else {
                    setAsideFlags.formUnion(r.pointee.flags)
                    v[prev].pointee.gcNext = r.pointee.gcNext
                    v.append(s, to: unreachable)
                    r.pointee.listCode = walk.setAside
                }
                s = v[prev].pointee.gcNext
            }
            v[young].pointee.gcPrev = prev
            return (survivors, setAsideFlags)
        }
    }

    /// `visit_reachable`: a referent in the young generation becomes (or stays) reachable.
    @inline(__always)
    private static func visitReachable(_ t: Slot, _ walk: Walk, _ v: RecordView, _ lookahead: inout Lookahead) {
        let r = v[t]
        // Another generation, or already found reachable and walked past.
        guard r.pointee.flags.contains(.collecting) else { return }
        if r.pointee.listCode == walk.setAside {
            // Set aside, and reachable after all: back to the tail of `young`. Appending writes
            // only the tail's `gcNext` and the head's and the object's `gcPrev`, the object's
            // then taken by its gc_refs: the young list's links the walk relies on hold.
            v.remove(t)
            v.append(t, to: walk.young)
            r.pointee.gcPrev = 1
            r.pointee.listCode = walk.label
            lookahead.revive(t)
        } else if r.pointee.gcPrev == 0 {
            r.pointee.gcPrev = 1
        }
        // gc_refs > 0: already known reachable.
    }

    /// `handle_weakrefs`: clear every weakref that is garbage and every weakref to garbage, then
    /// report the callbacks of the cleared weakrefs that are not themselves in the unreachable
    /// set (membership, not liveness: garbage in an older generation still calls back). Those
    /// weakrefs move to the old generation, as 3.11 moves them through `wrcb_to_call`.
    private mutating func handleWeakrefs(
        _ unreachable: Slot, old: Slot, oldGeneration: Int,
        _ events: inout HeapEvents
    ) {
        var callbacks: [(weakref: Slot, referent: ObjectID)] = []
        forEach(in: unreachable) { h, op in
            let flags = h.table.records[Int(op)].flags
            if flags.contains(.isWeakref) { h.detachWeakref(op) }
            guard flags.contains(.hasWeakrefs) else { return }
            let referent = h.table.id(of: op)
            let refs = h.table.weakrefs.clear(op)
            h.table.records[Int(op)].flags.remove(.hasWeakrefs)
            for w in refs.reversed() {
                let wf = h.table.records[Int(w)].flags
                if wf.contains(.weakrefHasCallback) && !wf.contains(.collecting) {
                    callbacks.append((w, referent))
                }
            }
        }
        for (w, referent) in callbacks {
            events.append(.weakrefCallback(weakref: table.id(of: w), referent: referent))
            table.moveToGeneration(w, oldGeneration)
        }
    }

    /// `finalize_garbage`: each finalizer once, in unreachable-list order.
    private mutating func finalizeGarbage(_ unreachable: Slot, _ events: inout HeapEvents) {
        forEach(in: unreachable) { h, s in
            let flags = h.table.records[Int(s)].flags
            if flags.contains(.hasFinalizer) && !flags.contains(.finalized) {
                h.table.records[Int(s)].flags.insert(.finalized)
                events.append(.finalize(id: h.table.id(of: s), type: h.typeName(s)))
            }
        }
    }

    /// `delete_garbage`: take the head of `unreachable` until it is empty. Under DEBUG_SAVEALL
    /// it goes to gc.garbage; otherwise its fields are cleared in key order (`tp_clear`), which
    /// frees by refcount whatever that was the last reference to, itself included. Whatever is
    /// still alive afterwards moves to the old generation; it dies when its last referrer is
    /// cleared.
    private mutating func deleteGarbage(_ unreachable: Slot, old: Slot, _ events: inout HeapEvents) {
        while let op = table.listFirst(unreachable) {
            if gc.debug.contains(.saveAll) {
                incref(op)
                garbage.append(op)
            } else {
                incref(op)
                clearFields(op, &events)
                decref(op, &events)
            }
            if table.listFirst(unreachable) == op { table.listMove(op, to: old) }
        }
    }

    /// Labels every object of the unreachable list with a generation's list code; they stop
    /// collecting.
    private mutating func relabel(_ head: Slot, code: UInt8) {
        withRecordView { v in
            var s = v[head].pointee.gcNext
            while s != head {
                v[s].pointee.listCode = code
                v[s].pointee.flags.remove(.collecting)
                s = v[s].pointee.gcNext
            }
        }
    }

    /// Objects of a list that have a tracked dict of their own.
    func trackedDicts(in head: Slot) -> Int {
        var n = 0
        var s = table.records[Int(head)].gcNext
        while s != head {
            if table.records[Int(s)].flags.contains(.dictTracked) { n += 1 }
            s = table.records[Int(s)].gcNext
        }
        return n
    }

    /// Visits a list in order; `body` may move or free the visited node (not others).
    mutating func forEach(in head: Slot, _ body: (inout Heap, Slot) -> Void) {
        var s = table.records[Int(head)].gcNext
        while s != head {
            let next = table.records[Int(s)].gcNext
            body(&self, s)
            s = next
        }
    }

    private func logGenerationSizes(collecting g: Int, _ events: inout HeapEvents) {
        events.append(.debug("gc: collecting generation \(g)..."))
        let sizes = generationSizes
        events.append(.debug("gc: objects in each generation: \(sizes[0]) \(sizes[1]) \(sizes[2])"))
        events.append(.debug("gc: objects in permanent generation: \(sizes[3])"))
    }
}
