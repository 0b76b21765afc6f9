import XCTest

@testable import HeapCore

/// `PlainGarbageSweep` must leave the heap exactly as the general `delete_garbage` does: the
/// same events and freed ids in order, the same bytes in a snapshot (records, free lists, field
/// pool, histograms, origins), and the same ids for what is allocated next.
final class PlainGarbageSweepTests: XCTestCase {
    /// A heap of `count` objects over a few types and sites, in several generations. The first
    /// `garbage` objects refer only to each other (with one deep cycle, for the trashcan) unless
    /// `garbageMayReferOut` (then the sweep must not be taken); the others, the survivors, refer
    /// only to each other.
    func randomHeap(
        _ rng: inout SplitMix64, count: Int, garbage: Int, garbageMayReferOut: Bool
    ) -> (heap: Heap, session: SessionID) {
        var heap = Heap()
        heap.setEnabled(false)
        let session = try! heap.openSession()
        var events = HeapEvents()
        var ids: [ObjectID] = []
        // Each type's first instance uses every field name, so the later ones keep them in the
        // class's shared keys (3.11 gives a later new name a `__dict__` of its own: not plain).
        for type in ["A", "B", "C", "OnlyGarbage"] {
            let first = try! heap.allocate(AllocationSpec(type: type), session: session, events: &events)
            try! heap.set(first, fields: ["f0", "f1", "f2", "next"].map { ($0, first) }, events: &events)
            // A type whose every object is garbage: a full collection empties it.
            if type == "OnlyGarbage" { _ = try! heap.unref(first, session: session, events: &events) }
        }
        // The garbage is allocated last, so that young collections find it too; the survivors
        // are spread over the generations.
        for i in (0..<count).reversed() {
            let type = i < garbage && rng.next() % 3 == 0 ? "OnlyGarbage" : ["A", "B", "C"][Int(rng.next() % 3)]
            let site = rng.next() % 4 == 0 ? nil : "site\(rng.next() % (i < garbage ? 6 : 3))"
            ids.append(
                try! heap.allocate(
                    AllocationSpec(type: type, size: rng.next() % 64, site: site), session: session, events: &events))
            if i >= garbage && rng.next() % 97 == 0 {
                _ = try! heap.collect(generation: Int(rng.next() % 3), events: &events)
            }
        }
        ids.reverse()
        func target(from i: Int) -> ObjectID {
            if i < garbage && !(garbageMayReferOut && rng.next() % 8 == 0) {
                return ids[Int(rng.next() % UInt64(garbage))]
            }
            return ids[garbage + Int(rng.next() % UInt64(count - garbage))]
        }
        for i in 0..<count {
            let fields = (0..<Int(rng.next() % 4)).map { k in (name: "f\(k)", target: Optional(target(from: i))) }
            if !fields.isEmpty { try! heap.set(ids[i], fields: fields, events: &events) }
        }
        // A deep cycle inside the garbage: the trashcan defers past 50 levels.
        let deep = min(garbage, 120)
        for i in 0..<deep {
            try! heap.set(ids[i], fields: [(name: "next", target: ids[(i + 1) % deep])], events: &events)
        }
        // With `garbageMayReferOut`, some survivors are dropped too (garbage of their own that
        // refers to live objects, or freed at once).
        for i in 0..<count where i < garbage || (garbageMayReferOut && rng.next() % 3 == 0) {
            _ = try! heap.unref(ids[i], session: session, events: &events)
        }
        return (heap, session)
    }

    /// The same collection with and without the sweep; returns how often the sweep ran. Also
    /// with freed ids kept up to a limit, or none kept (then the sweep counts them at the end).
    func assertSameCollection(
        _ heap: Heap, session: SessionID, generation: Int, file: StaticString = #filePath,
        line: UInt = #line
    ) -> Int {
        for limit in [0, 3] {
            var counts: [Int] = []
            var kept: [[ObjectID]] = []
            for enabled in [true, false] {
                var h = heap
                h.plainGarbageSweepEnabled = enabled
                var events = HeapEvents(freedIDLimit: limit)
                _ = try! h.collect(generation: generation, events: &events)
                counts.append(events.freedCount)
                kept.append(events.freedIDs)
            }
            XCTAssertEqual(counts[0], counts[1], "freed count, \(limit) ids kept", file: file, line: line)
            XCTAssertEqual(kept[0], kept[1], "freed ids, \(limit) kept", file: file, line: line)
        }
        var results: [(events: HeapEvents, bytes: [UInt8], next: [ObjectID], sweeps: Int)] = []
        for enabled in [true, false] {
            var h = heap
            h.plainGarbageSweepEnabled = enabled
            var events = HeapEvents()
            let before = h.fastPathRuns.plainSweeps
            _ = try! h.collect(generation: generation, events: &events)
            h.endOperation()  // as `apply` ends every operation: emptied types are forgotten
            XCTAssertEqual(h.checkInvariants(), [], file: file, line: line)
            var bytes: [UInt8] = []
            h.writeSnapshot { bytes.append(contentsOf: $0) }
            // Past the reuse threshold, so freed slots are handed out again, in free-list order;
            // at new sites, so the origin entries the sweep freed are reused, in their order.
            var next: [ObjectID] = []
            for i in 0..<(ObjectTable.reuseThreshold + 64) {
                let spec = AllocationSpec(type: "New", site: "new\(i % 8)")
                next.append(try! h.allocate(spec, session: session, events: &events))
            }
            results.append((events, bytes, next, h.fastPathRuns.plainSweeps - before))
        }
        XCTAssertEqual(results[0].events.withoutDurations, results[1].events.withoutDurations, file: file, line: line)
        XCTAssertEqual(results[0].events.freedIDs, results[1].events.freedIDs, file: file, line: line)
        XCTAssertEqual(results[0].bytes, results[1].bytes, "snapshot bytes", file: file, line: line)
        XCTAssertEqual(results[0].next, results[1].next, file: file, line: line)
        XCTAssertEqual(results[1].sweeps, 0, file: file, line: line)
        return results[0].sweeps
    }

    func testTheSweepLeavesTheHeapAsTheGeneralPathDoes() {
        var swept = 0
        for seed in 0..<24 {
            var rng = SplitMix64(seed: UInt64(seed))
            let (heap, session) = randomHeap(&rng, count: 1500, garbage: 300 + seed * 20, garbageMayReferOut: false)
            swept += assertSameCollection(heap, session: session, generation: seed % 3)
        }
        // Most of these garbage sets are closed and plain: the sweep must have been taken.
        XCTAssertGreaterThan(swept, 12)
    }

    /// The sweep walks the garbage list without unlinking anything: an object freed ahead of
    /// the walk hands it its successor (here two in a row, and the list's last object), and one
    /// cleared while still referenced stays where it is and dies behind the walk. In list
    /// (allocation) order: a has no fields, held by c; b holds c, held by e; c holds a and d;
    /// e holds b and f; f holds e. Clearing a leaves it alive; clearing b frees c, which frees
    /// a behind the walk and d ahead; b outlives its clearing; the walk skips c and d to e, whose
    /// clearing frees b behind and f ahead, then e. With no survivor the whole young list is taken at once;
    /// with one, `move_unreachable` runs first.
    func testObjectsDyingAheadOfAndBehindTheWalk() {
        for withSurvivor in [false, true] {
            var heap = Heap()
            heap.setEnabled(false)
            let session = try! heap.openSession()
            var events = HeapEvents()
            func new() -> ObjectID { try! heap.allocate(AllocationSpec(type: "N"), session: session, events: &events) }
            let (a, b, c, d, e, f) = (new(), new(), new(), new(), new(), new())
            if withSurvivor { _ = new() }
            for (holder, fields) in [(b, [c]), (c, [a, d]), (e, [b, f]), (f, [e])] {
                let named = fields.enumerated().map { (name: ["p", "q"][$0.offset], target: Optional($0.element)) }
                try! heap.set(holder, fields: named, events: &events)
            }
            for x in [a, b, c, d, e, f] { _ = try! heap.unref(x, session: session, events: &events) }
            XCTAssertEqual(heap.objectCount, withSurvivor ? 7 : 6)

            var probe = heap
            var probeEvents = HeapEvents()
            _ = try! probe.collect(generation: 2, events: &probeEvents)
            XCTAssertEqual(
                probeEvents.freedIDs, [c, a, d, b, f, e], "the order `delete_garbage` frees them in (3.11's)")
            XCTAssertEqual(probe.fastPathRuns.wholeYoungGarbage, withSurvivor ? 0 : 1)
            XCTAssertEqual(assertSameCollection(heap, session: session, generation: 2), 1)
        }
    }

    func testGarbageReferringToSurvivorsTakesTheGeneralPath() {
        for seed in 0..<8 {
            var rng = SplitMix64(seed: UInt64(100 + seed))
            let (heap, session) = randomHeap(&rng, count: 1500, garbage: 400, garbageMayReferOut: true)
            XCTAssertEqual(assertSameCollection(heap, session: session, generation: 2), 0)
        }
    }

    func testUnplainGarbageTakesTheGeneralPath() {
        // One finalizer, one weakref, one object with data: each keeps a 2-cycle off the sweep.
        for kind in 0..<3 {
            var heap = Heap()
            heap.setEnabled(false)
            let session = try! heap.openSession()
            var events = HeapEvents()
            let a = try! heap.allocate(
                AllocationSpec(type: "N", data: kind == 2 ? Array("1".utf8) : nil, finalizer: kind == 0),
                session: session, events: &events)
            let b = try! heap.allocate(AllocationSpec(type: "N", fields: [("p", a)]), session: session, events: &events)
            try! heap.set(a, fields: [(name: "p", target: b)], events: &events)
            if kind == 1 {
                let w = try! heap.weakref(to: b, callback: true, session: session, events: &events)
                try! heap.set(a, fields: [(name: "w", target: w)], events: &events)
                _ = try! heap.unref(w, session: session, events: &events)
            }
            _ = try! heap.unref(a, session: session, events: &events)
            _ = try! heap.unref(b, session: session, events: &events)
            XCTAssertEqual(assertSameCollection(heap, session: session, generation: 2), 0, "kind \(kind)")
        }
    }
}
