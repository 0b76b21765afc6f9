/// `cycles`: reference cycles with the bytes they hold (SPEC §5).
public struct CycleComponent: Sendable, Equatable {
    /// The members, ascending.
    public var ids: [ObjectID]
    public var bytes: UInt64
}

extension Heap {
    /// With `id`: the component that holds it (none when it is in no cycle). Without: the
    /// `limit` largest components by bytes, then member count (more first), then smallest id.
    /// Live garbage is included. O(objects + fields).
    public func cycles(containing id: ObjectID? = nil, limit: Int = 20) throws(HeapError) -> [CycleComponent] {
        if let id { _ = try resolveLive(id) }
        return graph().cycles(containing: id, limit: limit)
    }
}

extension HeapGraph {
    /// ``Heap/cycles(containing:limit:)`` on a graph taken earlier (the id, if any, live in it).
    public func cycles(containing id: ObjectID? = nil, limit: Int = 20) -> [CycleComponent] {
        var found = cycleComponents()
        if let id {
            guard let wanted = slot(of: id) else { return [] }
            found = found.filter { $0.contains(wanted) }
        }
        let components = found.map { members in
            CycleComponent(
                ids: members.map { self.id($0) }.sorted(),
                bytes: members.reduce(0) { $0.saturatingAdd(sizes[Int($1)]) })
        }
        return components.sorted { a, b in
            if a.bytes != b.bytes { return a.bytes > b.bytes }
            if a.ids.count != b.ids.count { return a.ids.count > b.ids.count }
            return a.ids[0] < b.ids[0]
        }.prefix(limit).map { $0 }
    }
}
