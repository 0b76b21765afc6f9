/// `apply`: many small operations in one request, in order, each atomic on its own; or, with
/// `atomic`, all of them or (throwing) none.
///
/// Automatic collection: a plain batch collects exactly where the same ops sent one by one
/// would (inside the allocation that crosses threshold 0, `_PyObject_GC_Link`), so it is the
/// ops as CPython runs them. An atomic batch holds collection until its last op (one that fell
/// due runs once then, if still due): its dry run predicts refcount frees only, and a
/// collection in the middle could free an object a later op names (garbage can be named by id:
/// `ref` saves it), breaking all-or-none after ops were applied; predicting the collector, or
/// copying the heap to roll back, would cost far more than the batch. A documented deviation
/// (SPEC §1.1): an atomic batch counts as one operation for automatic collection.
extension Heap {
    public mutating func applyBatch(
        _ ops: [BatchOp], atomic: Bool, session: SessionID,
        events: inout HeapEvents
    ) throws(HeapError) -> BatchOutcome {
        if atomic, let (i, error) = firstPredictedFailure(ops, session: session) {
            throw .batchOpFailed(op: i, name: ops[i].name, error)
        }
        var outcome = BatchOutcome()
        outcome.results.reserveCapacity(ops.count)
        let freedBefore = events.freedCount
        if atomic { beginCollectionDeferral() }
        for (i, op) in ops.enumerated() {
            let result = runBatchOp(op, at: i, of: ops, outcome.results, session, &events)
            outcome.results.append(result)
            if atomic, case .failed(let error) = result {
                outcome.brokenPrediction = .init(op: i, error: error)
                events.append(
                    .debug(
                        "apply: BUG: atomic op \(i) (\(op.name)) failed after its dry run "
                            + "predicted success (\(error)); the \(i) ops before it stay applied"))
                break
            }
        }
        // A plain batch's frees include its collections' (they ran inside its ops).
        outcome.freed = events.freedCount - freedBefore
        if atomic { endCollectionDeferral(&events) }
        return outcome
    }

    /// The dry run, in a function of its own so that its read-only copy of the heap is gone
    /// before the real run writes (a live copy would make that first write copy every array).
    private func firstPredictedFailure(_ ops: [BatchOp], session: SessionID) -> (Int, HeapError)? {
        var dryRun = BatchSimulation(self, session: session)
        let predicted = dryRun.run(ops, stoppingAtFirstFailure: true)
        guard case .failed(let error)? = predicted.results.last else { return nil }
        return (predicted.results.count - 1, error)
    }

    private mutating func runBatchOp(
        _ op: BatchOp, at i: Int, of ops: [BatchOp], _ results: [BatchOpOutcome],
        _ session: SessionID, _ events: inout HeapEvents
    ) -> BatchOpOutcome {
        do {
            switch try op.resolved(at: i, of: ops, results) {
            case .alloc(let type, let size, let site):
                return .object(
                    try allocate(AllocationSpec(type: type, size: size, site: site), session: session, events: &events))
            case .ref(let id):
                return .refcount(try ref(id, session: session))
            case .unref(let id):
                return .refcount(try unref(id, session: session, events: &events))
            case .set(let id, let field, let target):
                return .refcount(try set(id, fields: [(name: field, target: target)], events: &events))
            case .weakref(let id, let callback):
                return .object(try weakref(to: id, callback: callback, session: session, events: &events))
            }
        } catch {
            return .failed(error)
        }
    }
}

/// A batch op with its `$k` arguments replaced by ids.
enum ResolvedBatchOp {
    case alloc(type: String, size: UInt64?, site: String?)
    case ref(ObjectID)
    case unref(ObjectID)
    case set(ObjectID, field: String, target: ObjectID?)
    case weakref(ObjectID, callback: Bool)
}

extension BatchOp {
    /// Resolves `$k` against the outcomes of the ops before op `i` (the real ones, or the dry
    /// run's predictions: the same rules either way).
    func resolved(at i: Int, of ops: [BatchOp], _ results: [BatchOpOutcome]) throws(HeapError) -> ResolvedBatchOp {
        func id(_ t: BatchTarget) throws(HeapError) -> ObjectID {
            switch t {
            case .id(let id): return id
            case .result(let k):
                guard k < i else {
                    throw .batchForwardReference(op: i, target: k)
                }
                guard ops[k].producesID else {
                    throw .batchTargetNotAnObject(op: i, target: k, name: ops[k].name)
                }
                guard case .object(let id) = results[k] else {
                    throw .batchTargetFailed(op: i, target: k, name: ops[k].name)
                }
                return id
            }
        }
        switch self {
        case .alloc(let type, let size, let site): return .alloc(type: type, size: size, site: site)
        case .ref(let t): return .ref(try id(t))
        case .unref(let t): return .unref(try id(t))
        case .set(let t, let field, let target):
            let object = try id(t)
            return .set(object, field: field, target: try target.map { t throws(HeapError) in try id(t) })
        case .weakref(let t, let callback): return .weakref(try id(t), callback: callback)
        }
    }
}
