/// `delete_garbage` for plain garbage: the same walk, the same cascade (`RefcountCascading`, so
/// the same deaths, frees, trashcan deferrals and slot order), through raw pointers.
///
/// Most unreachable sets are objects with no finalizer, no weakref on either side, no data, no
/// own `__dict__`, that refer only to each other. Then every one of them dies, and dying is the
/// bookkeeping alone: no event but `freed`, no side table. The general path pays a uniqueness
/// and a bounds check on every record it touches, and that was most of a collection of 2-cycles.
/// `collectMain` takes it when the unreachable set is closed (`Tally.isClosed`) and
/// `mayBePlainGarbage`; anything else takes the general path.
struct PlainGarbageSweep: RefcountCascading {
    typealias Events = HeapEvents

    // The heap's storage, valid only inside `Heap.sweepPlainGarbage`'s closures.
    let records: UnsafeMutablePointer<ObjectRecord>
    let pool: UnsafeMutablePointer<FieldPool.Entry>
    let poolFreeHeads: UnsafeMutablePointer<UInt32>
    let typeCounts: UnsafeMutablePointer<Int>
    let typeBytes: UnsafeMutablePointer<UInt64>
    let birthOf: UnsafeMutablePointer<UInt32>
    let birthSlots: Int
    let births: UnsafeMutablePointer<AllocationOrigins.Birth>
    var cascadeScratch: CascadeScratch
    /// Whether `events` keeps freed ids; when it does not, deaths are counted there at the end.
    let keepsFreedIDs: Bool
    var freeList: (top: Slot, count: Int, live: Int)
    /// Types and births whose last object died, in that order: the heap forgets them after the
    /// sweep, as `TypeRegistry.remove` and `AllocationOrigins.forget` would have.
    var emptiedTypes: [TypeID] = []
    var emptiedBirths: [UInt32] = []
    var died = 0
    var bytesFreed: UInt64 = 0

    /// The flags that make an object's death more than bookkeeping (see the type's comment).
    static let unplainFlags: ObjectFlags = [.hasFinalizer, .isWeakref, .hasWeakrefs, .hasData, .ownDict, .bigSize]

    /// `delete_garbage`: clear each object of the unreachable list in order (which frees whatever
    /// that was the last reference to, itself included) until the list ends. 3.11 takes the
    /// head of `unreachable` each time and moves a cleared object still referenced to `old`,
    /// where it dies when its last referrer is cleared; in a closed set every object dies, so
    /// here nothing is unlinked or moved, and the list is walked by `gcNext` alone (`gcPrev`
    /// may still hold gc_refs). The walk visits the same objects in the same order: an object
    /// that died ahead of it (still `collecting`) keeps its list successor in `gcPrev`, which
    /// the walk follows and clears; the objects behind it are no longer `collecting`.
    mutating func run(unreachable head: Slot, _ events: inout HeapEvents) {
        var op = records[Int(head)].gcNext
        while op != head {
            let r = records + Int(op)
            guard r.pointee.flags.contains(.live) else {
                op = r.pointee.gcPrev
                r.pointee.gcPrev = 0
                continue
            }
            let next = r.pointee.gcNext
            r.pointee.flags.remove(.collecting)
            r.pointee.refcount += 1
            let count = r.pointee.fieldCount
            if count > 0 {
                let at = r.pointee.fieldsAt
                r.pointee.fieldCount = 0
                r.pointee.fieldsAt = 0
                for i in 0..<UInt32(count) { release(FieldPool.target(pool[Int(at + i)]), &events) }
                freeBlock(at: at, count: Int(count))
            }
            release(op, &events)
            op = next
        }
        records[Int(head)].gcNext = head
        records[Int(head)].gcPrev = head
    }

    /// `decref` with the cascade inlined (`deallocateInline`).
    @inline(__always)
    private mutating func release(_ slot: Slot, _ events: inout HeapEvents) {
        if dropsLastReference(slot) { deallocateInline(slot, &events) }
    }

    @inline(__always)
    mutating func dropsLastReference(_ slot: Slot) -> Bool {
        records[Int(slot)].refcount -= 1
        return records[Int(slot)].refcount == 0
    }

    func releasesThroughDict(_ slot: Slot) -> Bool { false }

    @inline(__always)
    func fieldCount(_ slot: Slot) -> Int { Int(records[Int(slot)].fieldCount) }

    @inline(__always)
    func fieldTarget(_ slot: Slot, _ i: Int) -> Slot {
        FieldPool.target(pool[Int(records[Int(slot)].fieldsAt) + i])
    }

    /// `Heap.beginDeallocation` for a plain object: `freed`, the histograms, the origin. It
    /// stays linked (see `run`) and `live` until `finishDeallocation` resets its record.
    /// The counts below cannot wrap (each counts objects that exist), hence `&-`/`&+`: an
    /// overflow check per death was a branch on every one of them.
    @inline(__always)
    mutating func beginDeallocation(_ slot: Slot, _ events: inout HeapEvents) {
        let r = records + Int(slot)
        if keepsFreedIDs {
            events.freed(ObjectID(slotOrdinal: slot - ObjectTable.reservedSlots + 1, reuse: r.pointee.reuse))
        }
        let size = UInt64(r.pointee.size)
        let type = Int(r.pointee.type)
        // Each count is read once and written once: a second read would wait on the store.
        let left = typeCounts[type] &- 1
        typeCounts[type] = left
        typeBytes[type] &-= size
        if left == 0 { emptiedTypes.append(TypeID(type)) }
        bytesFreed &+= size
        if Int(slot) < birthSlots {
            let b = birthOf[Int(slot)]
            birthOf[Int(slot)] = 0
            if b != 0 {
                let left = births[Int(b)].live &- 1
                births[Int(b)].live = left
                if left == 0 { emptiedBirths.append(b) }
            }
        }
        died &+= 1
    }

    /// `Heap.finishDeallocation`: the field block and the slot go back to their free lists. An
    /// object the walk has not reached leaves it its list successor (see `run`).
    @inline(__always)
    mutating func finishDeallocation(_ slot: Slot) {
        let r = records + Int(slot)
        freeBlock(at: r.pointee.fieldsAt, count: Int(r.pointee.fieldCount))
        let successor = r.pointee.flags.contains(.collecting) ? r.pointee.gcNext : 0
        if ObjectTable.reset(&r.pointee, linkingTo: freeList.top) {
            freeList.top = slot
            freeList.count &+= 1
        }
        r.pointee.gcPrev = successor
    }

    /// `FieldPool.freeBlock`.
    @inline(__always)
    private func freeBlock(at: UInt32, count: Int) {
        guard count > 0 else { return }
        let cls = FieldPool.sizeClass(forCount: count)
        pool[Int(at)] = UInt64(poolFreeHeads[cls])
        poolFreeHeads[cls] = at
    }
}

extension Heap {
    /// Whether `delete_garbage` can take `PlainGarbageSweep` (given a closed unreachable set):
    /// nothing set aside has an unplain flag (`setAsideFlags` is a superset of the unreachable
    /// objects' flags) and nothing is saved to gc.garbage. The general path's decrement of
    /// `count0` per death is a no-op during a collection (`collectMain` zeroes it first and
    /// nothing allocates), so the sweep leaves it out.
    func mayBePlainGarbage(setAsideFlags: ObjectFlags) -> Bool {
        plainGarbageSweepEnabled && setAsideFlags.isDisjoint(with: PlainGarbageSweep.unplainFlags)
            && !gc.debug.contains(.saveAll)
    }

    /// `delete_garbage` through `PlainGarbageSweep`; the caller checked that the unreachable
    /// set is plain and closed: every object in it dies here, and nothing else does. Their list
    /// codes were not counted in any generation (`uncountForCollection`), so none is uncounted.
    /// The list is empty afterwards.
    mutating func sweepPlainGarbage(_ unreachable: Slot, expectedDeaths: Int, _ events: inout HeapEvents) {
        fastPathRuns.plainSweeps += 1
        var scratch = cascadeScratch
        cascadeScratch = CascadeScratch()
        let freeListBefore = table.freeListState
        let (died, bytesFreed, freeList, emptiedTypes, emptiedBirths) = table.records.withUnsafeMutableBufferPointer {
            recs in
            fieldPool.withRawBlocks { pool, heads in
                types.withRawHistogram { counts, bytes in
                    origins.withRawCounts { birthOf, birthSlots, births in
                        var sweep = PlainGarbageSweep(
                            records: recs.baseAddress!, pool: pool, poolFreeHeads: heads,
                            typeCounts: counts, typeBytes: bytes, birthOf: birthOf, birthSlots: birthSlots,
                            births: births, cascadeScratch: scratch, keepsFreedIDs: events.keepsFreedIDs,
                            freeList: freeListBefore)
                        scratch = CascadeScratch()
                        sweep.run(unreachable: unreachable, &events)
                        if !sweep.keepsFreedIDs { events.freedUnkept(sweep.died) }
                        sweep.freeList.live -= sweep.died
                        scratch = sweep.cascadeScratch
                        return (
                            sweep.died, sweep.bytesFreed, sweep.freeList, sweep.emptiedTypes, sweep.emptiedBirths
                        )
                    }
                }
            }
        }
        cascadeScratch = scratch
        table.setFreeListState(freeList)
        // A closed set dies whole: once every member is cleared no reference to one is left, and
        // each cascade drains the trashcan before it returns. (Not a trap in the daemon: a miss
        // would leave the generation sizes off, which `checkInvariants` reports in tests.)
        assert(died == expectedDeaths, "a closed unreachable set must die whole")
        totalBytes -= bytesFreed
        for t in emptiedTypes { types.noteUnused(t) }
        for b in emptiedBirths { origins.forgetBirth(b) }
    }
}
