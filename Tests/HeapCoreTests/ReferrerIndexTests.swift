import XCTest

@testable import HeapCore

/// `referrers` and `inspect` answered from a ``ReferrerIndex`` (a finished capture's reverse
/// edges read with the changes since) must list exactly the holders a pass over the heap finds,
/// after any operations, until the index stops being current; both in the documented order.
final class ReferrerIndexTests: XCTestCase {
    /// Every live object's holders, by the index and by the scan.
    func assertIndexAnswers(_ heap: Heap, _ index: ReferrerIndex, _ context: String) {
        for id in heap.allObjects() {
            let slot = try! heap.resolveLive(id)
            guard let indexed = heap.indexedHolders(of: slot, index) else {
                return XCTFail("\(context): the index is current but gave no answer")
            }
            let scanned = heap.scannedHolders(of: slot)
            XCTAssertEqual(indexed.sorted(), scanned.sorted(), "\(context): holders of \(id)")
            XCTAssertEqual(Set(indexed).count, indexed.count, "\(context): each holder once")
            XCTAssertEqual(try! heap.referrers(of: id, index: index), try! heap.referrers(of: id), "\(context): \(id)")
        }
    }

    func testIndexedHoldersEqualTheScanAfterRandomOperations() {
        var kinds: [String: Int] = [:]
        var (answered, withChanges, withAdded, staleByCapture) = (0, 0, 0, 0)
        for seed in UInt64(0)..<8 {
            var heap = Heap()
            var ops = RandomHeapOperations(seed: seed, heap: &heap)
            ops.run(200, on: &heap, kinds: &kinds)
            let index = heap.indexFromSlicedCapture(slice: { Int(1 + ops.rng.next() % 50) }) {
                ops.run(Int(ops.rng.next() % 3), on: &$0, kinds: &kinds)
            }
            for step in 0..<60 {
                guard heap.isCurrent(index) else { break }
                assertIndexAnswers(heap, index, "seed \(seed) step \(step)")
                answered += 1
                if !(heap.table.changes?.slots.isEmpty ?? true) { withChanges += 1 }
                if heap.table.records.count > index.slotCount { withAdded += 1 }
                ops.run(Int(1 + ops.rng.next() % 4), on: &heap, kinds: &kinds)
            }
            // Another capture takes the heap's notes: this index is no longer current.
            _ = heap.beginGraphCapture()
            XCTAssertFalse(heap.isCurrent(index), "seed \(seed): a later capture retires the index")
            if !heap.isCurrent(index) { staleByCapture += 1 }
            XCTAssertNil(heap.indexedHolders(of: ObjectTable.reservedSlots, index))
        }
        print("referrer index: \(answered) steps answered, \(withChanges) with changes, \(withAdded) with slots added")
        XCTAssertGreaterThan(withChanges, 300, "answers read changed holders")
        XCTAssertGreaterThan(withAdded, 100, "answers read slots added since")
        XCTAssertEqual(staleByCapture, 8)
        XCTAssertGreaterThan(kinds["collect"] ?? 0, 20)
    }

    /// Past the change limit the notes stop and the index is no longer current; the answers fall
    /// back to the scan (same list).
    func testTooManyChangesRetireTheIndex() throws {
        var heap = Heap()
        heap.setEnabled(false)
        let session = try heap.openSession()
        var e = HeapEvents()
        let hub = try heap.allocate(AllocationSpec(type: "Hub"), session: session, events: &e)
        var ids: [ObjectID] = []
        for _ in 0..<5000 {
            ids.append(
                try heap.allocate(AllocationSpec(type: "N", fields: [("hub", hub)]), session: session, events: &e))
        }
        let index = heap.indexFromSlicedCapture(slice: { 1000 })
        XCTAssertEqual(try heap.referrers(of: hub, index: index), ids, "by generation, then id")
        let limit = ReferrerIndex.changeLimit(slots: index.slotCount)
        for (n, id) in ids.enumerated() {
            try heap.set(id, fields: [("hub", nil)], events: &e)
            XCTAssertEqual(heap.isCurrent(index), n + 1 <= limit, "after \(n + 1) changes")
        }
        XCTAssertTrue(heap.table.changes!.overflowed)
        XCTAssertEqual(heap.table.changes!.slots.count, limit, "the notes stop at the limit")
        XCTAssertEqual(try heap.referrers(of: hub, index: index), [])
        heap.stopNotingChanges(since: index.token)
        XCTAssertNil(heap.table.changes)
    }

    /// An index cancelled while its reverse edges are computed (a new capture made it useless)
    /// is nil and leaves nothing half done: the graph's reverse edges, asked for afterwards,
    /// are whole, and an index made after them has nothing left to cancel.
    func testACancelledIndexLeavesTheReverseEdgesWhole() throws {
        var heap = Heap()
        heap.setEnabled(false)
        let session = try heap.openSession()
        var e = HeapEvents()
        var ids: [ObjectID] = []
        for i in 0..<100_000 {  // 200,000 edges: checked for cancellation at 0, 65,536, ...
            let fields = ids.isEmpty ? [] : [("a", ids[(i * 7919) % ids.count]), ("b", ids[ids.count - 1])]
            ids.append(try heap.allocate(AllocationSpec(type: "N", fields: fields), session: session, events: &e))
        }
        let graph = heap.graph()
        for (stopAt, stage) in [(3, "while counting the edges"), (6, "while filling them in")] {
            var asked = 0
            let index = ReferrerIndex(graph, token: 1) {
                asked += 1
                return asked == stopAt
            }
            XCTAssertNil(index)
            XCTAssertEqual(asked, stopAt, "stopped \(stage)")
        }
        let reverse = graph.predecessors()
        let fresh = graph.predecessorsUncached()
        XCTAssertEqual(reverse.start, fresh.start)
        XCTAssertEqual(reverse.sources, fresh.sources)
        XCTAssertNotNil(ReferrerIndex(graph, token: 1, unless: { true }), "computed already")
    }
}

extension ReferrerIndexTests {
    /// An index made on one heap is never current for another: a heap restored from its snapshot
    /// (or a copy) that finishes a capture of its own gets a token no other capture had.
    /// (Found by review: per-heap counters made the restored heap's first token the original's.)
    func testAnIndexOfAnotherHeapIsNeverCurrent() throws {
        var a = Heap()
        a.setEnabled(false)
        let s = try a.openSession()
        var e = HeapEvents()
        let x = try a.allocate(AllocationSpec(type: "X"), session: s, events: &e)
        let h = try a.allocate(AllocationSpec(type: "H", fields: [("f", x)]), session: s, events: &e)
        let copy = a
        let index = a.indexFromSlicedCapture(slice: { 1 })
        XCTAssertEqual(try a.referrers(of: x, index: index), [h])
        try a.set(h, fields: [("f", nil)], events: &e)
        XCTAssertEqual(try a.referrers(of: x, index: index), [])
        var bytes: [UInt8] = []
        a.writeSnapshot { bytes.append(contentsOf: $0) }
        let restored = try bytes.withUnsafeBytes { raw in
            var r = BinaryReader(raw)
            return try Heap(snapshot: &r)
        }
        for var other in [restored, copy] {
            _ = other.indexFromSlicedCapture(slice: { 1 })
            XCTAssertFalse(other.isCurrent(index), "an index of another heap")
            XCTAssertEqual(try other.referrers(of: x, index: index), try other.referrers(of: x))
        }
    }
}

extension ReferrerIndexTests {
    /// Slots freed before the capture and reused after it (the table reuses slots once enough
    /// are free): a reused slot is noted, and its old object's holders, noted at its death,
    /// are read from the heap.
    func testSlotsFreedBeforeTheCaptureAndReusedAfterIt() throws {
        var kinds: [String: Int] = [:]
        var stepsWithReuse = 0
        for seed in UInt64(100)..<106 {
            var heap = Heap()
            var ops = RandomHeapOperations(seed: seed, heap: &heap)
            let session = try heap.openSession()
            var e = HeapEvents()
            let spare = try (0..<2500).map { _ in
                try heap.allocate(AllocationSpec(type: "Spare"), session: session, events: &e)
            }
            ops.run(150, on: &heap, kinds: &kinds)
            for id in spare.prefix(2200) { _ = try heap.unref(id, session: session, events: &e) }
            let index = heap.indexFromSlicedCapture(slice: { Int(1 + ops.rng.next() % 300) }) {
                ops.run(Int(ops.rng.next() % 3), on: &$0, kinds: &kinds)
            }
            for step in 0..<40 {
                guard heap.isCurrent(index) else { break }
                let (slots, allocations) = (heap.table.records.count, kinds["alloc", default: 0])
                ops.run(Int(1 + ops.rng.next() % 6), on: &heap, kinds: &kinds)
                if heap.table.records.count == slots && kinds["alloc", default: 0] > allocations {
                    stepsWithReuse += 1
                }
                guard heap.isCurrent(index) else { break }
                assertIndexAnswers(heap, index, "seed \(seed) step \(step)")
            }
        }
        XCTAssertGreaterThan(stepsWithReuse, 20, "allocations into reused slots after the capture")
    }
}

extension Heap {
    /// The index made from a capture taken a slice at a time (`slice()` slots each), with
    /// `between` run on the heap between slices.
    mutating func indexFromSlicedCapture(
        slice: () -> Int, between: (inout Heap) -> Void = { _ in }
    ) -> ReferrerIndex {
        var capture = beginGraphCapture()
        while !continueGraphCapture(&capture, slots: slice()) { between(&self) }
        let captured = finishGraphCapture(capture)
        return ReferrerIndex(captured.assemble().graph, token: captured.token)!
    }
}
