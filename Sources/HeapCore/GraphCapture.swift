/// The heap's graph (``HeapGraph``), its field names and its slots' types, taken a slice of slots
/// at a time, so that a daemon can release the heap's lock between slices: at ten million objects
/// the whole take is half a second of page faults and memory traffic, which other clients would
/// otherwise wait through.
///
/// Slots are captured in ascending order. While a capture is under way the heap notes every
/// captured slot whose liveness, id, size or fields change (``SlotChanges``, the write barrier);
/// `Heap.finishGraphCapture` captures the remaining slots and takes the noted ones again, so the
/// graph is the heap exactly as it was at the finish, as if taken in one piece then. Root holders
/// are taken at the finish too. Memory: as ``HeapGraph`` plus 4 bytes per edge (names) and 4 per
/// slot (types), and the change list (4 bytes per changed slot, a bit per slot).
public struct GraphCapture: Sendable {
    /// Which heap capture this is (``SlotChanges/token``); 0: taken in one piece, untracked.
    let token: UInt64
    /// Slots below this are captured.
    public internal(set) var next = 0
    /// The table's size when the capture began: slices stop there, so that a heap growing by
    /// more than a slice between slices does not keep the capture from finishing; the finish
    /// takes what was added since in one piece.
    var goal = 0
    var ids: [UInt64] = []
    var sizes: [UInt64] = []
    var typeOfSlot: [UInt32] = []
    /// Where each captured slot's edges start; the finish appends the end of the last.
    var start: [UInt32] = []
    var successors: [Slot] = []
    /// Per edge: the field's key index in its type's table.
    var keys: [UInt32] = []
    /// A dropped graph's derived arrays, handed on to the graph this capture makes.
    var derived = GraphBuffers.Derived()

    init(token: UInt64) { self.token = token }
}

/// A finished capture, taken under the heap's lock; `assemble()` makes the graph from it, after
/// the lock is released.
public struct CapturedGraph: Sendable {
    /// A slot that changed after it was captured, with its fields now (in field order), when
    /// their number changed (a same-sized change was written over the captured edges).
    struct Patch: Sendable {
        let slot: Slot
        let targets: [Slot]
        let keys: [UInt32]
    }

    var capture: GraphCapture
    /// Which capture it was: a ``ReferrerIndex`` made from its graph follows the heap's changes
    /// since under this token.
    public var token: UInt64 { capture.token }
    /// Slots that changed after their slice and were taken again at the finish.
    public let retakenSlots: Int
    var patches: [Patch]
    /// Each holder with what it holds, as taken: unordered, with repeats.
    var holders: [(holder: RootHolder, slots: [Slot])]
    let typeNames: [String]
    let keyNames: [[String]]

    /// Arrays for the graph's reverse edges, when the capture has none (a dropped graph's).
    public mutating func adoptReverseEdgeArrays(_ made: consuming GraphBuffers.Derived) {
        guard !capture.derived.hasReverseEdges else { return }
        (capture.derived.predecessorStart, capture.derived.predecessors) = (made.predecessorStart, made.predecessors)
    }

    /// The graph, its field names and its slots' types. O(1) beyond the holders when no slot's
    /// field count changed during the capture; else O(slots + fields), to splice the patches in.
    public consuming func assemble() -> (graph: HeapGraph, names: FieldNames, types: SlotTypes) {
        var c = capture
        if !patches.isEmpty { Self.splice(patches.sorted { $0.slot < $1.slot }, into: &c) }
        let ids = c.ids
        let holders = RootHolder.ordered(holders) { ids[Int($0)] }
        let graph = HeapGraph(
            ids: c.ids, sizes: c.sizes, successorStart: c.start, successors: c.successors, holders: holders,
            spare: c.derived)
        let types = SlotTypes(typeOfSlot: c.typeOfSlot, names: typeNames)
        return (graph, FieldNames(edgeKeys: c.keys, slotTypes: types, keyNames: keyNames), types)
    }

    /// Rebuilds the edge arrays with each patched slot's edges replaced (patches by slot).
    private static func splice(_ patches: [Patch], into c: inout GraphCapture) {
        let n = c.ids.count
        var start: [UInt32] = []
        var successors: [Slot] = []
        var keys: [UInt32] = []
        start.reserveCapacity(n + 1)
        successors.reserveCapacity(c.successors.count)
        keys.reserveCapacity(c.keys.count)
        var p = 0
        for s in 0..<n {
            start.append(UInt32(successors.count))
            if p < patches.count && patches[p].slot == Slot(s) {
                successors += patches[p].targets
                keys += patches[p].keys
                p += 1
            } else {
                let range = Int(c.start[s])..<Int(c.start[s + 1])
                successors += c.successors[range]
                keys += c.keys[range]
            }
        }
        precondition(successors.count < Int(UInt32.max), "too many fields for the inspection graph")
        start.append(UInt32(successors.count))
        (c.start, c.successors, c.keys) = (start, successors, keys)
    }
}
