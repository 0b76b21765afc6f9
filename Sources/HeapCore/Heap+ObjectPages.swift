/// `objects`: live objects a page at a time, in table order (ascending slot, the low 32 bits of
/// an id; ids rise with it until slots are reused), filtered by generation and type.
///
/// A page costs the slots it scans, not the heap: the cursor is the last id returned, and the
/// next page starts at the slot after that id's, whether or not that object still lives.
/// Objects allocated into reused slots behind the cursor are not seen by a walk in progress, as
/// with Redis's SCAN (every object live for the whole walk is returned exactly once).
public struct ObjectPageEntry: Sendable, Equatable {
    public var id: ObjectID
    public var type: String
    public var size: UInt64
    public var refcount: Int
    public var generation: Int
}

/// Which session allocated an object: by id, or by the name it had then.
public enum AllocatingSession: Sendable, Equatable {
    case id(SessionID)
    case name(String)
}

extension Heap {
    public func objectsPage(
        after: ObjectID?, generation: Int?, type: String?, allocatedBy: AllocatingSession? = nil, limit: Int
    ) -> (objects: [ObjectPageEntry], next: ObjectID?) {
        var slot = ObjectTable.reservedSlots
        if let after, after.slotOrdinal > 0 {
            let (s, overflow) = after.slotOrdinal.addingReportingOverflow(ObjectTable.reservedSlots)
            slot = overflow ? Slot(table.records.count) : s
        }
        // A type name stands for up to two types (with and without a finalizer, as two Python
        // classes); one that no live object has: nothing to scan for.
        var typeIDs: [TypeID]?
        if let type {
            typeIDs = [false, true].compactMap { types.lookup(type, finalizer: $0) }
            if typeIDs!.isEmpty { return ([], nil) }
        }
        var page: [ObjectPageEntry] = []
        while Int(slot) < table.records.count {
            defer { slot += 1 }
            let r = table.records[Int(slot)]
            guard r.flags.contains(.live) else { continue }
            if let typeIDs, !typeIDs.contains(r.type) { continue }
            if let generation, table.generation(of: slot) != generation { continue }
            if let allocatedBy, !allocated(slot, by: allocatedBy) { continue }
            if page.count == limit { return (page, page.last?.id) }
            page.append(
                ObjectPageEntry(
                    id: table.id(of: slot), type: types.name(r.type), size: table.size(slot),
                    refcount: Int(r.refcount), generation: table.generation(of: slot)))
        }
        return (page, nil)
    }

    private func allocated(_ slot: Slot, by who: AllocatingSession) -> Bool {
        guard let origin = origins.origin(of: slot) else { return false }
        switch who {
        case .id(let id): return origin.session == id
        case .name(let name): return origin.sessionName == name
        }
    }
}
