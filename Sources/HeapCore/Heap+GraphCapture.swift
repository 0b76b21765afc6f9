import Synchronization

/// Capture tokens, unique in the process: a heap restored from a snapshot, or a copy of one,
/// never takes another heap's capture (or the ``ReferrerIndex`` made from it) for its own.
enum GraphCaptureTokens {
    private static let last = Atomic<UInt64>(0)
    static func next() -> UInt64 { last.add(1, ordering: .relaxed).newValue }
}

/// Taking the heap's graph (``GraphCapture``): in one piece, or a slice at a time with the
/// heap's changes noted in between.
extension Heap {
    /// Starts a capture a slice at a time; the heap notes changes to captured slots until it
    /// finishes. A capture started later, or a heap restored from a snapshot meanwhile, makes
    /// this one start again at its next slice. `buffers` (a dropped graph's) are written into.
    public mutating func beginGraphCapture(reusing buffers: consuming GraphBuffers? = nil) -> GraphCapture {
        let token = GraphCaptureTokens.next()
        table.changes = SlotChanges(token: token)
        return emptyCapture(token: token, reusing: buffers)
    }

    /// Captures up to `slots` more slots. True when every slot the table had when the capture
    /// began is captured: then call `finishGraphCapture` (before the heap changes or not).
    public mutating func continueGraphCapture(_ c: inout GraphCapture, slots: Int) -> Bool {
        if table.changes?.token != c.token { c = beginGraphCapture() }
        let end = min(c.next + max(slots, 1), c.goal)
        captureSlots(upTo: end, into: &c)
        table.changes!.capturedBelow(end)
        return end >= c.goal
    }

    /// Captures the slots left, takes the changed ones again and the root holders. Changes are
    /// then noted afresh, from the graph's moment on, for a ``ReferrerIndex`` made from it, until
    /// another capture begins or `stopNotingChanges` (a few thousand changes at most: see
    /// ``ReferrerIndex/changeLimit(slots:)``). O(slots left + changed slots and their fields +
    /// held references).
    public mutating func finishGraphCapture(_ capture: consuming GraphCapture) -> CapturedGraph {
        var c = consume capture
        if table.changes?.token != c.token { c = beginGraphCapture() }
        captureSlots(upTo: table.records.count, into: &c)
        let changed = table.changes!.slots
        table.changes = SlotChanges(
            following: c.token, slotCount: table.records.count,
            limit: ReferrerIndex.changeLimit(slots: table.records.count))
        return finished(consume c, retaking: changed)
    }

    /// Stops noting the changes since capture `token` (its index is dropped); another capture's
    /// notes are left alone.
    public mutating func stopNotingChanges(since token: UInt64) {
        if table.changes?.token == token { table.changes = nil }
    }

    /// The graph, its field names and its slots' types, taken in one piece. O(slots + fields).
    public func capturedGraph() -> (graph: HeapGraph, names: FieldNames, types: SlotTypes) {
        var c = emptyCapture(token: 0)
        captureSlots(upTo: table.records.count, into: &c)
        return finished(consume c, retaking: []).assemble()
    }

    /// The heap as a graph with its root holders. O(slots + fields + held references).
    public func graph() -> HeapGraph { capturedGraph().graph }

    private func emptyCapture(token: UInt64, reusing buffers: consuming GraphBuffers? = nil) -> GraphCapture {
        var c = GraphCapture(token: token)
        if var b = consume buffers {
            b.empty()
            (c.ids, c.sizes, c.typeOfSlot, c.start, c.successors, c.keys, c.derived) =
                (b.ids, b.sizes, b.typeOfSlot, b.start, b.successors, b.keys, b.derived)
        }
        c.goal = table.records.count
        let size = graphCaptureSize
        c.ids.reserveCapacity(size.slotCapacity)
        c.sizes.reserveCapacity(size.slotCapacity)
        c.typeOfSlot.reserveCapacity(size.slotCapacity)
        c.start.reserveCapacity(size.slotCapacity + 1)
        c.successors.reserveCapacity(size.fieldCapacity)
        c.keys.reserveCapacity(size.fieldCapacity)
        return c
    }

    /// How much room a graph capture of the heap reserves: the table as it is and some growth,
    /// so that appends never copy under the lock and a dropped graph's arrays still fit the
    /// next capture of a heap that grew a little. The pool's entries bound the live fields.
    public struct GraphCaptureSize: Sendable {
        public let slotCapacity: Int
        public let fieldCapacity: Int
    }

    public var graphCaptureSize: GraphCaptureSize {
        let (slots, fields) = (table.records.count, fieldPool.entries.count)
        return GraphCaptureSize(slotCapacity: slots + slots / 16 + 1, fieldCapacity: fields + fields / 16)
    }

    /// Appends slots `c.next..<end`, in memory order.
    private func captureSlots(upTo end: Int, into c: inout GraphCapture) {
        let reserved = Int(ObjectTable.reservedSlots)
        table.records.withUnsafeBufferPointer { records in
            fieldPool.entries.withUnsafeBufferPointer { pool in
                for s in c.next..<end {
                    c.start.append(UInt32(truncatingIfNeeded: c.successors.count))
                    let r = records[s]
                    let node = s >= reserved ? nodeValues(Slot(s), r) : (id: 0, size: 0, type: 0)
                    c.ids.append(node.id)
                    c.sizes.append(node.size)
                    c.typeOfSlot.append(node.type)
                    guard node.id != 0 else { continue }
                    for entry in pool[Int(r.fieldsAt)..<Int(r.fieldsAt) + Int(r.fieldCount)] {
                        c.successors.append(FieldPool.target(entry))
                        c.keys.append(FieldPool.key(entry))
                    }
                }
            }
        }
        precondition(c.successors.count < Int(UInt32.max), "too many fields for the inspection graph")
        c.next = max(c.next, end)
    }

    /// What the graph holds of an object slot's record: its object's id, size and type, or
    /// zeros for a free slot.
    @inline(__always)
    private func nodeValues(_ slot: Slot, _ r: ObjectRecord) -> (id: UInt64, size: UInt64, type: UInt32) {
        guard r.flags.contains(.live) else { return (0, 0, 0) }
        return (table.id(of: slot, r).raw, table.size(slot, r), UInt32(r.type))
    }

    /// A fully captured `c` with the `changed` slots taken again, and the holders. Consumed, so
    /// that its arrays are written in place, never copied.
    private func finished(_ capture: consuming GraphCapture, retaking changed: [Slot]) -> CapturedGraph {
        var c = consume capture
        c.start.append(UInt32(c.successors.count))
        var patches: [CapturedGraph.Patch] = []
        for slot in changed {
            let s = Int(slot)
            let node = nodeValues(slot, table.records[s])
            (c.ids[s], c.sizes[s], c.typeOfSlot[s]) = node
            let entries = node.id != 0 ? fieldEntries(slot) : []
            let was = Int(c.start[s])..<Int(c.start[s + 1])
            if entries.count == was.count {
                for (i, entry) in zip(was, entries) {
                    c.successors[i] = FieldPool.target(entry)
                    c.keys[i] = FieldPool.key(entry)
                }
            } else {
                patches.append(
                    CapturedGraph.Patch(
                        slot: slot, targets: entries.map(FieldPool.target), keys: entries.map(FieldPool.key)))
            }
        }
        return CapturedGraph(
            capture: c, retakenSlots: changed.count, patches: patches, holders: rootHolders(),
            typeNames: types.entries.map(\.name),
            keyNames: types.entries.map(\.keys))
    }

    /// Every holder that holds something, with what it holds, as found (unordered, with
    /// repeats): `RootHolder.ordered` makes them what the graph and the export show.
    func rootHolders() -> [(holder: RootHolder, slots: [Slot])] {
        var out: [(holder: RootHolder, slots: [Slot])] = []
        for (sid, refs) in sessions {
            let held = Array(refs.frames.lazy.flatMap(\.keys))
            if !held.isEmpty { out.append((RootHolder(kind: .session, name: refs.name, session: sid), held)) }
        }
        for (name, slot) in roots { out.append((RootHolder(kind: .root, name: name), [slot])) }
        let frozen = table.listSlots(ListHead.permanent)
        if !frozen.isEmpty { out.append((RootHolder(kind: .permanent), frozen)) }
        if !garbage.isEmpty { out.append((RootHolder(kind: .garbage), garbage)) }
        return out
    }
}

extension Heap {
    /// Stops noting changes for a capture that will not be finished.
    public mutating func abandonGraphCapture() { table.changes = nil }

    /// Slots of the object table, free ones included (what a graph capture walks).
    public var slotCount: Int { table.records.count }
}
