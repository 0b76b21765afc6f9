/// What only one session keeps alive (`histogram {session, retained: true}`).
extension HeapGraph {
    /// By type, the live objects that `session`'s references reach and that no other root
    /// holder reaches: what closing the session would free (cycles among them included, once
    /// collected). Two breadth-first searches over the strong edges: first from every other
    /// holder, then from the session's objects through what the first did not reach.
    /// O(slots + edges), 1 byte per slot.
    public func keptAliveOnly(by session: SessionID, types: SlotTypes) -> [TypeCount] {
        var mark = [UInt8](repeating: 0, count: slotCount)  // 1: another holder reaches it; 2: only the session
        var queue: [Slot] = []
        func search(from starts: [Slot], marking value: UInt8) {
            queue.removeAll(keepingCapacity: true)
            for s in starts where mark[Int(s)] == 0 {
                mark[Int(s)] = value
                queue.append(s)
            }
            var next = 0
            while next < queue.count {
                let s = queue[next]
                next += 1
                for e in edges(s) {
                    let t = successors[e]
                    if mark[Int(t)] == 0 {
                        mark[Int(t)] = value
                        queue.append(t)
                    }
                }
            }
        }
        let mine = holders.filter { $0.holder.kind == .session && $0.holder.session == session }
        search(from: holders.filter { !($0.holder.kind == .session && $0.holder.session == session) }
            .flatMap(\.slots), marking: 1)
        search(from: mine.flatMap(\.slots), marking: 2)
        var rows: [String: TypeCount] = [:]
        for s in queue {
            let name = types.names[Int(types.typeOfSlot[Int(s)])]
            var row = rows[name] ?? TypeCount(type: name, count: 0, bytes: 0)
            row.count += 1
            row.bytes = row.bytes.saturatingAdd(sizes[Int(s)])
            rows[name] = row
        }
        return rows.values.sorted { $0.bytes != $1.bytes ? $0.bytes > $1.bytes : $0.type < $1.type }
    }
}
