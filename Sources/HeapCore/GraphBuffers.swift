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

    public init(of graph: HeapGraph, names: FieldNames, types: SlotTypes) {
        (ids, sizes, start, successors) = (graph.ids, graph.sizes, graph.successorStart, graph.successors)
        (typeOfSlot, keys) = (types.typeOfSlot, names.edgeKeys)
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
