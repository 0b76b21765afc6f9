import HeapCore

/// The benchmarks' live graph: a chain (`next`) of `n` two-field objects, each also holding one
/// random older object (`other`); the session ends holding only the newest. Returns its id.
func buildLiveChain(
    _ heap: inout Heap, _ n: Int, seed: UInt64, session: SessionID, events: inout HeapEvents,
    created: inout [ObjectID]
) throws -> ObjectID? {
    var rng = SplitMix64(seed: seed)
    var next: ObjectID?
    for _ in 0..<n {
        var fields: [(name: String, target: ObjectID)] = []
        if let next { fields.append(("next", next)) }
        if !created.isEmpty { fields.append(("other", created[Int(rng.next() % UInt64(created.count))])) }
        let id = try heap.allocate(AllocationSpec(type: "Node", fields: fields), session: session, events: &events)
        if let next { _ = try heap.unref(next, session: session, events: &events) }
        created.append(id)
        next = id
    }
    return next
}
