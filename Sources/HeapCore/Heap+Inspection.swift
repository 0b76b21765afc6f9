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
}

extension Heap {
    public func inspect(_ id: ObjectID) throws(HeapError) -> ObjectInspection {
        let slot = try resolveLive(id)
        var byFields: [ObjectInspection.FieldHolder] = []
        var referrers: [ObjectID] = []
        // get_referrers scans the heap, as CPython's does; no reverse index is kept.
        for s in table.objectSlots where table.isLive(s) {
            var holds = false
            for (name, t) in namedFields(s) where t == slot {
                byFields.append(.init(object: table.id(of: s), field: name))
                holds = true
            }
            if holds { referrers.append(table.id(of: s)) }
        }
        let bySessions = sessions.keys.sorted().compactMap { sid -> ObjectInspection.SessionHolder? in
            let n = sessions[sid]!.count(slot)
            return n == 0 ? nil : .init(session: sid, name: sessions[sid]!.name, count: Int(n))
        }
        var seen = Set<Slot>()
        let referents = fieldEntries(slot).map(FieldPool.target).filter { seen.insert($0).inserted }
        let r = table.records[Int(slot)]
        return ObjectInspection(
            object: try snapshot(id),
            heldByFields: byFields,
            heldBySessions: bySessions,
            heldByRoots: roots.filter { $0.value == slot }.map(\.key).sorted(),
            heldByGarbage: garbage.filter { $0 == slot }.count,
            referrers: referrers,
            referents: referents.map { table.id(of: $0) },
            generation: r.generation,
            tracked: true,
            finalized: r.flags.contains(.finalized),
            weakrefs: (table.weakrefsTo[slot] ?? []).reversed().map { table.id(of: $0) })
    }

    /// Ids of the objects whose fields hold `id` (`gc.get_referrers`).
    public func referrers(of id: ObjectID) throws(HeapError) -> [ObjectID] {
        let slot = try resolveLive(id)
        return table.objectSlots.filter { s in
            table.isLive(s) && fieldEntries(s).contains { FieldPool.target($0) == slot }
        }.map { table.id(of: $0) }
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
