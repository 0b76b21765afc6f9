/// Taking a census (`snapshot.save`): read only, the collector never runs.
extension Heap {
    /// What is alive now, garbage included. One pass over the object table: O(slots), no
    /// allocation per object (the stream grows by a few bytes per slot).
    public func census() -> HeapCensus {
        var writer = BinaryWriter(capacity: table.records.count * 3)
        var censusType = [Int32](repeating: -1, count: types.entries.count)
        var typeNames: [String] = []
        var objects = 0
        var bytes: UInt64 = 0
        for s in table.objectSlots {
            let r = table.records[Int(s)]
            guard r.flags.contains(.live) else {
                writer.u8(0)
                continue
            }
            var index = censusType[Int(r.type)]
            if index < 0 {
                index = Int32(typeNames.count)
                censusType[Int(r.type)] = index
                typeNames.append(types.name(r.type))
            }
            let size = table.size(s)
            writer.varint(UInt64(r.reuse) + 1)
            writer.varint(UInt64(index))
            writer.varint(size)
            objects += 1
            bytes = bytes.saturatingAdd(size)
        }
        return HeapCensus(
            typeNames: typeNames, slots: writer.takeBytes(), slotCount: table.objectSlots.count,
            objects: objects, bytes: bytes)
    }
}
