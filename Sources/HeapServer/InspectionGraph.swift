import Foundation
import HeapCore

/// The heap's graph as the graph methods last took it (`path`, `cycles`, `dominators`,
/// `histogram {retained}`), with what they needed beside it, kept until the heap changes: a
/// second question about an unchanged heap (an editor asking why several objects are alive)
/// takes nothing under the heap's lock. At most one graph is kept (about 28 bytes per slot and
/// 4 per field, plus 4 per field for names and 4 per slot for types once asked for).
struct InspectionGraph: Sendable {
    let version: UInt64
    let graph: HeapGraph
    var names: FieldNames?
    var types: SlotTypes?
}

extension ServerState {
    /// The graph of the heap now, with field names and slot types if asked: cached, or taken
    /// here (under the heap's lock: O(objects + fields)).
    mutating func inspectionGraph(
        names wantNames: Bool = false, types wantTypes: Bool = false
    ) -> (graph: HeapGraph, names: FieldNames?, types: SlotTypes?) {
        var g: InspectionGraph
        if let cached = cachedGraph, cached.version == heapVersion {
            g = cached
        } else {
            let taken = heap.graph(names: wantNames, types: wantTypes)  // one pass for all three
            g = InspectionGraph(version: heapVersion, graph: taken.graph, names: taken.names, types: taken.types)
        }
        if (wantTypes || wantNames) && g.types == nil { g.types = heap.slotTypes() }
        if wantNames && g.names == nil { g.names = heap.fieldNames(of: g.graph, types: g.types) }
        cachedGraph = g
        return (g.graph, g.names, g.types)
    }

    /// A change of the heap drops the cached graph. Its memory (hundreds of megabytes at ten
    /// million objects) is released on another thread, not inside the heap's lock.
    mutating func dropInspectionGraph() {
        guard let stale = cachedGraph else { return }
        cachedGraph = nil
        Self.releaseLater(stale)
    }

    /// Frees `value` (a graph, a dominator tree) on another thread.
    static func releaseLater(_ value: some Sendable) {
        DispatchQueue.global(qos: .utility).async { withExtendedLifetime(value) {} }
    }
}
