import XCTest

@testable import HeapCore

/// A graph taken a slice at a time, with random operations between the slices, must be the
/// graph taken in one piece at its finish: every id, size, type, edge, field name and holder.
/// A change the write barrier (`ObjectTable.noteChange`) misses shows as a stale slot.
final class GraphCaptureTests: XCTestCase {
    func assertSameGraph(
        _ a: (graph: HeapGraph, names: FieldNames, types: SlotTypes),
        _ b: (graph: HeapGraph, names: FieldNames, types: SlotTypes), _ context: String
    ) {
        XCTAssertEqual(a.graph.ids, b.graph.ids, "\(context): ids")
        XCTAssertEqual(a.graph.sizes, b.graph.sizes, "\(context): sizes")
        XCTAssertEqual(a.graph.successorStart, b.graph.successorStart, "\(context): edge starts")
        XCTAssertEqual(a.graph.successors, b.graph.successors, "\(context): edges")
        XCTAssertEqual(a.names.edgeKeys, b.names.edgeKeys, "\(context): field keys")
        XCTAssertEqual(a.names.keyNames, b.names.keyNames, "\(context): key names")
        XCTAssertEqual(a.types.typeOfSlot, b.types.typeOfSlot, "\(context): types")
        XCTAssertEqual(a.types.names, b.types.names, "\(context): type names")
        XCTAssertEqual(a.graph.holders.map(\.holder), b.graph.holders.map(\.holder), "\(context): holders")
        XCTAssertEqual(a.graph.holders.map(\.slots), b.graph.holders.map(\.slots), "\(context): held")
    }

    func testSlicesWithChangesBetweenThemGiveTheGraphAtTheFinish() {
        var kinds: [String: Int] = [:]
        var patched = 0
        var changedSlots = 0
        for seed in UInt64(0)..<10 {
            var heap = Heap()
            var ops = RandomHeapOperations(seed: seed, heap: &heap)
            var warmUp: [String: Int] = [:]
            ops.run(150, on: &heap, kinds: &warmUp)  // a heap to start from
            for round in 0..<5 {
                var capture = heap.beginGraphCapture()
                let slice = Int(1 + ops.rng.next() % 60)
                while !heap.continueGraphCapture(&capture, slots: slice) {
                    ops.run(Int(ops.rng.next() % 4), on: &heap, kinds: &kinds)
                }
                changedSlots += heap.table.changes!.slots.count
                let captured = heap.finishGraphCapture(capture)
                patched += captured.patches.count
                XCTAssertEqual(heap.table.changes?.slots, [], "the finish notes changes afresh, for an index")
                XCTAssertEqual(heap.table.changes?.token, captured.token)
                assertSameGraph(captured.assemble(), heap.capturedGraph(), "seed \(seed) round \(round)")
            }
        }
        print("graph capture: \(changedSlots) changed slots, \(patched) patched; \(kinds.sorted { $0.key < $1.key })")
        XCTAssertGreaterThan(patched, 100, "field counts changed during captures")
        XCTAssertGreaterThan(changedSlots, patched, "same-sized changes written in place")
        XCTAssertGreaterThan(kinds["collect"] ?? 0, 50)
    }

    /// Garbage that `PlainGarbageSweep` frees after its slots were captured: the sweep writes
    /// records through raw pointers, so the collector notes the deaths before it.
    func testGarbageSweptAfterItWasCapturedLeavesTheGraph() throws {
        var heap = Heap()
        heap.setEnabled(false)
        let session = try heap.openSession()
        var e = HeapEvents()
        var kept: [ObjectID] = []
        for ring in 0..<20 {
            let ids = try (0..<5).map { _ in try heap.allocate(AllocationSpec(type: "R"), session: session, events: &e)
            }
            for i in 0..<5 { try heap.set(ids[i], fields: [("next", ids[(i + 1) % 5])], events: &e) }
            if ring % 2 == 0 {
                kept.append(ids[0])
            } else {
                for id in ids { _ = try heap.unref(id, session: session, events: &e) }
            }
        }
        var capture = heap.beginGraphCapture()
        while !heap.continueGraphCapture(&capture, slots: 16) {}
        let sweepsBefore = heap.fastPathRuns.plainSweeps
        XCTAssertEqual(try heap.collect(generation: 2, events: &e).collected, 50)
        XCTAssertEqual(heap.fastPathRuns.plainSweeps, sweepsBefore + 1, "the plain sweep freed them")
        let sliced = heap.finishGraphCapture(capture).assemble()
        assertSameGraph(sliced, heap.capturedGraph(), "after the sweep")
        XCTAssertEqual(sliced.graph.ids.filter { $0 != 0 }.count, 50)
    }

    /// Operations the shared set does not run, between slices of 1-8 slots: sessions opened,
    /// closed and transferred; plain and atomic batches; failed deletes; own dicts made by a
    /// delete; the collector switched on and off. (From a review of the first version.)
    func testSessionsBatchesAndFailedDeletesBetweenSlices() throws {
        var kinds: [String: Int] = [:]
        for seed in UInt64(0)..<6 {
            var heap = Heap()
            var ops = RandomHeapOperations(seed: seed, heap: &heap)
            var rng = SplitMix64(seed: seed &+ 1000)
            var extraSessions: [SessionID] = []
            func extra(_ heap: inout Heap) -> String {
                var e = HeapEvents()
                let live = heap.allObjects()
                func pick() -> ObjectID? { live.isEmpty ? nil : live[Int(rng.next() % UInt64(live.count))] }
                switch rng.next() % 7 {
                case 0:
                    if let s = try? heap.openSession() {
                        extraSessions.append(s)
                        for _ in 0..<3 { if let id = pick() { _ = try? heap.ref(id, session: s) } }
                        _ = try? heap.allocate(
                            AllocationSpec(type: "E", fields: pick().map { [("x", $0)] } ?? []), session: s, events: &e)
                    }
                    return "open"
                case 1:
                    guard !extraSessions.isEmpty else { return "none" }
                    let s = extraSessions.removeLast()
                    _ = try? heap.apply(.closeSession(s), events: &e)
                    return "close"
                case 2:
                    guard !extraSessions.isEmpty else { return "none" }
                    _ = try? heap.apply(
                        .transferReferences(from: extraSessions.last!, to: ops.sessionIDs[0]), events: &e)
                    return "transfer"
                case 3:
                    var b: [BatchOp] = [.alloc(type: "B", size: nil), .alloc(type: "Q", size: 7)]
                    if let t = pick() { b.append(.set(.result(0), field: "n\(rng.next() % 40)", target: .id(t))) }
                    b.append(.set(.result(1), field: "back", target: .result(0)))
                    b.append(.set(.result(0), field: "fwd", target: .result(1)))
                    if let t = pick() { b.append(.weakref(.id(t), callback: rng.next() % 2 == 0)) }
                    b.append(.unref(.result(0)))
                    b.append(.unref(.result(1)))
                    _ = try? heap.apply(.batch(b, atomic: rng.next() % 2 == 0, session: ops.sessionIDs[0]), events: &e)
                    return "batch"
                case 4:
                    if let id = pick() {
                        _ = try? heap.apply(.failedDelete(id, field: "zz\(rng.next() % 50)"), events: &e)
                    }
                    return "failedDelete"
                case 5:
                    if let id = pick() {
                        _ = try? heap.apply(
                            .set(
                                id, fields: [("zz\(rng.next() % 50)", nil)], data: nil,
                                size: rng.next() % 2 == 0 ? 9 : nil), events: &e)
                    }
                    return "delete"
                default:
                    _ = try? heap.apply(
                        .configureGC(enabled: rng.next() % 3 != 0, thresholds: nil, debug: nil), events: &e)
                    return "configure"
                }
            }
            var warmUp: [String: Int] = [:]
            ops.run(200, on: &heap, kinds: &warmUp)
            for round in 0..<6 {
                var capture = heap.beginGraphCapture()
                let slice = Int(1 + rng.next() % 8)
                while !heap.continueGraphCapture(&capture, slots: slice) {
                    if rng.next() % 2 == 0 {
                        let k = extra(&heap)
                        kinds[k, default: 0] += 1
                    } else if let (k, op) = ops.next(on: heap) {
                        kinds[k, default: 0] += 1
                        var e = HeapEvents()
                        _ = op(&heap, &e)
                        heap.endOperation()
                    }
                }
                assertSameGraph(
                    heap.finishGraphCapture(capture).assemble(), heap.capturedGraph(), "seed \(seed) round \(round)")
                XCTAssertEqual(heap.checkInvariants(), [])
            }
        }
        print("graph capture, more operations: \(kinds.sorted { $0.key < $1.key })")
        for kind in ["open", "close", "transfer", "batch", "failedDelete", "delete", "configure"] {
            XCTAssertGreaterThan(kinds[kind] ?? 0, 20, kind)
        }
    }

    /// A heap that grows by more than a slice between slices: the slices stop at the table's size
    /// when the capture began, and the finish takes the rest.
    func testAGrowingHeapStillFinishes() throws {
        var heap = Heap()
        let s = try heap.openSession()
        var e = HeapEvents()
        for _ in 0..<100 { _ = try heap.allocate(AllocationSpec(type: "A"), session: s, events: &e) }
        var capture = heap.beginGraphCapture()
        var slices = 0
        repeat {
            slices += 1
            for _ in 0..<9 { _ = try heap.allocate(AllocationSpec(type: "A"), session: s, events: &e) }
        } while !heap.continueGraphCapture(&capture, slots: 8) && slices < 1000
        XCTAssertEqual(slices, 14, "108 slots when it began, 8 per slice")
        assertSameGraph(heap.finishGraphCapture(capture).assemble(), heap.capturedGraph(), "grown")
    }

    /// A dropped graph's arrays are written into by the next capture (their pages are mapped
    /// already), its reverse edges and search distances by the next graph's, and the graph,
    /// its reverse edges and its paths come out the same.
    func testTheNextCaptureWritesIntoADroppedGraphsArrays() throws {
        var heap = Heap()
        var ops = RandomHeapOperations(seed: 5, heap: &heap)
        var kinds: [String: Int] = [:]
        ops.run(400, on: &heap, kinds: &kinds)
        func base<T>(_ a: [T]) -> UInt { a.withUnsafeBufferPointer { UInt(bitPattern: $0.baseAddress) } }
        var buffers: GraphBuffers?
        var addresses: [UInt] = []
        do {
            var c = heap.beginGraphCapture()
            while !heap.continueGraphCapture(&c, slots: 64) {}
            let g = heap.finishGraphCapture(c).assemble()
            // A search from the target computes the reverse edges and hands its distances back
            // to the graph.
            _ = g.graph.shortestPathsFromTarget(to: g.graph.holders[0].slots[0], limit: 1)
            let reverse = g.graph.predecessors()
            addresses = [
                base(g.graph.ids), base(g.graph.successors), base(g.names.edgeKeys), base(reverse.start),
                base(reverse.sources), base(g.graph.searchScratch.spare()!),
            ]
            buffers = GraphBuffers(of: g.graph, names: g.names, types: g.types)
        }
        // Changes that grow neither the table nor the field pool (growth past the arrays' room
        // reallocates them): existing fields pointed elsewhere.
        var e = HeapEvents()
        let objects = heap.allObjects()
        var changed = 0
        for (a, b) in zip(objects, objects.reversed()) where changed < 40 {
            guard heap.contains(a), heap.contains(b), let name = heap.namedFields(try heap.resolveLive(a)).first?.0
            else { continue }  // a set may free what the old value alone held
            try heap.set(a, fields: [(name, b)], events: &e)
            changed += 1
        }
        XCTAssertEqual(changed, 40)
        var c = heap.beginGraphCapture(reusing: buffers.take())
        while !heap.continueGraphCapture(&c, slots: 64) {}
        // Consumed: a copy of the capture left here would keep the graph from writing into
        // the dropped graph's reverse edges and distances (it finds them shared).
        let g = heap.finishGraphCapture(consume c).assemble()
        let fresh = heap.capturedGraph()
        let live = (0..<g.graph.slotCount).map(Slot.init).filter(g.graph.isLive)
        for s in g.graph.heldSlots().prefix(10) + stride(from: 0, to: live.count, by: 17).map({ live[$0] }) {
            XCTAssertEqual(
                g.graph.shortestPathsFromTarget(to: s, limit: 3).map(\.slots),
                fresh.graph.shortestPaths(to: s, limit: 3).map(\.slots))
        }
        let reverse = g.graph.predecessors()
        XCTAssertEqual(reverse.start, fresh.graph.predecessorsUncached().start)
        XCTAssertEqual(reverse.sources, fresh.graph.predecessorsUncached().sources)
        XCTAssertEqual(
            [
                base(g.graph.ids), base(g.graph.successors), base(g.names.edgeKeys), base(reverse.start),
                base(reverse.sources), base(g.graph.searchScratch.spare()!),
            ], addresses)
        assertSameGraph(g, fresh, "into reused arrays")
    }

    /// A capture begun later, or a heap restored meanwhile, makes a capture start again rather
    /// than miss changes.
    func testACaptureThatLostItsWriteBarrierStartsAgain() throws {
        var heap = Heap()
        var ops = RandomHeapOperations(seed: 99, heap: &heap)
        var warmUp: [String: Int] = [:]
        ops.run(300, on: &heap, kinds: &warmUp)
        var first = heap.beginGraphCapture()
        XCTAssertFalse(heap.continueGraphCapture(&first, slots: 50))
        var second = heap.beginGraphCapture()
        XCTAssertFalse(heap.continueGraphCapture(&second, slots: 50))
        XCTAssertFalse(heap.continueGraphCapture(&first, slots: 50))
        XCTAssertEqual(first.next, 50, "started again from slot 0")
        var bytes: [UInt8] = []
        heap.writeSnapshot { bytes.append(contentsOf: $0) }
        heap = try bytes.withUnsafeBytes { raw in
            var r = BinaryReader(raw)
            return try Heap(snapshot: &r)
        }
        var e = HeapEvents()
        _ = try heap.allocate(AllocationSpec(type: "Late"), session: ops.sessionIDs[1], events: &e)
        assertSameGraph(heap.finishGraphCapture(first).assemble(), heap.capturedGraph(), "after a restore")
    }
}
