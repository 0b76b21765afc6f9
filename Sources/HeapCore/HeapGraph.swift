import Synchronization

/// One holder of references outside the object graph (SPEC §5): a session (all its scopes), a
/// named root, the permanent generation, or `gc.garbage`.
///
/// An anonymous session has no name: it is told apart by its `session` id (the one `session.list`
/// shows). Holders order by kind (in the order of the cases), then name, anonymous sessions after
/// named ones by session id.
public struct RootHolder: Sendable, Hashable, Comparable {
    public enum Kind: Int, Sendable, Comparable {
        case session, root, permanent, garbage

        public var name: String {
            switch self {
            case .session: "session"
            case .root: "root"
            case .permanent: "permanent"
            case .garbage: "garbage"
            }
        }

        public static func < (a: Kind, b: Kind) -> Bool { a.rawValue < b.rawValue }
    }

    public var kind: Kind
    /// The session's or root's name (nil: an anonymous session, the permanent generation, gc.garbage).
    public var name: String?
    /// The session's id (sessions only).
    public var session: SessionID?

    /// Holders as found (``Heap/rootHolders()``) in holder order, each with its slots distinct
    /// and ascending by id.
    static func ordered(
        _ found: [(holder: RootHolder, slots: [Slot])], id: (Slot) -> UInt64
    ) -> [(holder: RootHolder, slots: [Slot])] {
        found.map { (holder: $0.holder, slots: Array(Set($0.slots)).sorted { id($0) < id($1) }) }
            .sorted { $0.holder < $1.holder }
    }

    public static func < (a: RootHolder, b: RootHolder) -> Bool {
        if a.kind != b.kind { return a.kind < b.kind }
        switch (a.name, b.name) {
        case let (x?, y?) where x != y: return x < y
        case (.some, nil): return true
        case (nil, .some): return false
        default: return (a.session?.raw ?? 0) < (b.session?.raw ?? 0)
        }
    }
}

/// The heap as a graph, for inspection: built once per call from the heap's tables, read-only
/// after (so it can outlive the heap's lock). Indexed by slot: nodes are the live objects, a
/// strong edge runs from an object to each object one of its fields holds, in field order
/// (weakref referents are not edges; a weakref object's own fields are). Adjacency is CSR: the
/// successors of slot `s` are `successors[successorStart[s]..<successorStart[s + 1]]`.
///
/// Memory: 8 (id) + 8 (size) + 4 (offset) bytes per slot and 4 per edge; `predecessors()` adds
/// 4 per slot and 4 per edge, once: they are kept with the graph (and its copies), as the
/// referrer index, `dominators`, drawings and `path`'s search from the target all need them.
public struct HeapGraph: Sendable {
    /// Per slot: the live object's id (raw 0: no live object there).
    let ids: [UInt64]
    let sizes: [UInt64]
    let successorStart: [UInt32]
    let successors: [Slot]
    /// Each holder with the slots it holds, distinct and ascending by id.
    let holders: [(holder: RootHolder, slots: [Slot])]
    private let reverse: ReverseEdges
    let searchScratch: PathSearchScratch

    /// `spare`: a dropped graph's arrays to write the reverse edges and search distances into.
    init(
        ids: [UInt64], sizes: [UInt64], successorStart: [UInt32], successors: [Slot],
        holders: [(holder: RootHolder, slots: [Slot])], spare: GraphBuffers.Derived = .init()
    ) {
        (self.ids, self.sizes, self.successorStart, self.successors, self.holders) =
            (ids, sizes, successorStart, successors, holders)
        reverse = ReverseEdges(spare: (spare.predecessorStart, spare.predecessors))
        searchScratch = PathSearchScratch(distances: spare.distances.isEmpty ? nil : spare.distances)
    }

    /// What was derived from the graph and can be written over by the next one's.
    var derivedBuffers: GraphBuffers.Derived {
        let reverse = reverse.computedOrSpare()
        return GraphBuffers.Derived(
            predecessorStart: reverse.start, predecessors: reverse.sources, distances: searchScratch.spare() ?? [])
    }

    var slotCount: Int { ids.count }

    @inline(__always) func isLive(_ s: Slot) -> Bool { ids[Int(s)] != 0 }

    @inline(__always) func edges(_ s: Slot) -> Range<Int> {
        Int(successorStart[Int(s)])..<Int(successorStart[Int(s) + 1])
    }

    func id(_ s: Slot) -> ObjectID { ObjectID(raw: ids[Int(s)]) }

    /// The live object's slot, or nil.
    func slot(of id: ObjectID) -> Slot? {
        guard id.isWellFormed else { return nil }
        let s = Int(id.slotOrdinal) - 1 + Int(ObjectTable.reservedSlots)
        return s < ids.count && ids[s] == id.raw ? Slot(s) : nil
    }

    /// Every slot some holder holds, distinct, ascending by id.
    func heldSlots() -> [Slot] {
        var seen = [Bool](repeating: false, count: slotCount)
        var out: [Slot] = []
        for (_, slots) in holders {
            for s in slots where !seen[Int(s)] {
                seen[Int(s)] = true
                out.append(s)
            }
        }
        return out.sorted { ids[Int($0)] < ids[Int($1)] }
    }

    /// The reverse graph in CSR form: computed by the first caller, kept for the others.
    func predecessors() -> (start: [UInt32], sources: [Slot]) {
        reverse.get { computePredecessors(into: &$0, unless: { false }) }!
    }

    /// Whether the reverse edges are computed already (false while a caller computes them).
    var hasPredecessors: Bool { reverse.isComputed }

    /// ``predecessors()``, or nil when `cancelled` says so before they are computed (asked every
    /// 2^16 slots or edges; nothing is then kept: the next caller computes them).
    func predecessors(unless cancelled: () -> Bool) -> (start: [UInt32], sources: [Slot])? {
        reverse.get { computePredecessors(into: &$0, unless: cancelled) }
    }

    /// A counting sort of the edges by target. O(slots + edges). `start` itself is the fill
    /// cursor (each target's entry ends at the next one's start, and moves back by one slot
    /// after), so no third array is faulted in: at ten million objects each is 40 MB.
    func predecessorsUncached() -> (start: [UInt32], sources: [Slot]) {
        var edges: (start: [UInt32], sources: [Slot]) = ([], [])
        _ = computePredecessors(into: &edges, unless: { false })
        return edges
    }

    /// Written into `edges`' storage when nothing else holds it (its pages are mapped already).
    /// False when `cancelled` stopped it.
    private func computePredecessors(
        into edges: inout (start: [UInt32], sources: [Slot]), unless cancelled: () -> Bool
    ) -> Bool {
        let checkEvery = 1 << 16
        edges.start.removeAll(keepingCapacity: true)
        edges.start.append(contentsOf: repeatElement(0, count: slotCount + 1))
        edges.sources.removeAll(keepingCapacity: true)
        edges.sources.append(contentsOf: repeatElement(0, count: successors.count))
        return edges.start.withUnsafeMutableBufferPointer { start in
            successors.withUnsafeBufferPointer { succ in
                successorStart.withUnsafeBufferPointer { succStart in
                    for (i, t) in succ.enumerated() {
                        if i % checkEvery == 0 && cancelled() { return false }
                        start[Int(t)] += 1
                    }
                    var sum: UInt32 = 0  // start[t] = the end of t's entries
                    for i in 0..<slotCount {
                        sum += start[i]
                        start[i] = sum
                    }
                    start[slotCount] = sum
                    return edges.sources.withUnsafeMutableBufferPointer { sources in
                        // Backwards, filling each target's entries from its end: each ends in
                        // ascending source order, and start[t] ends at t's first entry.
                        for s in stride(from: slotCount - 1, through: 0, by: -1) {
                            if s % checkEvery == 0 && cancelled() { return false }
                            for e in stride(from: Int(succStart[s + 1]) - 1, through: Int(succStart[s]), by: -1) {
                                let t = Int(succ[e])
                                start[t] -= 1
                                sources[Int(start[t])] = Slot(s)
                            }
                        }
                        return true
                    }
                }
            }
        }
    }
}

/// A graph's reverse edges, computed once by whichever caller asks first (concurrent callers
/// wait for it rather than compute it twice).
private final class ReverseEdges: Sendable {
    typealias Edges = (start: [UInt32], sources: [Slot])
    /// Before the first caller: arrays to compute into (empty when none); after: the edges.
    private let state: Mutex<(computed: Bool, edges: Edges)>

    init(spare: Edges) { state = Mutex((false, spare)) }

    /// The edges, computed first if no caller has yet; nil when `compute` gave up (false).
    func get(_ compute: (_ into: inout Edges) -> Bool) -> Edges? {
        state.withLock { state in
            if !state.computed {
                guard compute(&state.edges) else { return nil }
                state.computed = true
            }
            return state.edges
        }
    }

    /// The edges, or the spare arrays when no one asked for them; nothing while a search is
    /// computing them. Called by a change of the heap, inside the heap's lock
    /// (``GraphBuffers/init(of:names:types:)``): waiting for the computation here would make
    /// every client wait for it.
    func computedOrSpare() -> Edges { state.withLockIfAvailable { $0.edges } ?? ([], []) }

    var isComputed: Bool { state.withLockIfAvailable { $0.computed } ?? false }
}
