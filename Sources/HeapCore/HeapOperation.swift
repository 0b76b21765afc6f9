/// Every way the heap can change, as a value: what the server applies, what the journal
/// records, and what recovery replays. The heap is deterministic (ids, session ids, automatic
/// collections all follow from the sequence of operations), so replaying the operations that
/// succeeded rebuilds exactly the same heap.
public enum HeapOperation: Sendable {
    case openSession(name: String?)
    case closeSession(SessionID)
    case transferReferences(from: SessionID, to: SessionID)
    case enterScope(SessionID)
    case exitScope(SessionID)
    case allocate(AllocationSpec, session: SessionID)
    case ref(ObjectID, session: SessionID)
    case unref(ObjectID, session: SessionID)
    /// `data`: nil leaves it, `.some(nil)` removes it.
    case set(ObjectID, fields: [(name: String, target: ObjectID?)], data: [UInt8]??, size: UInt64?)
    case weakref(ObjectID, callback: Bool, fields: [(name: String, target: ObjectID)], session: SessionID)
    case collect(generation: Int)
    case setRoot(String, ObjectID?)
    case configureGC(enabled: Bool?, thresholds: [Int]?, debug: GCState.DebugFlags?)
    case freeze
    case unfreeze
    case clearGarbage
    /// Gives a named session a lease (nil removes it).
    case setLease(SessionID, seconds: Double?)
    /// An `apply` batch, journaled whole (with its `$k` arguments as given): replay runs it
    /// through the same code, with the same deferred collection.
    case batch([BatchOp], atomic: Bool, session: SessionID)
    /// What a refused `set` kept (`HeapError.noSuchField`): the failed delete's interning of
    /// `field` in the type's keys, or the object's own dict (CPython 3.11's failed `del`).
    case failedDelete(ObjectID, field: String)
    /// The daemon's clock moved on (seconds since 1970): allocations from here on record it.
    case tick(UInt32)
}

/// What an applied operation returns.
public enum OperationOutcome: Sendable, Equatable {
    case done
    case object(ObjectID)
    case refcount(Int)
    case session(SessionID)
    case depth(Int)
    case collected(CollectResult)
    case previousRoot(ObjectID?)
    case cleared(Int)
    case batch(BatchOutcome)

    /// Whether the heap may have changed (else the operation needs no journal record).
    public var changedHeap: Bool {
        if case .batch(let b) = self { return b.successes > 0 }
        return true
    }
}

extension Heap {
    /// Ends one operation, however it was run (`apply`, or a typed call such as `allocate`):
    /// types left without a live object are forgotten now (TypeRegistry.forgetUnused).
    public mutating func endOperation() {
        types.forgetUnused()
    }

    /// Applies one operation: all of it, or (throwing) none of it.
    public mutating func apply(_ op: HeapOperation, events: inout HeapEvents) throws(HeapError) -> OperationOutcome {
        defer { endOperation() }
        switch op {
        case .openSession(let name):
            return .session(try openSession(name: name))
        case .closeSession(let s):
            try closeSession(s, events: &events)
            return .done
        case .transferReferences(let from, let to):
            try transferReferences(from: from, to: to)
            return .done
        case .enterScope(let s):
            return .depth(try enterScope(s))
        case .exitScope(let s):
            return .depth(try exitScope(s, events: &events))
        case .allocate(let spec, let s):
            return .object(try allocate(spec, session: s, events: &events))
        case .ref(let id, let s):
            return .refcount(try ref(id, session: s))
        case .unref(let id, let s):
            return .refcount(try unref(id, session: s, events: &events))
        case .set(let id, let fields, let data, let size):
            return .refcount(try set(id, fields: fields, data: data, size: size, events: &events))
        case .weakref(let id, let callback, let fields, let s):
            return .object(try weakref(to: id, callback: callback, fields: fields, session: s, events: &events))
        case .collect(let g):
            return .collected(try collect(generation: g, events: &events))
        case .setRoot(let name, let id):
            return .previousRoot(try setRoot(name, to: id, events: &events))
        case .configureGC(let enabled, let thresholds, let debug):
            if let thresholds { try setThresholds(thresholds) }
            if let enabled { setEnabled(enabled) }
            if let debug { setDebug(debug) }
            return .done
        case .freeze:
            freeze()
            return .done
        case .unfreeze:
            unfreeze()
            return .done
        case .clearGarbage:
            return .cleared(clearGarbage(events: &events))
        case .setLease(let s, let seconds):
            try setLease(s, seconds: seconds)
            return .done
        case .batch(let ops, let atomic, let s):
            return .batch(try applyBatch(ops, atomic: atomic, session: s, events: &events))
        case .failedDelete(let id, let field):
            try replayFailedDelete(id, field: field)
            return .done
        case .tick(let seconds):
            setClock(seconds)
            return .done
        }
    }
}
