/// The name of every edge of a graph taken at the same time, for answers computed after the
/// heap's lock is released (`path` names the fields of its paths). 4 bytes per edge, 4 per
/// slot, plus each type's key table (shared-keys order, a few names per type).
public struct FieldNames: Sendable {
    /// Per edge (as `HeapGraph.successors`): the field's key index in its type's table.
    let edgeKeys: [UInt32]
    let slotTypes: SlotTypes
    /// Per type: its field names by key index.
    let keyNames: [[String]]

    /// The name of field `index` (in field order) of the object at `slot`.
    func name(_ graph: HeapGraph, _ slot: Slot, _ index: Int) -> String {
        let key = edgeKeys[Int(graph.successorStart[Int(slot)]) + index]
        return keyNames[Int(slotTypes.typeOfSlot[Int(slot)])][Int(key)]
    }
}

extension HeapGraph {
    /// ``Heap/retentionPaths(to:limit:)`` on a graph taken earlier, with its field names.
    public func retentionPaths(to id: ObjectID, limit: Int, names: FieldNames) -> [RetentionPath] {
        guard let target = slot(of: id) else { return [] }
        return shortestPaths(to: target, limit: limit).map { p in
            RetentionPath(
                holder: p.holder, ids: p.slots.map { self.id($0) },
                fields: zip(p.slots, p.fieldIndices).map { names.name(self, $0, $1) })
        }
    }
}
