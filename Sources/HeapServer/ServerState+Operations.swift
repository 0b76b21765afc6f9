import HeapCore

/// The heap's changes as typed calls: each runs the typed `Heap` function and journals the
/// operation after it succeeded (`Heap.apply(HeapOperation)` is for replay only).
extension ServerState {
    mutating func allocate(
        _ spec: AllocationSpec, session: SessionID,
        _ events: inout HeapEvents
    ) throws -> ObjectID {
        try change(.allocate(spec, session: session)) { heap throws(HeapError) in
            try heap.allocate(spec, session: session, events: &events)
        }
    }

    mutating func ref(_ id: ObjectID, session: SessionID) throws -> Int {
        try change(.ref(id, session: session)) { heap throws(HeapError) in try heap.ref(id, session: session) }
    }

    mutating func unref(_ id: ObjectID, session: SessionID, _ events: inout HeapEvents) throws -> Int {
        try change(.unref(id, session: session)) { heap throws(HeapError) in
            try heap.unref(id, session: session, events: &events)
        }
    }

    mutating func set(
        _ id: ObjectID, fields: [(name: String, target: ObjectID?)], data: [UInt8]??, size: UInt64?,
        _ events: inout HeapEvents
    ) throws -> Int {
        do {
            return try change(.set(id, fields: fields, data: data, size: size)) { heap throws(HeapError) in
                try heap.set(id, fields: fields, data: data, size: size, events: &events)
            }
        } catch HeapError.noSuchField(let id, let field) {
            // Refused, but the name was interned (as CPython's failed `del`): journal that much
            // (within the room reserved for the `set` record, which is larger).
            journal?.record(.failedDelete(id, field: field))
            throw HeapError.noSuchField(id, field: field)
        }
    }

    mutating func weakref(
        to id: ObjectID, callback: Bool, fields: [(name: String, target: ObjectID)],
        session: SessionID, _ events: inout HeapEvents
    ) throws -> ObjectID {
        try change(.weakref(id, callback: callback, fields: fields, session: session)) { heap throws(HeapError) in
            try heap.weakref(to: id, callback: callback, fields: fields, session: session, events: &events)
        }
    }

    /// An `apply` batch; journaled unless every op failed (then nothing changed).
    mutating func applyBatch(
        _ ops: [BatchOp], atomic: Bool, session: SessionID,
        _ events: inout HeapEvents
    ) throws -> BatchOutcome {
        defer { heap.endOperation() }
        heapChanged()
        let operation = HeapOperation.batch(ops, atomic: atomic, session: session)
        try journal?.reserve(for: operation)
        let failedDeletes = heap.failedDeletes
        let outcome = try heap.applyBatch(ops, atomic: atomic, session: session, events: &events)
        if outcome.successes > 0 || heap.failedDeletes != failedDeletes { journal?.record(operation) }
        return outcome
    }

    mutating func collect(generation: Int, _ events: inout HeapEvents) throws -> CollectResult {
        try change(.collect(generation: generation)) { heap throws(HeapError) in
            try heap.collect(generation: generation, events: &events)
        }
    }

    mutating func setRoot(_ name: String, to id: ObjectID?, _ events: inout HeapEvents) throws -> ObjectID? {
        try change(.setRoot(name, id)) { heap throws(HeapError) in try heap.setRoot(name, to: id, events: &events) }
    }

    mutating func configureGC(enabled: Bool?, thresholds: [Int]?, debug: GCState.DebugFlags?) throws {
        try change(.configureGC(enabled: enabled, thresholds: thresholds, debug: debug)) { heap throws(HeapError) in
            if let thresholds { try heap.setThresholds(thresholds) }
            if let enabled { heap.setEnabled(enabled) }
            if let debug { heap.setDebug(debug) }
        }
    }

    mutating func freeze() throws {
        try change(.freeze) { $0.freeze() }
    }

    mutating func unfreeze() throws {
        try change(.unfreeze) { $0.unfreeze() }
    }

    mutating func clearGarbage(_ events: inout HeapEvents) throws -> Int {
        try change(.clearGarbage) { $0.clearGarbage(events: &events) }
    }

    mutating func enterScope(_ session: SessionID) throws -> Int {
        try change(.enterScope(session)) { heap throws(HeapError) in try heap.enterScope(session) }
    }

    mutating func exitScope(_ session: SessionID, _ events: inout HeapEvents) throws -> Int {
        try change(.exitScope(session)) { heap throws(HeapError) in try heap.exitScope(session, events: &events) }
    }

    mutating func openSession(name: String?) throws -> SessionID {
        try change(.openSession(name: name), keepsGraph: true) { heap throws(HeapError) in
            try heap.openSession(name: name)
        }
    }

    mutating func closeSession(_ session: SessionID, _ events: inout HeapEvents) throws {
        let holdsNothing = heap.referenceCount(of: session) == 0
        try change(.closeSession(session), keepsGraph: holdsNothing) { heap throws(HeapError) in
            try heap.closeSession(session, events: &events)
        }
    }

    mutating func transferReferences(from: SessionID, to: SessionID) throws {
        try change(.transferReferences(from: from, to: to)) { heap throws(HeapError) in
            try heap.transferReferences(from: from, to: to)
        }
    }

    mutating func setLease(_ session: SessionID, seconds: Double?) throws {
        try change(.setLease(session, seconds: seconds)) { heap throws(HeapError) in
            try heap.setLease(session, seconds: seconds)
        }
    }
}
