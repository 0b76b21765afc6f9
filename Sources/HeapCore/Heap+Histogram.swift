/// `histogram`: live objects by type (SPEC §5).
public struct TypeCount: Sendable, Equatable {
    public var type: String
    public var count: Int
    public var bytes: UInt64
}

extension Heap {
    /// One row per type, most bytes first, then by type name. Without filters it reads the
    /// per-type totals the heap keeps (O(types)); `session` keeps the objects that session holds
    /// a reference to (in any scope), `generation` (3: permanent) those of one generation; both
    /// together, the objects in both. Live garbage is counted (nothing is collected).
    public func typeHistogram(session: SessionID? = nil, generation: Int? = nil) throws(HeapError) -> [TypeCount] {
        if let session { try checkSession(session) }
        var rows: [TypeCount]
        if session == nil && generation == nil {
            rows = histogram().map { TypeCount(type: $0.type, count: $0.count, bytes: $0.bytes) }
        } else {
            var slots: [Slot]
            if let session {
                slots = Array(Set(sessions[session]!.frames.lazy.flatMap(\.keys)))
                if let generation { slots = slots.filter { table.generation(of: $0) == generation } }
            } else {
                slots = table.listSlots(generation! == 3 ? ListHead.permanent : ListHead.generation(generation!))
            }
            var byType: [String: (count: Int, bytes: UInt64)] = [:]
            for s in slots {
                byType[typeName(s), default: (0, 0)].count += 1
                byType[typeName(s), default: (0, 0)].bytes += table.size(s)
            }
            rows = byType.map { TypeCount(type: $0.key, count: $0.value.count, bytes: $0.value.bytes) }
        }
        return rows.sorted { $0.bytes != $1.bytes ? $0.bytes > $1.bytes : $0.type < $1.type }
    }
}
