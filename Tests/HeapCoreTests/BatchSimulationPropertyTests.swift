import XCTest

@testable import HeapCore

/// The dry run of `apply` against what really happens: random heaps (fields, cycles, weakrefs
/// with fields, several sessions, roots, freed and reusable slots, quotas) and random batches
/// (frees, cascades, `$k`, bad ids, ids the batch itself will issue). The dry run must predict
/// every op's outcome (result, id or error) and the number of frees exactly.
final class BatchSimulationPropertyTests: XCTestCase {
    let types = ["Node", "Person", "Leaf"]
    let fieldNames = ["next", "a", "b", "partner", "x"]

    func testDryRunPredictsEveryOpExactly() throws {
        var atomicSuccesses = 0
        var reusedSlots = 0
        var cascades = 0
        var collectingBatches = 0
        for seed in 1...2000 {
            var rng = SplitMix64(seed: UInt64(seed))
            let (initial, session, known) = randomHeap(&rng)
            var heap = initial
            let ops = randomBatch(&rng, known: known, heap: heap)
            heap.setEnabled(false)  // one op at a time must not collect in between either
            var dryRun = BatchSimulation(heap, session: session)
            let predicted = dryRun.run(ops)

            var oneByOne = heap
            let (actual, freed) = runOneByOne(ops, on: &oneByOne, session: session)
            XCTAssertEqual(predicted.results, actual, "seed \(seed): \(ops)")
            XCTAssertEqual(predicted.freed, freed, "seed \(seed): frees")
            if freed > 1 { cascades += 1 }
            if actual.contains(where: {
                if case .object(let id) = $0 { return id.reuse > 0 }; return false
            }) {
                reusedSlots += 1
            }
            XCTAssertEqual(oneByOne.checkInvariants(), [], "seed \(seed)")

            // The batch itself, non-atomic, with automatic collection on: it collects exactly where
            // the same ops one by one do, so it ends byte for byte where they end.
            let threshold = rng.next() % 2 == 0 ? 3 : 700
            var batched = heap
            batched.setEnabled(true)
            try batched.setThresholds([threshold])
            var single = batched
            let (singleResults, _) = runOneByOne(ops, on: &single, session: session)
            var events = HeapEvents()
            let outcome = try batched.applyBatch(ops, atomic: false, session: session, events: &events)
            XCTAssertEqual(outcome.results, singleResults, "seed \(seed): non-atomic batch")
            XCTAssertEqual(snapshotBytes(batched), snapshotBytes(single), "seed \(seed): non-atomic batch")
            if threshold == 700 {
                XCTAssertEqual(outcome.results, actual, "seed \(seed): non-atomic batch")
                XCTAssertEqual(outcome.freed, freed, "seed \(seed): non-atomic frees")
            }
            if batched.gc.stats[0].collections > 0 { collectingBatches += 1 }
            XCTAssertEqual(batched.checkInvariants(), [], "seed \(seed)")

            // Atomic: all of it, or nothing at all (byte for byte).
            var atomic = heap
            let before = snapshotBytes(atomic)
            var atomicEvents = HeapEvents()
            if let failing = actual.firstIndex(where: { !$0.succeeded }) {
                XCTAssertThrowsError(try atomic.applyBatch(ops, atomic: true, session: session, events: &atomicEvents))
                {
                    guard case .batchOpFailed(let i, let name, let inner) = $0 as? HeapError,
                        case .failed(let expected) = actual[failing]
                    else { return XCTFail("seed \(seed): \($0)") }
                    XCTAssertEqual(i, failing, "seed \(seed)")
                    XCTAssertEqual(name, ops[failing].name)
                    XCTAssertEqual(inner, expected)
                }
                XCTAssertTrue(atomicEvents.isEmpty, "seed \(seed): an aborted batch reports nothing")
                XCTAssertEqual(snapshotBytes(atomic), before, "seed \(seed): an aborted batch changes nothing")
            } else {
                let o = try atomic.applyBatch(ops, atomic: true, session: session, events: &atomicEvents)
                XCTAssertEqual(o.results, actual, "seed \(seed): atomic batch")
                XCTAssertNil(o.brokenPrediction)
                atomicSuccesses += 1
                XCTAssertEqual(snapshotBytes(atomic), snapshotBytes(oneByOne), "seed \(seed)")
            }
            XCTAssertEqual(atomic.checkInvariants(), [], "seed \(seed)")
        }
        // The seeds must reach the interesting cases.
        XCTAssertGreaterThan(atomicSuccesses, 100)
        XCTAssertGreaterThan(reusedSlots, 50)
        XCTAssertGreaterThan(cascades, 80)
        XCTAssertGreaterThan(collectingBatches, 100)
        print("batches: \(atomicSuccesses) atomic successes, \(reusedSlots) reusing slots, \(cascades) cascades")
    }

    // MARK: the reference: each op through the heap's own single-op methods

    func runOneByOne(_ ops: [BatchOp], on heap: inout Heap, session: SessionID) -> ([BatchOpOutcome], Int) {
        var events = HeapEvents()
        var results: [BatchOpOutcome] = []
        for (i, op) in ops.enumerated() {
            func id(_ t: BatchTarget) throws(HeapError) -> ObjectID {
                guard case .result(let k) = t else { if case .id(let id) = t { return id }; fatalError() }
                guard k < i else { throw .batchForwardReference(op: i, target: k) }
                guard ops[k].producesID else {
                    throw .batchTargetNotAnObject(op: i, target: k, name: ops[k].name)
                }
                guard case .object(let id) = results[k] else {
                    throw .batchTargetFailed(op: i, target: k, name: ops[k].name)
                }
                return id
            }
            do {
                switch op {
                case .alloc(let type, let size, let site):
                    results.append(
                        .object(
                            try heap.allocate(AllocationSpec(type: type, size: size, site: site), session: session, events: &events)
                        ))
                case .ref(let t):
                    results.append(.refcount(try heap.ref(try id(t), session: session)))
                case .unref(let t):
                    results.append(.refcount(try heap.unref(try id(t), session: session, events: &events)))
                case .set(let t, let field, let target):
                    let object = try id(t)
                    let value = try target.map { t throws(HeapError) in try id(t) }
                    results.append(
                        .refcount(try heap.set(object, fields: [(name: field, target: value)], events: &events)))
                case .weakref(let t, let callback):
                    results.append(
                        .object(try heap.weakref(to: try id(t), callback: callback, session: session, events: &events)))
                }
            } catch {
                results.append(.failed(error))
            }
        }
        return (results, events.freedCount)
    }

    // MARK: random heaps and batches

    func randomHeap(_ rng: inout SplitMix64) -> (Heap, SessionID, [ObjectID]) {
        var heap = Heap()
        heap.setEnabled(false)
        var events = HeapEvents(freedIDLimit: 0)
        let me = try! heap.openSession()
        let other = try! heap.openSession(name: "other")
        // Sometimes enough churn that allocation reuses freed slots (ids with a reuse count).
        if rng.next() % 3 == 0 {
            let n = 1024 + Int(rng.next() % 40)
            let churn = (0..<n).map { _ in
                try! heap.allocate(AllocationSpec(type: "Churn"), session: me, events: &events)
            }
            for id in churn { _ = try! heap.unref(id, session: me, events: &events) }
        }
        var ids: [ObjectID] = []
        for _ in 0..<(4 + Int(rng.next() % 12)) {
            let s = rng.next() % 4 == 0 ? other : me
            if !ids.isEmpty && rng.next() % 5 == 0 {
                let w = try! heap.weakref(
                    to: ids.randomElement(using: &rng)!, callback: rng.next() % 2 == 0, session: s, events: &events)
                ids.append(w)
            } else {
                let spec = AllocationSpec(
                    type: types.randomElement(using: &rng)!, size: rng.next() % 3 == 0 ? rng.next() % 100 : nil,
                    finalizer: rng.next() % 3 == 0)
                ids.append(try! heap.allocate(spec, session: s, events: &events))
            }
        }
        for _ in 0..<(ids.count * 2) {  // fields, cycles included (weakref objects have fields too)
            let a = ids.randomElement(using: &rng)!
            let b = ids.randomElement(using: &rng)!
            guard heap.contains(a), heap.contains(b) else { continue }
            _ = try! heap.set(a, fields: [(name: fieldNames.randomElement(using: &rng)!, target: b)], events: &events)
        }
        for id in ids where rng.next() % 3 == 0 && heap.contains(id) {
            if rng.next() % 4 == 0 { try! heap.setRoot("r\(id)", to: id, events: &events) }
            if rng.next() % 2 == 0 { _ = try! heap.ref(id, session: me) }
        }
        for id in ids where rng.next() % 3 == 0 && heap.contains(id) {
            _ = try? heap.unref(id, session: me, events: &events)  // frees some, leaves cycles
        }
        if rng.next() % 2 == 0 { _ = try! heap.collect(generation: 0, events: &events) }
        if rng.next() % 4 == 0 {
            heap.limits = HeapLimits(
                maxObjects: heap.objectCount + Int(rng.next() % 4),
                maxBytes: heap.totalBytes + rng.next() % 150)
        }
        return (heap, me, ids)
    }

    func randomBatch(_ rng: inout SplitMix64, known: [ObjectID], heap: Heap) -> [BatchOp] {
        let count = 1 + Int(rng.next() % (rng.next() % 2 == 0 ? 4 : 40))
        let newest = heap.allObjects().max()?.raw ?? 0
        func target(_ i: Int) -> BatchTarget {
            switch rng.next() % 10 {
            case 0...4: return .id(known.randomElement(using: &rng) ?? ObjectID(raw: 1))
            case 5...7: return .result(Int(rng.next() % UInt64(i + 2)))  // sometimes itself or later
            case 8: return .id(ObjectID(raw: newest + 1 + rng.next() % 3))  // an id the batch may issue
            default: return .id(ObjectID(raw: (rng.next() % 3 + 1) << 32 | (rng.next() % 20 + 1)))
            }
        }
        return (0..<count).map { i in
            switch rng.next() % 10 {
            case 0, 1:
                let type = rng.next() % 15 == 0 ? "weakref" : types.randomElement(using: &rng)!
                return .alloc(type: type, size: rng.next() % 3 == 0 ? rng.next() % 80 : nil)
            case 2: return .ref(target(i))
            case 3, 4: return .unref(target(i))
            case 5, 6, 7:
                let field = rng.next() % 8 == 0 ? "new\(rng.next() % 3)" : fieldNames.randomElement(using: &rng)!
                return .set(target(i), field: field, target: rng.next() % 4 == 0 ? nil : target(i))
            default: return .weakref(target(i), callback: rng.next() % 2 == 0)
            }
        }
    }

    func snapshotBytes(_ h: Heap) -> [UInt8] {
        var out: [UInt8] = []
        h.writeSnapshot { out.append(contentsOf: $0) }
        return out
    }
}
