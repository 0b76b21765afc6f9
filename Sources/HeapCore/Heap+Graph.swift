/// Reading the heap through the inspection graph.
extension Heap {
    /// The name of field `index` (in field order) of a live object.
    func fieldName(_ slot: Slot, at index: Int) -> String {
        let entries = fieldEntries(slot)
        let key = FieldPool.key(entries[entries.startIndex + index])
        return types.keyName(key, of: table.records[Int(slot)].type)
    }

    /// The type of a live object.
    public func typeName(of id: ObjectID) throws(HeapError) -> String {
        typeName(try resolveLive(id))
    }
}

extension Heap {
    /// The dominator tree of the heap now (see ``DominatorTree``). O(objects + fields) · log.
    public func dominatorTree() -> DominatorTree { graph().dominatorTree() }
}
