/// `path`: why is an object alive (SPEC §5).
public struct RetentionPath: Sendable, Equatable {
    public var holder: RootHolder
    /// From an object the holder holds to the object asked about, both included.
    public var ids: [ObjectID]
    /// `fields[i]` names the field of `ids[i]` that holds `ids[i + 1]`.
    public var fields: [String]
}

extension Heap {
    /// Up to `limit` shortest paths from distinct holders to `id`, shortest first (then by
    /// holder); empty when nothing holds it through strong edges (only a cycle or nothing keeps
    /// it: the collector would free it). O(objects + fields).
    public func retentionPaths(to id: ObjectID, limit: Int = 1) throws(HeapError) -> [RetentionPath] {
        let target = try resolveLive(id)
        return retentionPaths(in: graph(), to: target, limit: limit)
    }

    func retentionPaths(in g: HeapGraph, to target: Slot, limit: Int) -> [RetentionPath] {
        g.shortestPaths(to: target, limit: limit).map { p in
            RetentionPath(
                holder: p.holder, ids: p.slots.map { g.id($0) },
                fields: zip(p.slots, p.fieldIndices).map { fieldName($0, at: $1) })
        }
    }
}
