import XCTest

@testable import HeapCore

final class SnapshotTests: HeapTestCase {
    func snapshotBytes(_ h: Heap) -> [UInt8] {
        var out: [UInt8] = []
        h.writeSnapshot { out.append(contentsOf: $0) }
        return out
    }

    func restored(_ bytes: [UInt8]) throws -> Heap {
        try bytes.withUnsafeBytes { raw in
            var r = BinaryReader(raw)
            return try Heap(snapshot: &r)
        }
    }

    /// A heap with a bit of everything: cycles, weakrefs, data, roots, scopes, generations,
    /// frozen objects, gc.garbage, freed slots.
    func buildVariedHeap() {
        let named = try! heap.openSession(name: "keeper")
        try! heap.setLease(named, seconds: 30)
        let a = alloc("Person", finalizer: true, data: "{\"name\":\"Alice\"}")
        let b = alloc("Person", [("partner", a)])
        link(a, "partner", b)
        _ = weak(a)
        try! heap.setRoot("alice", to: a, events: &events)
        _ = try! heap.collect(generation: 0, events: &events)
        let c = alloc("Big")
        try! heap.set(c, fields: [], size: 1 << 40, events: &events)
        _ = try! heap.ref(c, session: named)
        heap.freeze()
        _ = try! heap.enterScope(session)
        _ = alloc("Scoped")
        heap.setDebug(.saveAll)
        let g = alloc("Garbage"); link(g, "me", g); drop(g)
        _ = try! heap.collect(events: &events)
        heap.setDebug([])
        for _ in 0..<50 { drop(alloc("Temp")) }
        try! heap.setThresholds([123, 4, 5])
    }

    func testSnapshotRoundTripIsExact() throws {
        buildVariedHeap()
        let bytes = snapshotBytes(heap)
        let copy = try restored(bytes)
        XCTAssertEqual(copy.checkInvariants(), [])
        XCTAssertEqual(snapshotBytes(copy), bytes)
        XCTAssertEqual(copy.gc, heap.gc)
        XCTAssertEqual(copy.allObjects(), heap.allObjects())
        for id in heap.allObjects() { XCTAssertEqual(try copy.inspect(id), try heap.inspect(id)) }
    }

    /// A snapshot file's sections are read where they lie (`BinaryReader(segments:)`): the writer's
    /// own pieces, and the same bytes cut anywhere (through values, with empty segments), restore
    /// the same heap as the joined bytes; cut short, they are refused, not read past.
    func testASnapshotReadsTheSameFromSegments() throws {
        buildVariedHeap()
        var pieces: [[UInt8]] = []
        heap.writeSnapshot { pieces.append(Array($0)) }
        let joined = pieces.flatMap { $0 }
        func restored(_ parts: [[UInt8]]) throws -> Heap {
            // Each part in its own allocation, as sections lie apart in a file.
            let buffers = parts.map { p -> UnsafeMutableRawBufferPointer in
                let b = UnsafeMutableRawBufferPointer.allocate(byteCount: p.count, alignment: 1)
                b.copyBytes(from: p)
                return b
            }
            defer { for b in buffers { b.deallocate() } }
            var r = BinaryReader(segments: buffers.map { UnsafeRawBufferPointer($0) })
            let h = try Heap(snapshot: &r)
            XCTAssertTrue(r.isAtEnd)
            return h
        }
        XCTAssertGreaterThan(pieces.count, 3)
        XCTAssertEqual(snapshotBytes(try restored(pieces)), joined)
        var rng = SplitMix64(seed: 7)
        for _ in 0..<40 {
            var cuts = (0..<Int(rng.next() % 12)).map { _ in Int(rng.next() % UInt64(joined.count + 1)) }
            cuts += [0, joined.count]
            cuts.sort()  // repeated cuts give empty segments
            let parts = zip(cuts, cuts.dropFirst()).map { Array(joined[$0..<$1]) }
            XCTAssertEqual(snapshotBytes(try restored(parts)), joined, "cut at \(cuts)")
            let short = Int(rng.next() % UInt64(joined.count))
            XCTAssertThrowsError(try restored(parts.map { _ in [] } + [Array(joined[..<short])]))
            let kept = parts.reduce(into: [[UInt8]]()) { out, p in
                let have = out.reduce(0) { $0 + $1.count }
                if have < short { out.append(Array(p.prefix(short - have))) }
            }
            XCTAssertThrowsError(try restored(kept), "cut short at \(short) of \(joined.count)")
        }
    }

    /// Counters that later operations add to are refused near the top of their range: a forged
    /// `Int.max` gc count trapped the first allocation after the load, a forged next session id
    /// the first `session.open` (found by review; the structural check did not read them).
    func testCountersNearTheirLimitAreRefused() throws {
        let forgeries: [(String, (inout Heap) -> Void)] = [
            ("gc count", { $0.gc.counts[0] = Int.max }),
            ("gc statistic", { $0.gc.stats[2].collected = Int.max - 1 }),
            ("long-lived total", { $0.gc.longLivedTotal = -1 }),
            ("next session id", { $0.nextSessionID = UInt64.max }),
        ]
        for (what, forge) in forgeries {
            var h = heap
            forge(&h)
            XCTAssertThrowsError(try restored(snapshotBytes(h)), what) { error in
                XCTAssertTrue("\(error)".contains("snapshot is inconsistent"), "\(what): \(error)")
            }
        }
        XCTAssertNoThrow(try restored(snapshotBytes(heap)))
    }

    /// An empty segment may have no address; a value straddling it reads across.
    func testAValueStraddlingAnEmptySegmentReads() throws {
        let (a, b): ([UInt8], [UInt8]) = ([0x34, 0x12], [0, 0])
        try a.withUnsafeBytes { ra in
            try b.withUnsafeBytes { rb in
                var r = BinaryReader(segments: [ra, UnsafeRawBufferPointer(start: nil, count: 0), rb])
                XCTAssertEqual(try r.u32(), 0x1234)
                XCTAssertTrue(r.isAtEnd)
            }
        }
    }

    func testRestoredHeapContinuesExactlyLikeTheOriginal() throws {
        buildVariedHeap()
        var copy = try restored(snapshotBytes(heap))
        var e1 = HeapEvents()
        var e2 = HeapEvents()
        let ops: [HeapOperation] = [
            .allocate(AllocationSpec(type: "New"), session: session),
            .collect(generation: 2), .unfreeze, .collect(generation: 2),
            .closeSession(session),
        ]
        for op in ops {
            let r1 = try heap.apply(op, events: &e1)
            let r2 = try copy.apply(op, events: &e2)
            if case .collected(var c1) = r1, case .collected(var c2) = r2 {
                c1.durationNanoseconds = 0; c2.durationNanoseconds = 0
                XCTAssertEqual(c1, c2)
            } else {
                XCTAssertEqual(r1, r2)
            }
        }
        XCTAssertEqual(e1.freedIDs, e2.freedIDs)
        XCTAssertEqual(e1.observable, e2.observable)
        XCTAssertEqual(snapshotBytes(copy), snapshotBytes(heap))
    }

    func testTruncatedSnapshotIsRefused() {
        buildVariedHeap()
        let bytes = snapshotBytes(heap)
        for cut in [0, 5, 20, bytes.count / 2, bytes.count - 1] {
            XCTAssertThrowsError(try restored(Array(bytes.prefix(cut))), "cut at \(cut)")
        }
    }

    func testOperationsRoundTripThroughTheirBinaryForm() throws {
        let ops: [HeapOperation] = [
            .openSession(name: "x"), .openSession(name: nil), .closeSession(SessionID(raw: 7)),
            .transferReferences(from: SessionID(raw: 1), to: SessionID(raw: 2)),
            .enterScope(SessionID(raw: 3)), .exitScope(SessionID(raw: 3)),
            .allocate(
                AllocationSpec(
                    type: "T", size: 99, data: Array("[1]".utf8),
                    fields: [("a", ObjectID(raw: 1)), ("b", ObjectID(raw: 1 << 40))], finalizer: true),
                session: SessionID(raw: 1)),
            .ref(ObjectID(raw: 5), session: SessionID(raw: 1)), .unref(ObjectID(raw: 5), session: SessionID(raw: 1)),
            .set(ObjectID(raw: 5), fields: [("a", nil), ("b", ObjectID(raw: 6))], data: .some(nil), size: nil),
            .set(ObjectID(raw: 5), fields: [], data: .some(Array("{}".utf8)), size: 3),
            .set(ObjectID(raw: 5), fields: [], data: nil, size: nil),
            .weakref(ObjectID(raw: 5), callback: true, fields: [("c", ObjectID(raw: 2))], session: SessionID(raw: 1)),
            .collect(generation: 1), .setRoot("r", ObjectID(raw: 3)), .setRoot("r", nil),
            .configureGC(enabled: false, thresholds: [1, 2], debug: .leak),
            .configureGC(enabled: nil, thresholds: nil, debug: nil),
            .freeze, .unfreeze, .clearGarbage,
            .setLease(SessionID(raw: 2), seconds: 1.5), .setLease(SessionID(raw: 2), seconds: nil),
        ]
        var w = BinaryWriter()
        for op in ops { op.encode(into: &w) }
        let bytes = w.bytes
        var decoded: [HeapOperation] = []
        bytes.withUnsafeBytes { raw in
            var r = BinaryReader(raw)
            while !r.isAtEnd { decoded.append(try! HeapOperation.decode(from: &r)) }
        }
        var again = BinaryWriter()
        for op in decoded { op.encode(into: &again) }
        XCTAssertEqual(decoded.count, ops.count)
        XCTAssertEqual(again.bytes, bytes)
    }
}
