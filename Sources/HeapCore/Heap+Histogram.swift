/// `histogram`: live objects by type (SPEC §5).
public struct TypeCount: Sendable, Equatable {
    public var type: String
    public var count: Int
    public var bytes: UInt64
}

extension Heap {
    /// One row per type, most bytes first, then by type name. Without filters it reads the
    /// per-type totals the heap keeps (O(types)); `session` keeps the objects that session holds
    /// a reference to (in any scope: O(what it holds)), `generation` (3: permanent) those of one
    /// generation; both together, the objects in both. Live garbage is counted (nothing is
    /// collected).
    ///
    /// A generation alone costs O(types) plus a walk of the smaller side: the permanent
    /// generation's share is kept per type (`TypeRegistry.frozenCounts`); generation 0, 1 or 2
    /// is either walked, or found as the totals less the frozen share less the other two of
    /// them, walked, whichever lists fewer objects; when that is a quarter of the table or more,
    /// one pass over the records in memory order instead (after collections and reuse of freed
    /// slots a list can be in random memory order, and a walk of it then waits on every record:
    /// 16 times slower here). Automatic collection keeps generations 0 and 1 small (below
    /// threshold 0 and about threshold 0 × threshold 1), so on a big heap every generation's rows
    /// come from O(types + those two), not a pass over every object. Generations outside 0-3
    /// are refused.
    public func typeHistogram(session: SessionID? = nil, generation: Int? = nil) throws(HeapError) -> [TypeCount] {
        if let session { try checkSession(session) }
        if let generation, !(0...3).contains(generation) { throw .generationOutOfRange(generation) }
        var rows: [TypeCount]
        if session == nil && generation == nil {
            rows = histogram().map { TypeCount(type: $0.type, count: $0.count, bytes: $0.bytes) }
        } else {
            // Counted by type id in flat arrays (no hashing per object), then merged by name.
            var counts = [Int](repeating: 0, count: types.entries.count)
            var bytes = [UInt64](repeating: 0, count: types.entries.count)
            if let session {
                for s in Set(sessions[session]!.frames.lazy.flatMap(\.keys))
                where generation == nil || table.generation(of: s) == generation {
                    let t = Int(table.records[Int(s)].type)
                    counts[t] += 1
                    bytes[t] += table.size(s)
                }
            } else {
                countGeneration(generation!, &counts, &bytes)
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

    /// Objects and bytes per type id in generation `g` (3: permanent), into zeroed arrays.
    private func countGeneration(_ g: Int, _ counts: inout [Int], _ bytes: inout [UInt64]) {
        if g == 3 {
            counts = types.frozenCounts
            bytes = types.frozenBytes
            return
        }
        let others = (0...2).filter { $0 != g }
        let direct = table.generationSize(g) <= others.reduce(0) { $0 + table.generationSize($1) }
        // A list walk waits on one record per object in list order, which after collections and
        // reuse of freed slots can be random: past a quarter of the table (as the collector's own
        // passes decide) one pass over the records in memory order is faster.
        let walked =
            direct ? table.generationSize(g) : table.generationSize(others[0]) + table.generationSize(others[1])
        if walked >= (table.records.count - Int(ObjectTable.reservedSlots)) / 4 {
            let generationOfCode = table.codes.generation
            table.records.withUnsafeBufferPointer { records in
                counts.withUnsafeMutableBufferPointer { counts in
                    bytes.withUnsafeMutableBufferPointer { bytes in
                        for s in Int(ObjectTable.reservedSlots)..<records.count
                        where records[s].flags.contains(.live)
                            && Int(generationOfCode[Int(records[s].listCode)]) == g
                        {
                            let t = Int(records[s].type)
                            counts[t] += 1
                            bytes[t] += table.size(Slot(s), records[s])
                        }
                    }
                }
            }
            return
        }
        if direct {
            walkGeneration(g) { t, size in
                counts[t] += 1
                bytes[t] += size
            }
            return
        }
        for t in counts.indices {
            counts[t] = types.counts[t] - types.frozenCounts[t]
            bytes[t] = types.bytes[t] - types.frozenBytes[t]
        }
        for o in others {
            walkGeneration(o) { t, size in
                counts[t] -= 1
                bytes[t] -= size
            }
        }
    }

    /// Each object of generation `g` (0-2), in list order: its type id and size.
    private func walkGeneration(_ g: Int, _ body: (Int, UInt64) -> Void) {
        let head = ListHead.generation(g)
        var s = table.records[Int(head)].gcNext
        while s != head {
            let r = table.records[Int(s)]
            body(Int(r.type), table.size(s, r))
            s = r.gcNext
        }
    }
}
