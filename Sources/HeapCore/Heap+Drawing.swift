/// `graph`: what a picture of the heap shows (SPEC §5), objgraph style. Read only: the
/// collector never runs, nothing changes, live garbage is drawn like anything else.
extension Heap {
    /// With `id`: the object, its referents to `depth` steps and its referrers to `depth` steps
    /// (a root holder counts as a referrer of what it holds; a weakref object as a referrer of
    /// its referent, and its referent as its referent). Without: the whole heap, breadth first
    /// from the root holders (in holder order), then what they do not reach, by id (`depth` is
    /// not used). Either way at most `maxNodes` objects and holders, nearest first; a node whose
    /// neighbours were left out for lack of room gets a "N more" node and the drawing is
    /// `truncated`. Every edge between drawn nodes is drawn (at most `10 × maxNodes`, else
    /// `truncated`); members of a cycle of the heap (a strongly connected component with more
    /// than one object or a self-edge, the whole heap considered, as `cycles` finds them) carry
    /// its number.
    ///
    /// Cost: referrers have no index, so one is built per call (the CSR graph and its reverse,
    /// ~30 bytes per slot and 8 per field): O(objects + fields). The search is O(drawn nodes +
    /// their edges); the cycles are looked for only in what the drawn objects reach.
    public func drawing(around id: ObjectID?, depth: Int = 2, maxNodes: Int = 200) throws(HeapError) -> HeapDrawing {
        precondition(depth >= 0 && maxNodes >= 1, "depth ≥ 0, maxNodes ≥ 1")
        let focus = try id.map { id throws(HeapError) in try resolveLive(id) }
        var builder = DrawingBuilder(heap: self, maxNodes: maxNodes, referrers: focus != nil && depth > 0)
        if let focus {
            builder.search(from: focus, depth: depth)
        } else {
            builder.searchWholeHeap()
        }
        return builder.finish(focused: focus != nil)
    }
}

/// The breadth-first search behind ``Heap/drawing(around:depth:maxNodes:)``, over a graph whose
/// nodes are the objects and the root holders.
private struct DrawingBuilder {
    enum Key: Hashable {
        case object(Slot)
        /// Index into `graph.holders`.
        case holder(Int)
    }

    let heap: Heap
    let graph: HeapGraph
    let predecessors: (start: [UInt32], sources: [Slot])
    /// The holders of each held slot, in holder order.
    let holdersOf: [Slot: [Int]]
    let maxNodes: Int

    var keys: [Key] = []
    var index: [Key: Int] = [:]
    /// Per direction (0: referents, 1: referrers), the nodes queued for expansion in it.
    var queued: [Set<Key>] = [[], []]
    var queue: [(key: Key, forward: Bool, depth: Int)] = []
    /// The next entry of `queue` to expand.
    var cursor = 0
    var more: [(owner: Int, count: Int, referrers: Bool)] = []
    var truncated = false

    /// `referrers`: whether the search goes backwards (else the reverse graph is not built).
    init(heap: Heap, maxNodes: Int, referrers: Bool) {
        self.heap = heap
        self.maxNodes = maxNodes
        graph = heap.graph()
        predecessors = referrers ? graph.predecessors() : ([UInt32](repeating: 0, count: graph.slotCount + 1), [])
        var holdersOf: [Slot: [Int]] = [:]
        for (h, entry) in graph.holders.enumerated() {
            for s in entry.slots { holdersOf[s, default: []].append(h) }
        }
        self.holdersOf = holdersOf
    }

    var full: Bool { keys.count >= maxNodes }

    mutating func draw(_ key: Key) {
        index[key] = keys.count
        keys.append(key)
    }

    func referents(_ key: Key) -> [Key] {
        switch key {
        case .object(let s):
            var out = graph.successors[graph.edges(s)].map { Key.object($0) }
            if let r = heap.table.weakReferent[s], heap.table.isLive(r) { out.append(.object(r)) }
            return out
        case .holder(let h):
            return graph.holders[h].slots.map { .object($0) }
        }
    }

    func referrers(_ key: Key) -> [Key] {
        guard case .object(let s) = key else { return [] }
        let sources = predecessors.sources[Int(predecessors.start[Int(s)])..<Int(predecessors.start[Int(s) + 1])]
        return (holdersOf[s] ?? []).map { Key.holder($0) } + sources.map { .object($0) }
            + heap.table.weakrefs.weakrefs(to: s).map { .object($0) }
    }

    mutating func enqueue(_ key: Key, forward: Bool, depth: Int) {
        if queued[forward ? 0 : 1].insert(key).inserted { queue.append((key, forward, depth)) }
    }

    /// Runs the queue to its end: nodes are drawn while there is room; after that the queue
    /// still runs, to count what each node's "N more" leaves out.
    mutating func run(maxDepth: Int) {
        while cursor < queue.count {
            let (key, forward, depth) = queue[cursor]
            cursor += 1
            guard depth < maxDepth else { continue }
            var missing = Set<Key>()
            for n in forward ? referents(key) : referrers(key) {
                if index[n] == nil {
                    guard !full else {
                        missing.insert(n)
                        continue
                    }
                    draw(n)
                }
                enqueue(n, forward: forward, depth: depth + 1)
            }
            if !missing.isEmpty {
                more.append((index[key]!, missing.count, !forward))
                truncated = true
            }
        }
    }

    mutating func search(from focus: Slot, depth: Int) {
        draw(.object(focus))
        enqueue(.object(focus), forward: true, depth: 0)
        enqueue(.object(focus), forward: false, depth: 0)
        run(maxDepth: depth)
    }

    mutating func searchWholeHeap() {
        for h in graph.holders.indices {
            guard !full else {
                truncated = true
                break
            }
            draw(.holder(h))
            enqueue(.holder(h), forward: true, depth: 0)
        }
        run(maxDepth: .max)
        guard !full else {
            truncated = truncated || keys.count < graph.holders.count + heap.objectCount
            return
        }
        // What the holders do not reach (cycles kept only by themselves, garbage), by id.
        let ids = graph.ids
        let rest = (0..<graph.slotCount).map { Slot($0) }
            .filter { ids[Int($0)] != 0 && index[.object($0)] == nil }
            .sorted { ids[Int($0)] < ids[Int($1)] }
        for s in rest where index[.object(s)] == nil {
            guard !full else {
                truncated = true
                break
            }
            draw(.object(s))
            enqueue(.object(s), forward: true, depth: 0)
            run(maxDepth: .max)
        }
    }

    mutating func finish(focused: Bool) -> HeapDrawing {
        // Cycles of the whole heap, numbered in the order the picture first draws a member.
        var componentOf: [Slot: Int] = [:]
        let drawnObjects = keys.compactMap { if case .object(let s) = $0 { s } else { nil } }
        for (c, members) in graph.cycleComponents(reachedFrom: drawnObjects).enumerated() {
            for m in members where index[.object(m)] != nil { componentOf[m] = c }
        }
        var numbers: [Int: Int] = [:]
        var nodes: [HeapDrawing.Node] = []
        nodes.reserveCapacity(keys.count + more.count)
        for key in keys {
            switch key {
            case .holder(let h):
                nodes.append(.holder(graph.holders[h].holder))
            case .object(let s):
                let record = heap.table.records[Int(s)]
                let cycle = componentOf[s].map { c in
                    if let n = numbers[c] { return n }
                    numbers[c] = numbers.count
                    return numbers.count - 1
                }
                nodes.append(
                    .object(
                        .init(
                            id: graph.id(s), type: heap.typeName(s), refcount: Int(record.refcount),
                            size: graph.sizes[Int(s)], finalizer: record.flags.contains(.hasFinalizer),
                            isWeakref: record.flags.contains(.isWeakref), cycle: cycle)))
            }
        }
        var edges: [HeapDrawing.Edge] = []
        let maxEdges = 10 * maxNodes
        func add(_ from: Int, _ to: Int, _ kind: HeapDrawing.EdgeKind, inCycle: Bool = false) -> Bool {
            guard edges.count < maxEdges else {
                truncated = true
                return false
            }
            edges.append(.init(from: from, to: to, kind: kind, inCycle: inCycle))
            return true
        }
        edgeLoop: for (i, key) in keys.enumerated() {
            guard case .object(let s) = key else { continue }
            for h in holdersOf[s] ?? [] {
                if let j = index[.holder(h)], !add(j, i, .held) { break edgeLoop }
            }
            let range = graph.edges(s)
            for e in range {
                let t = graph.successors[e]
                guard let j = index[.object(t)] else { continue }
                let inCycle = componentOf[s] != nil && componentOf[s] == componentOf[t]
                if !add(i, j, .field(heap.fieldName(s, at: e - range.lowerBound)), inCycle: inCycle) {
                    break edgeLoop
                }
            }
            if let r = heap.table.weakReferent[s], let j = index[.object(r)], !add(i, j, .weak) { break edgeLoop }
        }
        for m in more {
            let node = nodes.count
            nodes.append(.more(count: m.count, referrers: m.referrers))
            edges.append(
                .init(from: m.referrers ? node : m.owner, to: m.referrers ? m.owner : node, kind: .more, inCycle: false)
            )
        }
        return HeapDrawing(nodes: nodes, edges: edges, truncated: truncated, focus: focused ? 0 : nil)
    }
}
