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
            // Counted by type id in flat arrays (no hashing per object), then merged by name.
            var counts = [Int](repeating: 0, count: types.entries.count)
            var bytes = [UInt64](repeating: 0, count: types.entries.count)
            func count(_ s: Slot) {
                let t = Int(table.records[Int(s)].type)
                counts[t] += 1
                bytes[t] += table.size(s)
            }
            if let session {
                for s in Set(sessions[session]!.frames.lazy.flatMap(\.keys))
                where generation == nil || table.generation(of: s) == generation {
                    count(s)
                }
            } else {
                // One pass in memory order over the records (streamed by the prefetcher),
                // rather than following the generation's list links.
                let wanted = generation!
                table.records.withUnsafeBufferPointer { records in
                    for s in Int(ObjectTable.reservedSlots)..<records.count
                    where records[s].flags.contains(.live) && Int(table.codes.generation[Int(records[s].listCode)]) == wanted {
                        let t = Int(records[s].type)
                        counts[t] += 1
                        bytes[t] += table.size(Slot(s), records[s])
                    }
                }
            }
            var byType: [String: (count: Int, bytes: UInt64)] = [:]
            for t in counts.indices where counts[t] > 0 {
                byType[types.entries[t].name, default: (0, 0)].count += counts[t]
                byType[types.entries[t].name, default: (0, 0)].bytes += bytes[t]
            }
            rows = byType.map { TypeCount(type: $0.key, count: $0.value.count, bytes: $0.value.bytes) }
        }
        return rows.sorted { $0.bytes != $1.bytes ? $0.bytes > $1.bytes : $0.type < $1.type }
    }
}
