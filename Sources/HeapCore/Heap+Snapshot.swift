/// The heap's whole state as bytes, and back: what snapshots hold.
///
/// Records and field entries are written as their raw memory (the snapshot header stores the
/// record layout, and a snapshot from another layout is refused), so a 10-million-object heap
/// loads at memory speed. Everything else is written field by field. Limits are not state: the
/// daemon's flags set them.
extension Heap {
    static let snapshotMagic: [UInt8] = Array("HEAPSNAP".utf8)
    /// 2 adds, per type, its shared-keys state (shared key count, `dk_usable`) and finalizer
    /// flag; per-object state (own dict, dict tracked, insertion ranks) is in the records and
    /// field entries. Version 1 is still read (see `upgradeVersion1`).
    /// 3: allocation origins and the clock after the rest; 2: shared-keys state per type.
    static let snapshotVersion: UInt32 = 3

    public struct SnapshotError: Error, CustomStringConvertible {
        public let reason: String
        public var description: String { reason }
    }

    /// Streams the snapshot to `sink` in pieces (the large arrays without copying).
    public func writeSnapshot(_ sink: (UnsafeRawBufferPointer) throws -> Void) rethrows {
        var w = BinaryWriter()
        w.append(Self.snapshotMagic)
        w.u32(Self.snapshotVersion)
        w.u32(UInt32(MemoryLayout<ObjectRecord>.stride))
        w.varint(UInt64(table.records.count))
        try w.bytes.withUnsafeBytes(sink)
        try writeRecords(sink)
        w = BinaryWriter()
        w.varint(UInt64(fieldPool.entries.count))
        try w.bytes.withUnsafeBytes(sink)
        try fieldPool.entries.withUnsafeBytes(sink)
        w = BinaryWriter()
        encodeTail(into: &w)
        try w.bytes.withUnsafeBytes(sink)
    }

    /// The records as raw memory, each list code written as its generation, so that equal heaps
    /// give equal files whatever merges labelled them (chunk by chunk when a relabelling is due).
    private func writeRecords(_ sink: (UnsafeRawBufferPointer) throws -> Void) rethrows {
        if table.codes.isIdentity { return try table.records.withUnsafeBytes(sink) }
        let chunk = 65536
        for start in stride(from: 0, to: table.records.count, by: chunk) {
            var part = Array(table.records[start..<min(start + chunk, table.records.count)])
            for i in part.indices where part[i].flags.contains(.live) {
                part[i].listCode = UInt8(table.generation(of: Slot(start + i)))
            }
            try part.withUnsafeBytes(sink)
        }
    }

    /// Everything but the two big arrays.
    private func encodeTail(into w: inout BinaryWriter) {
        let (freeTop, freeCount, liveCount) = table.freeListState
        w.varint(UInt64(freeTop)); w.int(freeCount); w.int(liveCount)
        w.raw(fieldPool.freeListHeads)
        w.varint(UInt64(table.data.count))
        for (slot, bytes) in table.data.entries.sorted(by: { $0.key < $1.key }) {
            w.varint(UInt64(slot)); w.blob(bytes)
        }
        w.varint(UInt64(table.bigSizes.count))
        for (slot, size) in table.bigSizes.entries.sorted(by: { $0.key < $1.key }) {
            w.varint(UInt64(slot))
            w.varint(size)
        }
        w.varint(UInt64(table.weakReferent.count))
        for (w_, r) in table.weakReferent.sorted(by: { $0.key < $1.key }) { w.varint(UInt64(w_)); w.varint(UInt64(r)) }
        w.varint(UInt64(table.weakrefs.referents.count))
        for r in table.weakrefs.referents.sorted() {
            w.varint(UInt64(r)); w.raw(table.weakrefs.weakrefs(to: r))
        }
        w.varint(UInt64(types.entries.count))
        for (i, e) in types.entries.enumerated() {
            w.string(e.name)
            w.varint(UInt64(e.keys.count))
            for k in e.keys { w.string(k) }
            w.int(types.counts[i]); w.varint(types.bytes[i])
            w.varint(UInt64(e.sharedCount)); w.varint(UInt64(e.usable))
            w.u8(e.finalizer ? 1 : 0)
        }
        w.bool(gc.enabled)
        for t in gc.thresholds { w.int(t) }
        for c in gc.counts { w.int(c) }
        w.int(gc.debug.rawValue)
        for s in gc.stats { w.int(s.collections); w.int(s.collected); w.int(s.uncollectable) }
        w.int(gc.longLivedTotal); w.int(gc.longLivedPending)
        w.varint(nextSessionID)
        w.varint(UInt64(sessions.count))
        for (id, s) in sessions.sorted(by: { $0.key < $1.key }) {
            w.varint(id.raw)
            w.optional(s.name) { $0.string($1) }
            w.optional(s.leaseSeconds) { $0.u64($1.bitPattern) }
            // Each scope as runs of (slot, count) in the order the references were taken (a
            // snapshot of the first version held each slot once, in slot order: read the same).
            w.varint(UInt64(s.scopes.count))
            for scope in s.scopes {
                var runs: [(Slot, Int)] = []
                for slot in scope {
                    if runs.last?.0 == slot { runs[runs.count - 1].1 += 1 } else { runs.append((slot, 1)) }
                }
                w.varint(UInt64(runs.count))
                for (slot, n) in runs { w.varint(UInt64(slot)); w.varint(UInt64(n)) }
            }
        }
        w.varint(UInt64(roots.count))
        for (name, slot) in roots.sorted(by: { $0.key < $1.key }) { w.string(name); w.varint(UInt64(slot)) }
        w.raw(garbage)
        w.varint(totalBytes)
        w.u32(clock)
        origins.encode(into: &w)
    }

    /// Rebuilds a heap from a snapshot. Throws on a truncated or foreign snapshot, and on one
    /// whose structure does not hold together (`validateRestored`): a damaged file that got past
    /// its checksums must be refused, never trap later.
    /// `both` runs two parts of the structural check; recovery passes two threads.
    public init(
        snapshot r: inout BinaryReader, limits: HeapLimits = HeapLimits(), both: BothAtOnce = Heap.oneAfterTheOther
    ) throws {
        self.init(limits: limits)
        var version: UInt32 = 0
        do {
            guard Array(try r.take(8)) == Self.snapshotMagic else {
                throw SnapshotError(reason: "not a heapd snapshot")
            }
            version = try r.u32()
            guard (1...Self.snapshotVersion).contains(version) else {
                throw SnapshotError(reason: "snapshot version \(version) is not \(Self.snapshotVersion)")
            }
            let stride = try r.u32()
            guard stride == UInt32(MemoryLayout<ObjectRecord>.stride) else {
                throw SnapshotError(
                    reason:
                        "snapshot written with \(stride)-byte records, this build uses "
                        + "\(MemoryLayout<ObjectRecord>.stride)"
                )
            }
            let records = try r.raw(ObjectRecord.self)
            let entries = try r.raw(FieldPool.Entry.self)
            let freeTop = try Self.slot(&r)
            let freeCount = try r.int()
            let liveCount = try r.int()
            table.restore(records: records, freeTop: freeTop, freeCount: freeCount, liveCount: liveCount)
            try fieldPool.restore(entries: entries, freeHeads: try r.raw(UInt32.self))
            for _ in 0..<(try r.varint()) { table.data[try Self.slot(&r)] = try r.blob() }
            for _ in 0..<(try r.varint()) { table.bigSizes[try Self.slot(&r)] = try r.varint() }
            var weakReferents: [Slot: Slot] = [:]
            for _ in 0..<(try r.varint()) { weakReferents[try Self.slot(&r)] = try Self.slot(&r) }
            var weakLists: [(Slot, [Slot])] = []
            for _ in 0..<(try r.varint()) { weakLists.append((try Self.slot(&r), try r.raw(Slot.self))) }
            guard table.weakrefs.restore(referents: weakReferents, lists: weakLists) else {
                throw SnapshotError(reason: "snapshot is inconsistent: the weakref lists do not match the referents")
            }
            types = TypeRegistry()
            // Version 1 kept no finalizer per type: each type takes its first live object's.
            var legacyFinalizer: [TypeID: Bool] = [:]
            if version == 1 {
                for rec in table.records.dropFirst(Int(ObjectTable.reservedSlots)) where rec.flags.contains(.live) {
                    if legacyFinalizer[rec.type] == nil {
                        legacyFinalizer[rec.type] = rec.flags.contains(.hasFinalizer)
                    }
                }
            }
            for n in 0..<(try r.varint()) {
                let name = try r.string()
                var keys: [String] = []
                for _ in 0..<(try r.varint()) { keys.append(try r.string()) }
                let count = try r.int()
                let bytes = try r.varint()
                var shared = UInt64(keys.count)
                // Version 1 kept no shared-keys state and no object had its own dict: every name
                // is shared; `dk_usable` as if the live objects were all the instances ever made,
                // made before any name (an estimate: the real history is gone).
                var usable = UInt64(max(0, max(1, TypeRegistry.sharedKeysMax - count) - keys.count))
                var finalizer = legacyFinalizer[TypeID(n)] ?? false
                if version >= 2 {
                    shared = try r.varint()
                    usable = try r.varint()
                    let fin = try r.u8()
                    guard shared <= UInt64(keys.count), shared <= UInt64(TypeRegistry.sharedKeysMax),
                        usable <= UInt64(TypeRegistry.sharedKeysMax), fin <= 1
                    else {
                        throw SnapshotError(reason: "snapshot gives type '\(name)' a bad shared-keys state")
                    }
                    finalizer = fin == 1
                }
                guard !name.isEmpty else {
                    // The place of a type forgotten with its last object: kept so later type
                    // indexes stay where they were.
                    types.restoreForgotten()
                    continue
                }
                guard let t = types.restoreNamed(name, finalizer: finalizer), t == n else {
                    throw SnapshotError(reason: "snapshot names type '\(name)' twice")
                }
                for (k, key) in keys.enumerated() {
                    guard types.internKey(key, of: t) == k else {
                        throw SnapshotError(reason: "snapshot names field '\(key)' of type '\(name)' twice")
                    }
                }
                guard count >= 0 else { throw SnapshotError(reason: "snapshot gives type '\(name)' \(count) objects") }
                types.restoreCounts(t, count: count, bytes: bytes)
                types.restoreShared(t, sharedCount: Int(shared), usable: Int(usable))
            }
            // Types left without objects are forgotten by the next operation, as they would
            // have been in the heap that wrote the snapshot.
            gc.enabled = try r.bool()
            for i in 0..<3 { gc.thresholds[i] = try r.int() }
            for i in 0..<3 { gc.counts[i] = try r.int() }
            gc.debug = GCState.DebugFlags(rawValue: try r.int())
            for i in 0..<3 {
                gc.stats[i] = GCState.GenerationStats(
                    collections: try r.int(), collected: try r.int(), uncollectable: try r.int())
            }
            gc.longLivedTotal = try r.int(); gc.longLivedPending = try r.int()
            nextSessionID = try r.varint()
            for _ in 0..<(try r.varint()) {
                let id = SessionID(raw: try r.varint())
                var s = SessionRefs(name: try r.optional { r throws(BinaryReader.Truncated) in try r.string() })
                s.leaseSeconds = try r.optional { r throws(BinaryReader.Truncated) in Double(bitPattern: try r.u64()) }
                var scopes: [[Slot]] = []
                for _ in 0..<(try r.varint()) {
                    var scope: [Slot] = []
                    for _ in 0..<(try r.varint()) {
                        let slot = try Self.slot(&r)
                        let count = try Self.u32(&r, "a reference count")
                        // A count past the object's refcount is damage (and must not make the
                        // restore allocate gigabytes); the validator checks the exact sums later.
                        guard Int(slot) < table.records.count, count <= table.records[Int(slot)].refcount else {
                            throw SnapshotError(reason: "snapshot gives a session \(count) references to slot \(slot)")
                        }
                        scope += repeatElement(slot, count: Int(count))
                    }
                    scopes.append(scope)
                }
                s.restore(scopes: scopes)
                sessions[id] = s
                if let name = s.name {
                    guard sessionNames.updateValue(id, forKey: name) == nil else {
                        throw SnapshotError(reason: "snapshot names session '\(name)' twice")
                    }
                }
            }
            for _ in 0..<(try r.varint()) { roots[try r.string()] = try Self.slot(&r) }
            garbage = try r.raw(Slot.self)
            totalBytes = try r.varint()
            if version >= 3 {
                clock = try r.u32()
                let slots = table.records.count
                let records = table.records
                guard
                    let restored = try AllocationOrigins.decode(
                        &r, slotCount: slots,
                        isLive: { Int($0) >= Int(ObjectTable.reservedSlots) && records[Int($0)].flags.contains(.live) })
                else { throw SnapshotError(reason: "snapshot is inconsistent: allocation origins") }
                origins = restored
            }
        } catch let e as BinaryReader.Truncated {
            throw SnapshotError(reason: "snapshot is truncated: \(e)")
        }
        guard r.isAtEnd else { throw SnapshotError(reason: "snapshot has \(r.remaining) bytes after its end") }
        if version == 1 { upgradeVersion1() }
        try validateRestored(both: both)
        countFrozenTypes()
    }

    /// The type histogram's frozen share, which snapshots do not carry: one pass in memory order
    /// over the records when anything is frozen.
    private mutating func countFrozenTypes() {
        guard table.generationSize(3) > 0 else { return }
        for s in table.objectSlots where table.isLive(s) && table.generation(of: s) == 3 {
            types.restoreFrozen(table.records[Int(s)].type, size: table.size(s))
        }
    }

    /// A version 1 heap: each object's insertion order taken to be its key order (ranks). (A
    /// version 1 type whose objects mixed finalizers stays one type, named by its first object.)
    private mutating func upgradeVersion1() {
        for s in Int(ObjectTable.reservedSlots)..<table.records.count {
            let r = table.records[s]
            guard r.flags.contains(.live), Int(r.type) < types.entries.count else { continue }
            guard ranked(Slot(s)), Int(r.fieldsAt) + Int(r.fieldCount) <= fieldPool.entries.count else { continue }
            if Int(r.fieldCount) > TypeRegistry.sharedKeysMax {
                // More names than 3.11's shared keys hold: this object would have its own dict.
                table.records[s].flags.formUnion([.ownDict, .dictTracked])
                continue
            }
            for i in 0..<UInt32(r.fieldCount) {
                fieldPool[r.fieldsAt + i] = FieldPool.withRank(fieldPool[r.fieldsAt + i], i)
            }
        }
    }

    /// A slot number as read, refused if it cannot be one (a damaged file must not trap here).
    private static func slot(_ r: inout BinaryReader) throws -> Slot { try u32(&r, "a slot number") }

    private static func u32(_ r: inout BinaryReader, _ what: String) throws -> UInt32 {
        let v = try r.varint()
        guard let n = UInt32(exactly: v) else { throw SnapshotError(reason: "snapshot has \(v) for \(what)") }
        return n
    }
}
