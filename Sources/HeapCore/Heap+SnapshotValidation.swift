import Synchronization

/// The structural check of a heap just read from a snapshot.
///
/// Records and field entries are loaded as raw memory, so every index in them (slots, generation
/// links, field blocks, types, keys, free lists) is as the file says. Checksums catch a damaged
/// file; this catches what they cannot (a file written by a buggy build, or forged) so that no
/// snapshot can make the daemon trap later: every index is checked against its table before
/// anything follows it, in an order where each check relies only on earlier ones. The result is
/// what `checkInvariants` asks of a heap (refcounts equal holders, fields point at live objects,
/// the lists hold exactly the live objects, the side tables match the flags), checked once.
///
/// O(objects + fields), in two passes over the records in memory order and one walk of the lists
/// (beside the first pass, on a second thread where the caller has one): at ten million objects
/// recovery is mostly this check, so it reads the tables through buffer pointers (every index it
/// follows is checked first), compares each side table with its flag by counting rather than by a
/// hash lookup per object, and does not run the invariant checker after itself (it repeated every
/// check here and walked the lists twice more).
extension Heap {
    /// `BothAtOnce` without threads (the default of `Heap(snapshot:)`).
    public static let oneAfterTheOther: BothAtOnce = { first, second in
        first()
        second()
    }

    /// The records pass and the list walk (each mostly waiting on memory, the walk on one cache
    /// miss per object when the lists are not in memory order) run at once through `both`.
    mutating func validateRestored(both: BothAtOnce) throws(SnapshotError) {
        let count = table.records.count
        let reserved = Int(ObjectTable.reservedSlots)
        guard count >= reserved, count < Int(UInt32.max - 16) else { throw Self.refuse("\(count) record slots") }
        var (scan, walk) = try Self.scanAndWalk(table.records, fieldPool.entries, TypeShape(types), both)
        guard scan.live == table.liveCount else {
            throw Self.refuse("\(table.liveCount) live objects announced, \(scan.live) found")
        }
        guard scan.perType == types.counts else {
            throw Self.refuse("the per-type object counts do not match the objects")
        }
        guard walk.listed == scan.live else {
            throw Self.refuse("generation lists hold \(walk.listed) objects, \(scan.live) are live")
        }
        // The writer labels every object with its generation (`writeRecords`); a file from before
        // list codes has other bits there.
        if walk.labelled { table.codes.reset(sizes: walk.sizes) } else { table.relabelLists() }
        try checkCounters()
        try checkFreeLists(&scan.usedEntries)
        try checkSideTables(scan)
        try checkHolders(&scan)
    }

    /// The records pass and the list walk, through `both`. (Static: the arrays' second references
    /// end here, before the heap relabels its records in place.)
    private static func scanAndWalk(
        _ records: [ObjectRecord], _ entries: [FieldPool.Entry], _ shape: TypeShape, _ both: BothAtOnce
    ) throws(SnapshotError) -> (RecordScan, ListWalk) {
        let (scanned, walked) = Heap.results(
            of: { Result { () throws(SnapshotError) in try checkRecords(records, entries, shape) } },
            and: { Result { () throws(SnapshotError) in try walkLists(records) } }, through: both)
        return (try scanned.get(), try walked.get())
    }

    private static func refuse(_ reason: String) -> SnapshotError {
        SnapshotError(reason: "snapshot is inconsistent: \(reason)")
    }

    /// What the records pass needs of the types, read once (through `types.entries[t]` it
    /// retained the entry's arrays per object).
    private struct TypeShape: Sendable {
        var keyCounts: [Int]
        var sharedCounts: [Int]
        init(_ types: TypeRegistry) {
            keyCounts = types.entries.map(\.keys.count)
            sharedCounts = types.entries.map(\.sharedCount)
        }
    }

    /// What the list walk found: objects listed in all, per generation, and whether each was
    /// labelled with its list's generation.
    private struct ListWalk: Sendable {
        var listed = 0
        var sizes = [0, 0, 0, 0]
        var labelled = true
    }

    /// What the records pass found, for the checks after it.
    private struct RecordScan: Sendable {
        var live = 0
        var perType: [Int]
        var bytes: [UInt64]
        var total: UInt64 = 0
        /// Per slot: holders counted from the fields (sessions, roots and gc.garbage added later),
        /// `notLive` where no live object is.
        var holders: [UInt32]
        /// Field pool entries in some live object's block.
        var usedEntries: [Bool]
        /// Live objects flagged as having a big size, data.
        var bigSized = 0
        var withData = 0
    }

    /// A slot without a live object, in `RecordScan.holders`.
    private static let notLive = UInt32.max

    /// Records: links in range, live objects' type, refcount, field block, keys and targets, the
    /// per-type counts and bytes.
    private static func checkRecords(
        _ records: [ObjectRecord], _ entries: [FieldPool.Entry], _ shape: TypeShape
    ) throws(SnapshotError) -> RecordScan {
        try records.withUnsafeBufferPointer { records throws(SnapshotError) in
            try entries.withUnsafeBufferPointer { entries throws(SnapshotError) in
                try checkRecords(records, entries, shape)
            }
        }
    }

    private static func checkRecords(
        _ records: UnsafeBufferPointer<ObjectRecord>, _ entries: UnsafeBufferPointer<FieldPool.Entry>,
        _ shape: TypeShape
    ) throws(SnapshotError) -> RecordScan {
        let count = records.count
        let reserved = Int(ObjectTable.reservedSlots)
        let (keyCounts, sharedCounts, typeCount) = (shape.keyCounts, shape.sharedCounts, shape.keyCounts.count)
        var scan = RecordScan(
            perType: [Int](repeating: 0, count: typeCount),
            bytes: [UInt64](repeating: 0, count: typeCount),
            holders: [], usedEntries: [])
        // Which slots hold live objects, first: the fields' pass then finds whether a target is
        // live and counts it as held with one read of a 4-byte entry (the targets are scattered:
        // at millions of objects each read is a cache miss, and a second one per field, of the
        // target's record, was most of the pass).
        var holders = [UInt32](unsafeUninitializedCapacity: count) { buffer, initialized in
            for s in 0..<count {
                buffer[s] = s >= reserved && records[s].flags.contains(.live) ? 0 : Self.notLive
            }
            initialized = count
        }
        var usedEntries = [Bool](repeating: false, count: entries.count)
        try holders.withUnsafeMutableBufferPointer { holders throws(SnapshotError) in
            try usedEntries.withUnsafeMutableBufferPointer { usedEntries throws(SnapshotError) in
                for s in 0..<count {
                    let r = records[s]
                    guard Int(r.gcPrev) < count, Int(r.gcNext) < count else {
                        throw Self.refuse("slot \(s) links to slot \(r.gcPrev)/\(r.gcNext)")
                    }
                    guard r.reuse <= ObjectID.maxReuse else {
                        throw Self.refuse("slot \(s) has reuse count \(r.reuse)")
                    }
                    // Snapshots are written between collections, where no record is collecting.
                    guard !r.flags.contains(.collecting) else { throw Self.refuse("slot \(s) is marked collecting") }
                    guard s >= reserved, r.flags.contains(.live) else { continue }
                    scan.live += 1
                    guard Int(r.type) < typeCount else { throw Self.refuse("slot \(s) has type \(r.type)") }
                    // A live object is held, and no more often than `checkRefcountRoom` allows.
                    guard r.refcount > 0, r.refcount <= Heap.maxRefcount else {
                        throw Self.refuse("slot \(s) has refcount \(r.refcount)")
                    }
                    scan.perType[Int(r.type)] += 1
                    if r.flags.contains(.bigSize) { scan.bigSized += 1 }
                    if r.flags.contains(.hasData) { scan.withData += 1 }
                    // A big size is read once its side table is known to match the flags (checkSideTables).
                    if !r.flags.contains(.bigSize) {
                        let size = UInt64(r.size)
                        scan.bytes[Int(r.type)] &+= size  // under 2^32 each, under 2^32 objects: no overflow
                        scan.total &+= size
                    }
                    if r.flags.contains(.dictTracked) && !r.flags.contains(.ownDict) {
                        throw Self.refuse("slot \(s) has a tracked dict it lacks")
                    }
                    guard r.fieldCount > 0 else { continue }
                    let start = Int(r.fieldsAt)
                    let capacity = 1 << FieldPool.sizeClass(forCount: Int(r.fieldCount))
                    guard start + capacity <= entries.count else {
                        throw Self.refuse("slot \(s)'s fields lie outside the pool")
                    }
                    let keys = keyCounts[Int(r.type)]
                    let ownDict = r.flags.contains(.ownDict)
                    // Shared keys: sorted by key, ranks a permutation of 0..<count. Own dict: insertion
                    // order, so keys only distinct, ranks 0.
                    let sharedLimit = r.type == TypeRegistry.permanent ? keys : sharedCounts[Int(r.type)]
                    var previousKey: Int64 = -1
                    var seenKeys = Set<UInt32>()
                    var ranks: UInt64 = 0
                    for i in start..<start + capacity {
                        guard !usedEntries[i] else { throw Self.refuse("slot \(s)'s fields overlap another object's") }
                        usedEntries[i] = true
                        guard i < start + Int(r.fieldCount) else { continue }
                        let key = FieldPool.key(entries[i])
                        let rank = FieldPool.rank(entries[i])
                        let target = FieldPool.target(entries[i])
                        let inOrder = ownDict ? seenKeys.insert(key).inserted && rank == 0 : Int64(key) > previousKey
                        guard Int(key) < (ownDict ? keys : sharedLimit), inOrder else {
                            throw Self.refuse("slot \(s) has field key \(key)")
                        }
                        previousKey = Int64(key)
                        if !ownDict && r.type != TypeRegistry.permanent { ranks |= 1 << UInt64(min(rank, 63)) }
                        guard Int(target) < count, holders[Int(target)] != Self.notLive else {
                            throw Self.refuse("slot \(s) has a field pointing at slot \(target)")
                        }
                        // More than a refcount can be: it cannot match (and the count cannot overflow).
                        guard holders[Int(target)] <= Heap.maxRefcount else {
                            throw Self.refuse("slot \(target) has more holders than a refcount counts")
                        }
                        holders[Int(target)] += 1
                    }
                    if !ownDict && r.type != TypeRegistry.permanent
                        && (Int(r.fieldCount) > TypeRegistry.sharedKeysMax || ranks != (1 << UInt64(r.fieldCount)) - 1)
                    {
                        throw Self.refuse("slot \(s)'s field ranks are not 0..<\(r.fieldCount)")
                    }
                }
            }
        }
        (scan.holders, scan.usedEntries) = (holders, usedEntries)
        return scan
    }

    /// Generation lists: each a closed doubly linked ring through live objects of its generation,
    /// together holding every live object once (the caller compares the count); the collector's
    /// working lists are empty. Reads only, so that it can run beside the records pass.
    private static func walkLists(_ records: [ObjectRecord]) throws(SnapshotError) -> ListWalk {
        try records.withUnsafeBufferPointer { records throws(SnapshotError) in
            let count = records.count
            let reserved = Int(ObjectTable.reservedSlots)
            var walk = ListWalk()
            for head in 0..<reserved {
                var previous = Slot(head)
                var s = records[head].gcNext
                var steps = 0
                // Each step checks the link back, so a ring that does not close at its head is
                // found before it is walked twice: at most every slot once.
                while Int(s) != head {
                    guard head <= 3, Int(s) >= reserved, Int(s) < count, records[Int(s)].flags.contains(.live),
                        records[Int(s)].gcPrev == previous, steps < count
                    else {
                        throw Self.refuse("generation list \(head) is broken at slot \(s)")
                    }
                    if records[Int(s)].listCode != UInt8(head) { walk.labelled = false }
                    previous = s
                    s = records[Int(s)].gcNext
                    steps += 1
                }
                guard records[head].gcPrev == previous else {
                    throw Self.refuse("generation list \(head) is broken at its end")
                }
                if head <= 3 { walk.sizes[head] = steps }
                walk.listed += steps
            }
            return walk
        }
    }

    /// The counters that later operations add to: far below the top of their range (a forged
    /// `Int.max` count trapped the first allocation).
    private func checkCounters() throws(SnapshotError) {
        let counters =
            gc.counts + gc.stats.flatMap { [$0.collections, $0.collected, $0.uncollectable] }
            + [gc.longLivedTotal, gc.longLivedPending]
        guard counters.allSatisfy({ (0...Int.max / 2).contains($0) }) else {
            throw Self.refuse("a gc count or statistic is \(counters.first { !(0...Int.max / 2).contains($0) }!)")
        }
        guard nextSessionID <= UInt64.max / 2 else { throw Self.refuse("the next session id is \(nextSessionID)") }
    }

    /// The free slot stack (distinct dead object slots that can still be reused) and the field
    /// pool's free lists (blocks inside the pool, overlapping nothing: `usedEntries` marks the
    /// fields' blocks, and gets the free ones marked too).
    private func checkFreeLists(_ usedEntries: inout [Bool]) throws(SnapshotError) {
        let records = table.records
        let (freeTop, freeCount, _) = table.freeListState
        guard freeCount >= 0, freeCount <= records.count else { throw Self.refuse("free slot count \(freeCount)") }
        var seen = [UInt64](repeating: 0, count: (records.count + 63) / 64)
        var s = freeTop
        for _ in 0..<freeCount {
            guard Int(s) >= Int(ObjectTable.reservedSlots), Int(s) < records.count,
                !records[Int(s)].flags.contains(.live), records[Int(s)].reuse < ObjectID.maxReuse,
                seen[Int(s) >> 6] & (1 << (UInt64(s) & 63)) == 0
            else { throw Self.refuse("the free slot list is broken at slot \(s)") }
            seen[Int(s) >> 6] |= 1 << (UInt64(s) & 63)
            s = records[Int(s)].gcNext
        }
        let entries = fieldPool.entries
        for (cls, head) in fieldPool.freeListHeads.enumerated() {
            var at = head
            var steps = 0
            while at != .max {
                let capacity = 1 << cls
                guard Int(at) + capacity <= entries.count, steps <= entries.count else {
                    throw Self.refuse("field pool free list \(cls) is broken at \(at)")
                }
                for i in Int(at)..<Int(at) + capacity {
                    guard !usedEntries[i] else {
                        throw Self.refuse("field pool free list \(cls) overlaps fields at \(at)")
                    }
                    usedEntries[i] = true
                }
                at = UInt32(truncatingIfNeeded: entries[Int(at)])
                steps += 1
            }
        }
    }

    /// Side tables, sessions, roots, garbage: only live objects. A side table keyed by slot
    /// matches its flag when each key is a live object with the flag and the flagged objects are
    /// as many as the keys.
    private func checkSideTables(_ scan: RecordScan) throws(SnapshotError) {
        let records = table.records
        func isLiveObject(_ s: Slot) -> Bool {
            Int(s) >= Int(ObjectTable.reservedSlots) && Int(s) < records.count && records[Int(s)].flags.contains(.live)
        }
        func has(_ s: Slot, _ flag: ObjectFlags) -> Bool { isLiveObject(s) && records[Int(s)].flags.contains(flag) }
        for slot in table.data.keys where !has(slot, .hasData) { throw Self.refuse("data of slot \(slot)") }
        guard table.data.count == scan.withData else { throw Self.refuse("an object's data is lost") }
        for slot in table.bigSizes.keys where !has(slot, .bigSize) { throw Self.refuse("size of slot \(slot)") }
        guard table.bigSizes.count == scan.bigSized else { throw Self.refuse("an object's size is lost") }
        for (w, referent) in table.weakReferent {
            guard has(w, .isWeakref), isLiveObject(referent) else {
                throw Self.refuse("weakref at slot \(w) to slot \(referent)")
            }
        }
        // (A flag without a list would be harmless: clearing finds no weakref.)
        for referent in table.weakrefs.referents where !has(referent, .hasWeakrefs) {
            throw Self.refuse("weakref list of slot \(referent)")
        }
        for (id, session) in sessions {
            guard !session.frames.isEmpty, id.raw < nextSessionID,
                session.frames.allSatisfy({ $0.keys.allSatisfy(isLiveObject) })
            else {
                throw Self.refuse("session \(id.raw) holds what is not a live object")
            }
        }
        for (name, slot) in roots where !isLiveObject(slot) { throw Self.refuse("root '\(name)' holds slot \(slot)") }
        for slot in garbage where !isLiveObject(slot) { throw Self.refuse("gc.garbage holds slot \(slot)") }
    }

    /// Every refcount equals its holders (fields, sessions, roots, gc.garbage), and the byte
    /// totals equal the sizes' sums (in wide arithmetic first, so the sums cannot overflow).
    /// (`scan.holders` gets the other holders added, in place.)
    private func checkHolders(_ scan: inout RecordScan) throws(SnapshotError) {
        // Every slot here is a live object's (checkSideTables); past the largest refcount a count
        // stays there, matching none.
        func hold(_ slot: Slot, _ n: UInt32) {
            scan.holders[Int(slot)] = UInt32(
                min(UInt64(scan.holders[Int(slot)]) + UInt64(n), UInt64(Heap.maxRefcount) + 1))
        }
        for session in sessions.values {
            for f in session.frames { for (slot, held) in f { hold(slot, held.count) } }
        }
        for slot in roots.values { hold(slot, 1) }
        for slot in garbage { hold(slot, 1) }
        var (bytes, total) = (scan.bytes, scan.total)
        for (slot, size) in table.bigSizes.entries {
            let t = Int(table.records[Int(slot)].type)
            var overflow = false
            (bytes[t], overflow) = bytes[t].addingReportingOverflow(size)
            guard !overflow else { throw Self.refuse("the bytes of type '\(types.name(TypeID(t)))' overflow") }
            (total, overflow) = total.addingReportingOverflow(size)
            guard !overflow else { throw Self.refuse("the total bytes overflow") }
        }
        try table.records.withUnsafeBufferPointer { records throws(SnapshotError) in
            for s in Int(ObjectTable.reservedSlots)..<records.count
            where records[s].flags.contains(.live) && scan.holders[s] != records[s].refcount {
                throw Self.refuse("slot \(s) has refcount \(records[s].refcount) but \(scan.holders[s]) holders")
            }
        }
        guard bytes == types.bytes, total == totalBytes else {
            throw Self.refuse("the byte totals do not match the objects")
        }
    }
}

/// Runs two pieces of work and returns when both have: at once, on two threads, where the caller
/// has them (recovery does), else one after the other.
public typealias BothAtOnce = @Sendable (_ first: @Sendable () -> Void, _ second: @Sendable () -> Void) -> Void

extension Heap {
    /// The results of `first` and `second`, run through `both`.
    public static func results<A: Sendable, B: Sendable>(
        of first: @escaping @Sendable () -> A, and second: @escaping @Sendable () -> B, through both: BothAtOnce
    ) -> (A, B) {
        let a = Mutex<A?>(nil)
        let b = Mutex<B?>(nil)
        both(
            {
                let r = first(); a.withLock { $0 = r }
            },
            {
                let r = second(); b.withLock { $0 = r }
            })
        return (a.withLock { $0.take()! }, b.withLock { $0.take()! })
    }
}
