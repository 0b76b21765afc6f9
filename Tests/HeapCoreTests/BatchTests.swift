import XCTest

@testable import HeapCore

/// `apply` in the core: `$k`, automatic collection (where single ops collect; an atomic batch's
/// held to its end), the journal form, and replay.
final class BatchTests: HeapTestCase {
    func testDollarReferencesBuildACycleInOneBatch() throws {
        let ops: [BatchOp] = [
            .alloc(type: "Node", size: nil), .alloc(type: "Node", size: nil),
            .set(.result(0), field: "next", target: .result(1)), .set(.result(1), field: "next", target: .result(0)),
            .unref(.result(0)), .unref(.result(1)), .ref(.result(4)),
        ]
        let o = try heap.applyBatch(ops, atomic: false, session: session, events: &events)
        XCTAssertEqual(
            o.results.prefix(6),
            [
                .object(ObjectID(raw: 1)), .object(ObjectID(raw: 2)),
                .refcount(1), .refcount(2), .refcount(1), .refcount(1),
            ])
        XCTAssertEqual(o.results[6], .failed(.batchTargetNotAnObject(op: 6, target: 4, name: "unref")))
        XCTAssertEqual(o.failures, 1)
        XCTAssertEqual(try heap.collect(events: &events).collected, 2)
    }

    func testPlainBatchCollectsWhereSingleOpsDo() throws {
        // Threshold 5, 20 allocations: gen-0 collections at the 6th, 12th and 18th, count
        // (2, 3, 0), as in CPython 3.11 and as the same allocations one by one.
        heap.setEnabled(true)
        try heap.setThresholds([5])
        var oneByOne = heap
        let ops = [BatchOp](repeating: .alloc(type: "Node", size: nil), count: 20)
        _ = try heap.applyBatch(ops, atomic: false, session: session, events: &events)
        XCTAssertEqual(heap.gc.stats[0].collections, 3)
        XCTAssertEqual(heap.gc.counts, [2, 3, 0])
        var single = HeapEvents()
        for _ in 0..<20 { _ = try oneByOne.allocate(AllocationSpec(type: "Node"), session: session, events: &single) }
        XCTAssertEqual(oneByOne.gc.stats[0].collections, 3)
        XCTAssertEqual(oneByOne.gc.counts, [2, 3, 0])
        func generations(_ e: HeapEvents) -> [Int] {
            e.events.compactMap {
                if case .gcStop(let r) = $0 { return r.generation }; return nil
            }
        }
        XCTAssertEqual(generations(events), [0, 0, 0])
        XCTAssertEqual(generations(single), [0, 0, 0])
    }

    func testAtomicBatchHoldsCollectionUntilItsEndAndRunsItOnce() throws {
        heap.setEnabled(true)
        try heap.setThresholds([5])
        let ops = [BatchOp](repeating: .alloc(type: "Node", size: nil), count: 20)
        _ = try heap.applyBatch(ops, atomic: true, session: session, events: &events)
        XCTAssertEqual(heap.gc.stats[0].collections, 1)
        XCTAssertEqual(heap.gc.counts, [0, 1, 0])
        XCTAssertEqual(
            events.events.filter {
                if case .gcStart = $0 { return true }; return false
            }.count, 1)
        if case .gcStop? = events.events.last {} else { XCTFail("the collection comes last: \(events.events)") }
    }

    func testNoCollectionWhenFreesBroughtTheCountBackUnderTheThreshold() throws {
        heap.setEnabled(true)
        try heap.setThresholds([3])
        let ops: [BatchOp] = (0..<4).map { _ in .alloc(type: "Node", size: nil) } + (0..<4).map { .unref(.result($0)) }
        let o = try heap.applyBatch(ops, atomic: true, session: session, events: &events)
        XCTAssertEqual(o.freed, 4)
        XCTAssertEqual(heap.gc.stats[0].collections, 0)
    }

    func testAtomicBatchThatWouldFailChangesNothing() {
        let a = alloc()
        XCTAssertThrowsError(
            try heap.applyBatch(
                [.unref(.id(a)), .ref(.id(a))], atomic: true,
                session: session, events: &events)
        ) {
            XCTAssertEqual($0 as? HeapError, .batchOpFailed(op: 1, name: "ref", .noSuchObject(a, .freed)))
            XCTAssertEqual(($0 as? HeapError)?.description, "ops[1] (ref): object \(a) was freed")
        }
        XCTAssertTrue(events.isEmpty)
        XCTAssertEqual(refcount(a), 1)
    }

    func testBatchJournalFormRoundTripsAndReplaysExactly() throws {
        let keep = alloc("Keep")
        let ops: [BatchOp] = [
            .alloc(type: "T", size: 12), .alloc(type: "T", size: nil),
            .set(.result(0), field: "f", target: .result(1)), .set(.id(keep), field: "g", target: .result(0)),
            .set(.id(keep), field: "gone", target: nil), .weakref(.result(1), callback: true),
            .unref(.result(1)), .unref(.result(0)), .ref(.id(ObjectID(raw: 99))), .unref(.id(keep)),
        ]
        let op = HeapOperation.batch(ops, atomic: false, session: session)
        var w = BinaryWriter()
        op.encode(into: &w)
        let decoded = try w.bytes.withUnsafeBytes { raw in
            var r = BinaryReader(raw)
            return try HeapOperation.decode(from: &r)
        }
        guard case .batch(let again, false, let s) = decoded else { return XCTFail("\(decoded)") }
        XCTAssertEqual(again, ops)
        XCTAssertEqual(s, session)

        var replica = heap
        let original = try heap.apply(op, events: &events)
        var replayEvents = HeapEvents()
        let replayed = try replica.apply(decoded, events: &replayEvents)
        XCTAssertEqual(original, replayed)
        XCTAssertEqual(events.freedIDs, replayEvents.freedIDs)
        XCTAssertEqual(snapshotBytes(replica), snapshotBytes(heap))
        XCTAssertFalse(OperationOutcome.batch(BatchOutcome()).changedHeap)
    }

    func snapshotBytes(_ h: Heap) -> [UInt8] {
        var out: [UInt8] = []
        h.writeSnapshot { out.append(contentsOf: $0) }
        return out
    }
}
