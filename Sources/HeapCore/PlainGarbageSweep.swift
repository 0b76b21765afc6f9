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
    /// The generation lists' operations, on the same records.
    var lists: RecordView { RecordView(records: records, pool: UnsafePointer(pool)) }
    var freeList: (top: Slot, count: Int, live: Int)
    /// Types and births whose last object died, in that order: the heap forgets them after the
    /// sweep, as `TypeRegistry.remove` and `AllocationOrigins.forget` would have.
    var emptiedTypes: [TypeID] = []
    var emptiedBirths: [UInt32] = []
    var died = 0
    var bytesFreed: UInt64 = 0

    /// The flags that make an object's death more than bookkeeping (see the type's comment).
    static let unplainFlags: ObjectFlags = [.hasFinalizer, .isWeakref, .hasWeakrefs, .hasData, .ownDict, .bigSize]

    /// `delete_garbage`: clear the head of `unreachable` (which frees whatever that was the last
    /// reference to) until the list is empty; a cleared object still referenced moves to `old`
    /// and dies when its last referrer is cleared.
    mutating func run(unreachable: Slot, old: Slot, _ events: inout HeapEvents) {
        while true {
            let op = records[Int(unreachable)].gcNext
            if op == unreachable { break }
            records[Int(op)].refcount += 1
            let count = records[Int(op)].fieldCount
            if count > 0 {
                let at = records[Int(op)].fieldsAt
                records[Int(op)].fieldCount = 0
                records[Int(op)].fieldsAt = 0
                for i in 0..<UInt32(count) { decref(FieldPool.target(pool[Int(at + i)]), &events) }
                freeBlock(at: at, count: Int(count))
            }
            decref(op, &events)
            if records[Int(unreachable)].gcNext == op {
                records[Int(op)].flags.remove(.collecting)
                lists.move(op, to: old)
            }
        }
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

    /// `Heap.beginDeallocation` for a plain object: untrack, `freed`, the histograms, the origin.
    @inline(__always)
    mutating func beginDeallocation(_ slot: Slot, _ events: inout HeapEvents) {
        let r = records + Int(slot)
        lists.remove(slot)
        r.pointee.flags.remove(.live)
        events.freed(ObjectID(slotOrdinal: slot - ObjectTable.reservedSlots + 1, reuse: r.pointee.reuse))
        let size = UInt64(r.pointee.size)
        let type = Int(r.pointee.type)
        // Each count is read once and written once: a second read would wait on the store.
        let left = typeCounts[type] - 1
        typeCounts[type] = left
        typeBytes[type] -= size
        if left == 0 { emptiedTypes.append(TypeID(type)) }
        bytesFreed += size
        if Int(slot) < birthSlots {
            let b = birthOf[Int(slot)]
            birthOf[Int(slot)] = 0
            if b != 0 {
                let left = births[Int(b)].live - 1
                births[Int(b)].live = left
                if left == 0 { emptiedBirths.append(b) }
            }
        }
        died += 1
    }

    /// `Heap.finishDeallocation`: the field block and the slot go back to their free lists.
    @inline(__always)
    mutating func finishDeallocation(_ slot: Slot) {
        let r = records + Int(slot)
        freeBlock(at: r.pointee.fieldsAt, count: Int(r.pointee.fieldCount))
        freeList.live -= 1
        if ObjectTable.reset(&r.pointee, linkingTo: freeList.top) {
            freeList.top = slot
            freeList.count += 1
        }
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
    mutating func sweepPlainGarbage(
        _ unreachable: Slot, old: Slot, expectedDeaths: Int, _ events: inout HeapEvents
    ) {
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
                            births: births, cascadeScratch: scratch, freeList: freeListBefore)
                        scratch = CascadeScratch()
                        sweep.run(unreachable: unreachable, old: old, &events)
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
