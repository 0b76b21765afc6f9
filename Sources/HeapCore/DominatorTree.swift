/// The dominator tree of the heap graph plus one virtual root with an edge to every object a
/// root holder holds (SPEC §5), with each object's retained set (what it dominates, itself
/// included) counted and summed.
///
/// Built by SEMI-NCA (Georgiadis; Lengauer-Tarjan's semidominators, then immediate dominators as
/// nearest common ancestors), every step iterative: O(edges · log) time, 6 words per reachable
/// object beyond the graph. A value: valid for the heap it was built from, so a server caches it
/// until the heap changes.
public struct DominatorTree: Sendable {
    public struct Entry: Sendable, Equatable {
        public var id: ObjectID
        /// The immediate dominator; nil: the virtual root (a holder holds it, or two holders'
        /// paths meet only there).
        public var idom: ObjectID?
        public var retainedCount: Int
        public var retainedBytes: UInt64
    }

    public let graph: HeapGraph
    /// Per slot: its DFS preorder number (0 is the virtual root; -1: unreachable).
    let preorder: [Int32]
    /// Per preorder number: the slot, the immediate dominator's number, the retained totals.
    let vertex: [Slot]
    let idom: [Int32]
    let retainedCount: [Int]
    let retainedBytes: [UInt64]

    /// Objects in the tree (reachable from a holder).
    public var reachableCount: Int { vertex.count - 1 }

    /// The entry of one object; nil when it is not live or not reachable.
    public func entry(_ id: ObjectID) -> Entry? {
        guard let s = graph.slot(of: id), preorder[Int(s)] > 0 else { return nil }
        return entry(preorder: Int(preorder[Int(s)]))
    }

    func entry(preorder i: Int) -> Entry {
        let d = Int(idom[i])
        return Entry(
            id: graph.id(vertex[i]), idom: d == 0 ? nil : graph.id(vertex[d]),
            retainedCount: retainedCount[i], retainedBytes: retainedBytes[i])
    }

    /// The `limit` reachable objects with the most retained bytes (the smaller id on a tie).
    /// O(n log limit): a bounded min-heap whose root is the weakest entry kept.
    public func top(_ limit: Int) -> [Entry] {
        func weaker(_ a: Int, _ b: Int) -> Bool {
            retainedBytes[a] != retainedBytes[b]
                ? retainedBytes[a] < retainedBytes[b] : graph.ids[Int(vertex[a])] > graph.ids[Int(vertex[b])]
        }
        var heap: [Int] = []
        heap.reserveCapacity(min(limit, vertex.count))
        func siftDown(_ start: Int) {
            var i = start
            while true {
                let l = 2 * i + 1
                let r = l + 1
                var m = i
                if l < heap.count && weaker(heap[l], heap[m]) { m = l }
                if r < heap.count && weaker(heap[r], heap[m]) { m = r }
                if m == i { return }
                heap.swapAt(i, m)
                i = m
            }
        }
        for i in 1..<max(1, vertex.count) {
            if heap.count < limit {
                heap.append(i)
                var c = heap.count - 1
                while c > 0, weaker(heap[c], heap[(c - 1) / 2]) {
                    heap.swapAt(c, (c - 1) / 2)
                    c = (c - 1) / 2
                }
            } else if let weakest = heap.first, weaker(weakest, i) {
                heap[0] = i
                siftDown(0)
            }
        }
        return heap.sorted { weaker($1, $0) }.map { entry(preorder: $0) }
    }
}
