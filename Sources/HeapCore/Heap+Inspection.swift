/// Everything about one object, with its refcount broken down by holder.
public struct ObjectInspection: Sendable, Equatable {
    public struct FieldHolder: Sendable, Equatable {
        public var object: ObjectID
        public var field: String
    }
    public struct SessionHolder: Sendable, Equatable {
        public var session: SessionID
        public var name: String?
        public var count: Int
    }

    public var object: ObjectSnapshot
    public var heldByFields: [FieldHolder]
    public var heldBySessions: [SessionHolder]
    public var heldByRoots: [String]
    public var heldByGarbage: Int
    public var referrers: [ObjectID]
    public var referents: [ObjectID]
    /// 0, 1, 2, or 3 for the permanent generation.
    public var generation: Int
    public var tracked: Bool
    public var finalized: Bool
    /// Weakrefs to this object, newest first (CPython's list order for callback weakrefs).
    public var weakrefs: [ObjectID]
    /// Where, by which session and when it was allocated (nil: not recorded).
    public var allocation: AllocationOrigin?
}

extension Heap {
    /// `index`: as for ``referrers(of:index:)``.
    public func inspect(_ id: ObjectID, index: ReferrerIndex? = nil) throws(HeapError) -> ObjectInspection {
        try inspectUnordered(id, index: index).inOrder()
    }

    /// ``inspect(_:index:)`` with its holders not yet in order (``UnorderedInspection``).
    public func inspectUnordered(_ id: ObjectID, index: ReferrerIndex? = nil) throws(HeapError) -> UnorderedInspection {
        let slot = try resolveLive(id)
        // Every holder, frozen ones too (after the others), with the names of the fields that
        // hold the object, in one array (no array per holder: there may be a million).
        var holders: [(key: UInt64, fields: Range<Int32>)] = []
        var fieldNames: [String] = []
        for (key, s) in foundHolders(of: slot, includingFrozen: true, index: index) {
            let first = Int32(fieldNames.count)
            let type = table.records[Int(s)].type
            for e in fieldEntries(s) where FieldPool.target(e) == slot {
                fieldNames.append(types.keyName(FieldPool.key(e), of: type))
            }
            holders.append((key, first..<Int32(fieldNames.count)))
        }
        let bySessions = sessions.keys.sorted().compactMap { sid -> ObjectInspection.SessionHolder? in
            let n = sessions[sid]!.count(slot)
            return n == 0 ? nil : .init(session: sid, name: sessions[sid]!.name, count: Int(n))
        }
        var seen = Set<Slot>()
        let referents = fieldEntries(slot).map(FieldPool.target).filter { seen.insert($0).inserted }
        let r = table.records[Int(slot)]
        let rest = ObjectInspection(
            object: try snapshot(id),
            heldByFields: [],
            heldBySessions: bySessions,
            heldByRoots: roots.filter { $0.value == slot }.map(\.key).sorted(),
            heldByGarbage: garbage.filter { $0 == slot }.count,
            referrers: [],
            referents: referents.map { table.id(of: $0) },
            generation: table.generation(of: slot),
            tracked: true,
            finalized: r.flags.contains(.finalized),
            weakrefs: table.weakrefs.weakrefs(to: slot).reversed().map { table.id(of: $0) },
            allocation: origins.origin(of: slot))
        return UnorderedInspection(rest: rest, holders: holders, fieldNames: fieldNames)
    }

    /// Ids of the objects whose fields hold `id`, the objects `gc.get_referrers` lists: those in
    /// generations 0, 1 and 2 (the permanent generation is not searched), each once. Listed by
    /// generation, then by id, not in CPython's list order: `index` (when current) finds them in
    /// O(holders + changes since it was made) and knows no list positions (a deviation the
    /// README's list of deviations records); without it, O(objects + fields), as CPython's scan.
    public func referrers(of id: ObjectID, index: ReferrerIndex? = nil) throws(HeapError) -> [ObjectID] {
        try referrersUnordered(of: id, index: index).inOrder()
    }

    /// ``referrers(of:index:)`` not yet in order (``UnorderedReferrers``).
    public func referrersUnordered(of id: ObjectID, index: ReferrerIndex? = nil) throws(HeapError) -> UnorderedReferrers
    {
        let slot = try resolveLive(id)
        return UnorderedReferrers(keys: foundHolders(of: slot, includingFrozen: false, index: index).map(\.key))
    }

    /// The objects whose fields hold `slot`, each once, in no order, each with its
    /// ``HolderOrder`` key.
    private func foundHolders(
        of slot: Slot, includingFrozen: Bool, index: ReferrerIndex?
    ) -> [(key: UInt64, slot: Slot)] {
        let found = index.flatMap { indexedHolders(of: slot, $0) } ?? scannedHolders(of: slot)
        return found.compactMap { s in
            let g = table.generation(of: s)
            return g == 3 && !includingFrozen ? nil : (HolderOrder.key(generation: g, id: table.id(of: s)), s)
        }
    }

    /// `gc_referrers_for`'s pass, over every live object, frozen ones too: each object with a
    /// field holding `slot`, once. It reads the records and the field pool in memory order
    /// through raw pointers (no slice, no reference counting per object). O(objects + fields).
    func scannedHolders(of slot: Slot) -> [Slot] {
        var found: [Slot] = []
        let target = UInt64(slot)
        table.records.withUnsafeBufferPointer { records in
            fieldPool.entries.withUnsafeBufferPointer { pool in
                for s in table.objectSlots {
                    let r = records[Int(s)]
                    guard r.flags.contains(.live) else { continue }
                    let at = Int(r.fieldsAt)
                    for i in 0..<Int(r.fieldCount) where pool[at + i] & 0xFFFF_FFFF == target {
                        found.append(s)
                        break
                    }
                }
            }
        }
        return found
    }

    /// Type histogram: (type, live count, bytes), largest count first.
    /// A name with and without a finalizer is two types (classes) but one row.
    public func histogram() -> [(type: String, count: Int, bytes: UInt64)] {
        var rows: [String: (count: Int, bytes: UInt64)] = [:]
        for t in types.entries.indices where types.counts[t] > 0 {
            rows[types.entries[t].name, default: (0, 0)].count += types.counts[t]
            rows[types.entries[t].name, default: (0, 0)].bytes += types.bytes[t]
        }
        return rows.map { ($0.key, $0.value.count, $0.value.bytes) }
            .sorted { $0.1 != $1.1 ? $0.1 > $1.1 : $0.0 < $1.0 }
    }

    /// Resident bytes of the core's own tables (records, field pool), for stats.
    public var tableBytes: Int {
        table.byteCount + fieldPool.byteCount
    }

    public var sessionCount: Int { sessions.count }
    public var rootCount: Int { roots.count }
}
