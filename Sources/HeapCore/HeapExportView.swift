/// The heap as the nodes and edges of a V8 heap snapshot (`export`), taken inside the heap's lock
/// and read-only after, so the text can be written once the lock is released.
///
/// Node order: the synthetic root, one synthetic node per root holder (in holder order), then
/// every live object in slot order (its *ordinal*). Names are indexes into `strings` (each
/// distinct name once). An object's edges are its fields in field order (CSR: the edges of
/// ordinal `o` are `edgeName/edgeTarget[edgeStart[o]..<edgeStart[o + 1]]`), then, for a weakref,
/// one weak edge to its referent (`weak`, ascending by source). Targets are slots, as the heap
/// stores them: ``ordinals()`` maps them to objects outside the lock.
///
/// Memory: 24 bytes per object and 8 per field, plus the strings.
public struct HeapExportView: Sendable {
    /// One root holder: a synthetic node with an edge to each object it holds.
    public struct Holder: Sendable {
        /// The node's name (`(session alice)`, `(root config)`, `(permanent generation)`, `(gc.garbage)`).
        public let name: UInt32
        /// A named root's edge is a property edge named by the root; other holders' edges are
        /// elements numbered from 0.
        public let propertyName: UInt32?
        /// Slots of the objects it holds, distinct, ascending by id.
        public let targets: [Slot]
    }

    /// Distinct strings; index 0 is "".
    public let strings: [String]
    /// Slots of the heap's table when the view was taken (the range of every target).
    public let slotCount: Int
    /// Per ordinal: heapd id, type name (string index), size.
    public let ids: [UInt64]
    public let typeNames: [UInt32]
    public let sizes: [UInt64]
    public let edgeStart: [UInt32]
    public let edgeName: [UInt32]
    public let edgeTarget: [UInt32]
    /// Weakref → referent, by slot, ascending by source (a cleared weakref has none).
    public let weak: [(source: Slot, target: Slot)]
    /// The name of every weak edge (string index).
    public let weakName: UInt32
    public let holders: [Holder]

    public var objectCount: Int { ids.count }

    /// The slot of the object at `ordinal` (its id's low 32 bits name it).
    @inline(__always) func slot(ofOrdinal ordinal: Int) -> Slot {
        UInt32(truncatingIfNeeded: ids[ordinal]) - 1 + ObjectTable.reservedSlots
    }

    /// Slot → ordinal of every live object (`UInt32.max` elsewhere): O(slots), outside the lock.
    public func ordinals() -> [UInt32] {
        var map = [UInt32](repeating: .max, count: slotCount)
        for o in 0..<ids.count { map[Int(slot(ofOrdinal: o))] = UInt32(o) }
        return map
    }

    /// Nodes in the snapshot: root, holders, objects.
    public var nodeCount: Int { 1 + holders.count + ids.count }

    /// Edges in the snapshot: root → holders, holders → objects, fields, weak referents.
    public var edgeCount: Int {
        holders.count + holders.reduce(0) { $0 + $1.targets.count } + edgeName.count + weak.count
    }
}
