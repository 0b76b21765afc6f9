import XCTest

@testable import HeapCore

final class CollectorTests: HeapTestCase {
    func collect(_ g: Int = 2) -> CollectResult { try! heap.collect(generation: g, events: &events) }

    func testPersonPartnerCycleIsCollectedWithItsFinalizer() {
        let alice = alloc("Person")
        let bob = alloc("Person", finalizer: true)
        link(alice, "partner", bob); link(bob, "partner", alice)
        drop(alice); drop(bob)
        XCTAssertFalse(heap.wasFreed(alice), "a cycle is not freed by refcounting")
        events.removeAll()
        let r = collect()
        XCTAssertEqual(r.unreachable, 2)
        XCTAssertEqual(r.collected, 2)
        XCTAssertEqual(Set(events.freedIDs), [alice, bob])
        XCTAssertEqual(events.observable, [.finalize(id: bob, type: "Person")])
        XCTAssertEqual(heap.objectCount, 0)
    }

    func testSelfCycleCountsOne() {
        let a = alloc()
        link(a, "me", a)
        drop(a)
        XCTAssertEqual(collect().unreachable, 1)
    }

    func testCycleReachableFromALiveObjectSurvivesAndIsPromoted() {
        let holder = alloc("Holder")
        let a = alloc()
        let b = alloc()
        link(a, "b", b); link(b, "a", a); link(holder, "a", a)
        drop(a); drop(b)
        XCTAssertEqual(collect(0).unreachable, 0)
        XCTAssertEqual(try heap.generation(of: a), 1)
        XCTAssertEqual(try heap.generation(of: holder), 1)
        XCTAssertEqual(heap.gc.counts, [0, 1, 0])
        XCTAssertEqual(collect(1).unreachable, 0)
        XCTAssertEqual(try heap.generation(of: a), 2)
        XCTAssertEqual(heap.gc.counts, [0, 0, 1])
    }

    func testCallbacksOfOutsideWeakrefsRunBeforeFinalizersAndGarbageWeakrefsStaySilent() {
        // s12: callbacks of reachable weakrefs precede every __del__ of the garbage;
        // a weakref that is itself garbage is cleared without calling back.
        let a = alloc("A", finalizer: true)
        let b = alloc("B", finalizer: true)
        link(a, "b", b); link(b, "a", a)
        let outside = weak(a)
        let inside = weak(b)
        link(a, "w", inside)
        drop(inside); drop(a); drop(b)
        events.removeAll()
        let r = collect()
        XCTAssertEqual(r.unreachable, 3)  // a, b and the weakref in the cycle
        let seen = takeObservable()
        XCTAssertEqual(seen.first, "cb:\(outside)")
        XCTAssertEqual(Set(seen.dropFirst()), ["del:\(a)", "del:\(b)"])
        XCTAssertNil(try heap.snapshot(outside).referent)
    }

    func testWeakrefInAnOlderGenerationCallsBackEvenIfItIsGarbage() {
        // s17: membership in the collected set, not liveness, silences a callback.
        let o1 = alloc("Old")
        let o2 = alloc("Old")
        link(o1, "x", o2); link(o2, "x", o1)
        let y = alloc("Young")
        link(y, "me", y)
        let w = weak(y)
        link(o1, "w", w)
        drop(y)
        XCTAssertEqual(collect(0).unreachable, 1)  // y; o1, o2, w (held by the session) go to gen 1
        XCTAssertEqual(takeObservable(), ["cb:\(w)"])
        drop(w); drop(o1); drop(o2)
        let y2 = alloc("Young")
        link(y2, "me", y2)
        let w2 = weak(y2)
        link(o1, "w2", w2)
        drop(w2); drop(y2)
        events.removeAll()
        XCTAssertEqual(collect(0).unreachable, 1, "only y2 is young garbage")
        XCTAssertEqual(takeObservable(), ["cb:\(w2)"], "w2 is old garbage, yet it calls back")
        XCTAssertEqual(try heap.generation(of: w2), 1, "a weakref whose callback ran moves to the old generation")
        XCTAssertEqual(collect(2).unreachable, 4)  // o1, o2, w, w2
        XCTAssertEqual(heap.objectCount, 0)
    }

    func testYoungGarbageHeldByOldGarbageWaitsForAFullCollection() {
        // s18/s19: references from an older generation are roots, even from garbage.
        let old1 = alloc("Old")
        let old2 = alloc("Old")
        link(old1, "o", old2); link(old2, "o", old1)
        _ = collect(0)  // promote the (still referenced) old cycle to gen 1
        let y = alloc("Young", finalizer: true)
        link(y, "self", y)
        link(old1, "y", y)
        drop(old1); drop(old2); drop(y)
        events.removeAll()
        XCTAssertEqual(collect(0).unreachable, 0, "held by old garbage: not unreachable in gen 0")
        XCTAssertEqual(takeObservable(), [])
        XCTAssertEqual(collect(2).unreachable, 3)
        XCTAssertEqual(takeObservable(), ["del:\(y)"].sorted())
        XCTAssertEqual(heap.objectCount, 0)
    }

    func testFullCollectionMergesGenerationsInCPythonOrder() {
        // A full collection walks [gen2, gen0, gen1]: finalizers run in that list order.
        let g2 = alloc("N", finalizer: true); link(g2, "s", g2)
        _ = collect(1)  // g2 survives (held by the session) into generation 2
        let g1 = alloc("N", finalizer: true); link(g1, "s", g1)
        _ = collect(0)  // g1 into generation 1
        let g0 = alloc("N", finalizer: true); link(g0, "s", g0)
        XCTAssertEqual(
            [try heap.generation(of: g2), try heap.generation(of: g1), try heap.generation(of: g0)], [2, 1, 0])
        drop(g0); drop(g1); drop(g2)
        events.removeAll()
        XCTAssertEqual(collect().unreachable, 3)
        XCTAssertEqual(takeObservable(), ["del:\(g2)", "del:\(g0)", "del:\(g1)"])
    }

    func testFinalizerRunsOnceUnderSaveAllAndGarbageClearFrees() {
        heap.setDebug(.saveAll)
        let a = alloc("A", finalizer: true)
        link(a, "me", a)
        drop(a)
        events.removeAll()
        XCTAssertEqual(collect().unreachable, 1)
        XCTAssertEqual(takeObservable(), ["del:\(a)"])
        XCTAssertEqual(heap.garbageIDs, [a])
        XCTAssertTrue(try heap.isFinalized(a))
        XCTAssertEqual(refcount(a), 2)  // itself + gc.garbage
        heap.setDebug([])
        XCTAssertEqual(collect().unreachable, 0, "gc.garbage is a root")
        _ = heap.clearGarbage(events: &events)
        XCTAssertEqual(takeObservable(), [], "the finalizer does not run twice")
        XCTAssertEqual(collect().unreachable, 1)
        XCTAssertEqual(heap.objectCount, 0)
    }

    func testFrozenObjectsAreRootsAndStillDieByRefcount() {
        let a = alloc()
        let b = alloc()
        link(a, "b", b); link(b, "a", a)
        heap.freeze()
        XCTAssertEqual(heap.freezeCount, 2)
        XCTAssertEqual(heap.gc.counts, [0, 0, 0])
        drop(a); drop(b)
        XCTAssertEqual(collect().unreachable, 0, "the permanent generation is never examined")
        let c = alloc()
        heap.freeze()
        drop(c)
        XCTAssertTrue(heap.wasFreed(c), "frozen objects still die by refcount (s27)")
        heap.unfreeze()
        XCTAssertEqual(heap.freezeCount, 0)
        XCTAssertEqual(try heap.generation(of: a), 2)
        XCTAssertEqual(collect().unreachable, 2)
    }

    func testAutomaticCollectionRunsInsideTheAllocationThatCrossesTheThreshold() {
        heap.setEnabled(true)
        try! heap.setThresholds([5])
        for _ in 0..<5 { let a = alloc(); link(a, "me", a); drop(a) }
        XCTAssertEqual(heap.gc.stats[0].collections, 0)
        events.removeAll()
        _ = alloc()  // count0 becomes 6 > 5: collect(0) before the object exists
        XCTAssertEqual(heap.gc.stats[0].collections, 1)
        XCTAssertEqual(heap.gc.stats[0].collected, 5)
        XCTAssertEqual(heap.gc.counts, [0, 1, 0], "the count that triggered is reset by the collection")
        guard case .gcStart(0)? = events.events.first else { return XCTFail("gc.start first: \(events.events)") }
    }

    func testThresholdZeroDisablesAutomaticCollection() {
        heap.setEnabled(true)
        try! heap.setThresholds([0])
        for _ in 0..<2000 { _ = alloc() }
        XCTAssertEqual(heap.gc.stats.map(\.collections), [0, 0, 0])
    }

    func testFullCollectionWaitsForTheTwentyFivePercentRule() {
        heap.setEnabled(true)
        try! heap.setThresholds([1, 1, 1])
        var keep: [ObjectID] = []
        for _ in 0..<200 { keep.append(alloc()) }
        XCTAssertGreaterThan(heap.gc.stats[1].collections, 0)
        XCTAssertGreaterThan(heap.gc.stats[2].collections, 0)
        // After a full collection with many survivors, gen 2 waits until pending >= total / 4.
        _ = collect()
        let total = heap.gc.longLivedTotal
        XCTAssertEqual(total, 200)
        let before = heap.gc.stats[2].collections
        for _ in 0..<20 { keep.append(alloc()) }
        XCTAssertEqual(heap.gc.stats[2].collections, before, "pending \(heap.gc.longLivedPending) < \(total / 4)")
        for _ in 0..<60 { keep.append(alloc()) }
        XCTAssertGreaterThan(heap.gc.stats[2].collections, before)
    }

    func testGarbageCycleWithChildrenFreesTheChildrenByRefcount() {
        let a = alloc("A")
        let b = alloc("B")
        let oldChild = alloc("Child", finalizer: true)
        _ = collect(0)  // oldChild (and the rest) in gen 1
        link(a, "b", b); link(b, "a", a); link(a, "child", oldChild)
        drop(oldChild); drop(a); drop(b)
        events.removeAll()
        XCTAssertEqual(collect(1).unreachable, 3)
        XCTAssertEqual(takeObservable(), ["del:\(oldChild)"])
        XCTAssertEqual(heap.objectCount, 0)
    }
}

extension CollectorTests {
    func testGarbageClearReleasesLastEntryFirst() {
        // CPython's list_clear drops items from the end; s28c of the differential suite.
        heap.setDebug(.saveAll)
        let a = alloc()
        let b = alloc()
        link(a, "p", b); link(b, "p", a)
        drop(a); drop(b)
        _ = collect()
        XCTAssertEqual(heap.garbageIDs, [a, b])
        heap.setDebug([])
        link(a, "p", nil); link(b, "p", nil)
        let wa = weak(a)
        let wb = weak(b)
        events.removeAll()
        XCTAssertEqual(heap.clearGarbage(events: &events), 2)
        XCTAssertEqual(takeObservable(), ["cb:\(wb)", "cb:\(wa)"])
    }
}
