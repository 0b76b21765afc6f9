/// Each slot's type name as the heap had it when this was taken, for answers computed after the
/// heap's lock is released (the dominators' top list names each object's type). 4 bytes per
/// slot plus the type-name table.
public struct SlotTypes: Sendable {
    let typeOfSlot: [UInt32]
    let names: [String]

    /// The type of a live object of the graph taken at the same time.
    public func name(of id: ObjectID, in graph: HeapGraph) -> String {
        guard let s = graph.slot(of: id) else { return "" }
        return names[Int(typeOfSlot[Int(s)])]
    }
}
