/// `leaks`: leak candidates in one answer, as Eclipse MAT's "leak suspects" report: the objects
/// that alone keep the most bytes alive (the dominator tree's top), and what no root holder
/// reaches any more: live garbage, and the cycles among it that keep it alive until a
/// collection (objgraph's `get_leaking_objects`). The third kind, types that grow, comes from a
/// snapshot diff (`CensusDiff.byType`). Computed from a dominator tree, after the heap's lock.
public struct LeakSuspects: Sendable {
    /// The `limit` objects with the most retained bytes.
    public var retainers: [DominatorTree.Entry]
    /// Live objects no holder reaches, and their bytes.
    public var unreachableCount = 0
    public var unreachableBytes: UInt64 = 0
    /// The largest cycles among them (by bytes, then members, then smallest id).
    public var garbageCycles: [CycleComponent]

    public init(_ tree: DominatorTree, limit: Int) {
        let g = tree.graph
        retainers = tree.top(limit)
        for s in 0..<g.slotCount where g.ids[s] != 0 && tree.preorder[s] < 0 {
            unreachableCount += 1
            unreachableBytes = unreachableBytes.saturatingAdd(g.sizes[s])
        }
        // A strongly connected component is reachable as a whole or not at all.
        let garbage = g.cycleComponents().filter { tree.preorder[Int($0[0])] < 0 }
        garbageCycles = garbage.map { members in
            CycleComponent(
                ids: members.map { g.id($0) }.sorted(),
                bytes: members.reduce(0) { $0.saturatingAdd(g.sizes[Int($1)]) })
        }.sorted { a, b in
            if a.bytes != b.bytes { return a.bytes > b.bytes }
            if a.ids.count != b.ids.count { return a.ids.count > b.ids.count }
            return a.ids[0] < b.ids[0]
        }.prefix(limit).map { $0 }
    }
}
