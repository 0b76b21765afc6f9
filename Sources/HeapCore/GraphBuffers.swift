/// The arrays of a graph that was dropped, kept for the next capture to write into: their pages
/// are mapped already, so the next capture does not fault them in again (at ten million objects
/// that is most of what a capture costs). Arrays that something else still reads (a request
/// searching the old graph, a dominator tree built from it) are left to it: the capture then
/// gets new ones, as it would have anyway.
public struct GraphBuffers: Sendable {
    var ids: [UInt64]
    var sizes: [UInt64]
    var typeOfSlot: [UInt32]
    var start: [UInt32]
    var successors: [Slot]
    var keys: [UInt32]
    /// The derived arrays, taken from a dropped graph.
    public var derived = Derived()

    /// What the graph's users derive from it: its reverse edges (``HeapGraph/predecessors()``)
    /// and a path search's distances (``PathSearchScratch``).
    public struct Derived: Sendable {
        var predecessorStart: [UInt32] = []
        var predecessors: [Slot] = []
        var distances: [Int32] = []

        public var hasReverseEdges: Bool { predecessors.capacity > 0 }

        /// Arrays with room for the reverse edges of a graph of a heap of `size`, their pages
        /// written (``Array/resident(capacity:faulted:)``): made while the capture is taken, on
        /// the core it leaves idle, for the index that computes them after (``CapturedGraph``).
        public static func reverseEdges(for size: Heap.GraphCaptureSize) -> Derived {
            Derived(
                predecessorStart: .resident(capacity: size.slotCapacity + 1),
                predecessors: .resident(capacity: size.fieldCapacity))
        }
    }

    public init(of graph: HeapGraph, names: FieldNames, types: SlotTypes) {
        (ids, sizes, start, successors) = (graph.ids, graph.sizes, graph.successorStart, graph.successors)
        (typeOfSlot, keys) = (types.typeOfSlot, names.edgeKeys)
        derived = graph.derivedBuffers
    }

    /// Empty arrays with room for a capture of a heap of `size` (``Heap/graphCaptureSize``), their
    /// pages already written, in two halves of about the same bytes made at once by `both`.
    /// Made outside the heap's lock, they take the page faults that a first capture would
    /// otherwise take a slice at a time inside it (at ten million objects, most of its time).
    /// The derived arrays are not made here: a path is searched without them
    /// (``HeapGraph/shortestPathsFromHolders(to:limit:budget:)``), and the reverse edges are
    /// computed after the reply, for the referrer index.
    public static func resident(for size: Heap.GraphCaptureSize, both: BothAtOnce) -> GraphBuffers {
        let (slots, fields) = (size.slotCapacity, size.fieldCapacity)
        // 20 bytes per slot on one side, 4 per slot and 8 per field on the other.
        let (perSlot, perField) = Heap.results(
            of: {
                (
                    [UInt64].resident(capacity: slots), [UInt64].resident(capacity: slots),
                    [UInt32].resident(capacity: slots + 1)
                )
            },
            and: {
                (
                    [UInt32].resident(capacity: slots), [Slot].resident(capacity: fields),
                    [UInt32].resident(capacity: fields)
                )
            },
            through: both)
        return GraphBuffers(
            ids: perSlot.0, sizes: perSlot.1, typeOfSlot: perField.0, start: perSlot.2,
            successors: perField.1, keys: perField.2)
    }

    private init(
        ids: [UInt64], sizes: [UInt64], typeOfSlot: [UInt32], start: [UInt32], successors: [Slot], keys: [UInt32]
    ) {
        (self.ids, self.sizes, self.typeOfSlot, self.start, self.successors, self.keys) =
            (ids, sizes, typeOfSlot, start, successors, keys)
    }

    /// The reverse edges of a retired ``ReferrerIndex`` made from the graph these arrays came
    /// from: the same storage, which this then holds alone, so the next capture writes into it.
    public mutating func takeReverseEdges(of index: consuming ReferrerIndex) {
        (derived.predecessorStart, derived.predecessors) = (index.start, index.sources)
    }

    /// Empties every array, keeping its storage when nothing else holds it.
    mutating func empty() {
        ids.removeAll(keepingCapacity: true)
        sizes.removeAll(keepingCapacity: true)
        typeOfSlot.removeAll(keepingCapacity: true)
        start.removeAll(keepingCapacity: true)
        successors.removeAll(keepingCapacity: true)
        keys.removeAll(keepingCapacity: true)
    }
}
