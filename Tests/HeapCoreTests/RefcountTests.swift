import Foundation
import XCTest

@testable import HeapCore

final class RefcountTests: HeapTestCase {
    func testAllocateStartsAtOneAndIdsCountUp() {
        let a = alloc()
        let b = alloc()
        XCTAssertEqual(a.raw, 1)
        XCTAssertEqual(b.raw, 2)
        XCTAssertEqual(refcount(a), 1)
        XCTAssertEqual(try heap.ref(a, session: session), 2)
        drop(a)
        XCTAssertEqual(refcount(a), 1)
    }

    func testFieldsCountWithMultiplicity() {
        let t = alloc()
        let h = alloc("Holder", [("x", t), ("y", t)])
        XCTAssertEqual(refcount(t), 3)
        link(h, "x", nil)
        XCTAssertEqual(refcount(t), 2)
    }

    func testUnrefToZeroFreesAtOnceWithCascadeOrder() {
        // A -> B -> C, each with a finalizer and a callback weakref:
        // del:A, cb(WA), del:B, cb(WB), del:C, cb(WC) (CPYTHON-GC.md §4.1).
        let c = alloc("N", finalizer: true)
        let b = alloc("N", finalizer: true, [("next", c)])
        let a = alloc("N", finalizer: true, [("next", b)])
        drop(b); drop(c)
        let wa = weak(a)
        let wb = weak(b)
        let wc = weak(c)
        events.removeAll()
        drop(a)
        XCTAssertEqual(takeObservable(), ["del:\(a)", "cb:\(wa)", "del:\(b)", "cb:\(wb)", "del:\(c)", "cb:\(wc)"])
        for id in [a, b, c] { XCTAssertTrue(heap.wasFreed(id)) }
        XCTAssertNil(try heap.snapshot(wa).referent)
    }

    func testFieldsReleaseInTypeKeyOrderNotInstanceOrder() {
        // s33: the first instance fixes key order x, y; the second sets y first.
        let first = alloc("T")
        let p = alloc("Leaf", finalizer: true)
        let q = alloc("Leaf", finalizer: true)
        link(first, "x", p); link(first, "y", q)
        drop(p); drop(q)
        let second = alloc("T")
        let r = alloc("Leaf", finalizer: true)
        let s = alloc("Leaf", finalizer: true)
        link(second, "y", s); link(second, "x", r)
        drop(r); drop(s)
        events.removeAll()
        drop(second)
        XCTAssertEqual(takeObservable(), ["del:\(r)", "del:\(s)"])
        drop(first)
        XCTAssertEqual(takeObservable(), ["del:\(p)", "del:\(q)"])
    }

    func testNewestCallbackWeakrefFiresFirstAndDeadWeakrefsNever() {
        let a = alloc()
        let w1 = weak(a)
        let w2 = weak(a)
        let w3 = weak(a)
        let plain = weak(a, callback: false)
        drop(w2)  // a weakref dropped before its referent never calls back (s14)
        events.removeAll()
        drop(a)
        XCTAssertEqual(takeObservable(), ["cb:\(w3)", "cb:\(w1)"])
        XCTAssertNil(try heap.snapshot(plain).referent)
    }

    func testWeakrefInDyingObjectsFieldStillCallsBack() {
        // s13a: a weakref stored in the dying object's own field is alive when weakrefs clear.
        let a = alloc()
        let w = weak(a)
        link(a, "w", w)
        drop(w)
        events.removeAll()
        drop(a)
        XCTAssertEqual(takeObservable(), ["cb:\(w)"])
        XCTAssertTrue(heap.wasFreed(w))
    }

    func testWeakrefsDoNotKeepAlive() {
        let a = alloc()
        let w = weak(a)
        link(a, "self_ref", w)  // A.w = ref(A) is not a cycle (s36)
        drop(w)
        drop(a)
        XCTAssertTrue(heap.wasFreed(a))
    }

    func testUnrefOfReferenceNotHeldIsRefusedAndChangesNothing() {
        let other = try! heap.openSession()
        let a = alloc()
        XCTAssertThrowsError(try heap.unref(a, session: other, events: &events)) {
            XCTAssertEqual($0 as? HeapError, .referenceNotHeld(a))
        }
        XCTAssertEqual(refcount(a), 1)
    }

    func testFreedAndNeverExistedAreTold() {
        let a = alloc()
        drop(a)
        XCTAssertThrowsError(try heap.snapshot(a)) { XCTAssertEqual($0 as? HeapError, .noSuchObject(a, .freed)) }
        let never = ObjectID(raw: 999)
        XCTAssertThrowsError(try heap.snapshot(never)) {
            XCTAssertEqual($0 as? HeapError, .noSuchObject(never, .neverExisted))
        }
        XCTAssertThrowsError(try heap.snapshot(ObjectID(raw: 0)))
        XCTAssertThrowsError(try heap.snapshot(ObjectID(raw: 1 << 53)))
    }

    func testIdsAreNeverReusedAcrossSlotReuse() {
        var seen = Set<ObjectID>()
        var maxID = ObjectID(raw: 0)
        for _ in 0..<5000 {
            let a = alloc()
            XCTAssertTrue(seen.insert(a).inserted, "id \(a) issued twice")
            maxID = max(maxID, a)
            drop(a)
        }
        XCTAssertGreaterThan(maxID.raw, 1 << 32, "slots were reused with a higher reuse count")
        XCTAssertEqual(heap.objectCount, 0)
    }

    func testSetWithABadTargetChangesNothing() {
        let a = alloc()
        let b = alloc()
        link(a, "x", b)
        XCTAssertThrowsError(
            try heap.set(
                a, fields: [(name: "x", target: nil), (name: "y", target: ObjectID(raw: 77))], events: &events))
        XCTAssertEqual(try heap.snapshot(a).fields.map(\.name), ["x"])
        XCTAssertEqual(refcount(b), 2)
    }

    func testSetThatDropsTheLastPathFreesTheObjectItself() {
        // a <-> b, nobody else holds them: clearing a.x frees b and then a.
        let a = alloc()
        let b = alloc()
        link(a, "x", b); link(b, "y", a)
        drop(a); drop(b)
        let after = try! heap.set(a, fields: [(name: "x", target: nil)], events: &events)
        XCTAssertEqual(after, 0)
        XCTAssertTrue(heap.wasFreed(a))
        XCTAssertTrue(heap.wasFreed(b))
    }

    func testRootsAndGarbageHold() {
        let a = alloc()
        try! heap.setRoot("g", to: a, events: &events)
        drop(a)
        XCTAssertEqual(refcount(a), 1)
        XCTAssertEqual(try heap.inspect(a).heldByRoots, ["g"])
        try! heap.setRoot("g", to: nil, events: &events)
        XCTAssertTrue(heap.wasFreed(a))
    }

    func testScopesDropWhatTheyTook() {
        let outer = alloc()
        XCTAssertEqual(try heap.enterScope(session), 1)
        let inner = alloc()
        _ = try! heap.ref(outer, session: session)
        XCTAssertEqual(refcount(outer), 2)
        XCTAssertEqual(try heap.exitScope(session, events: &events), 0)
        XCTAssertTrue(heap.wasFreed(inner))
        XCTAssertEqual(refcount(outer), 1)
        XCTAssertThrowsError(try heap.exitScope(session, events: &events))
    }

    func testClosingASessionDropsItsReferences() {
        let other = try! heap.openSession(name: "tool")
        let a = try! heap.allocate(AllocationSpec(type: "X"), session: other, events: &events)
        XCTAssertEqual(heap.session(named: "tool"), other)
        try! heap.closeSession(other, events: &events)
        XCTAssertTrue(heap.wasFreed(a))
        XCTAssertNil(heap.session(named: "tool"))
    }

    func testQuotaRefusesAllocationAndEvictsNothing() {
        heap.limits = HeapLimits(maxObjects: 2)
        _ = alloc(); _ = alloc()
        XCTAssertThrowsError(try heap.allocate(AllocationSpec(type: "X"), session: session, events: &events)) {
            XCTAssertEqual($0 as? HeapError, .objectQuota(limit: 2, live: 2))
        }
        XCTAssertEqual(heap.objectCount, 2)
    }

    func testSizeDefaultsToDataLength() {
        let a = alloc(data: "{\"name\":\"Alice\"}")
        XCTAssertEqual(try heap.snapshot(a).size, 16)
        XCTAssertEqual(heap.totalBytes, 16)
        try! heap.set(a, fields: [], data: .some(Array("[1]".utf8)), events: &events)
        XCTAssertEqual(try heap.snapshot(a).size, 3)
    }

    func testLongChainIsFreedWithoutRecursion() {
        // The test command runs this with HEAPD_CHAIN_LENGTH=10000000 on a release build; the
        // cascade uses a constant-depth stack, so length only costs time.
        let n = ProcessInfo.processInfo.environment["HEAPD_CHAIN_LENGTH"].flatMap(Int.init) ?? 200_000
        var prev = alloc("Chain")
        for _ in 1..<n {
            let next = alloc("Chain", [("next", prev)])
            drop(prev)
            prev = next
        }
        XCTAssertEqual(heap.objectCount, n)
        events = HeapEvents(freedIDLimit: 0)
        drop(prev)
        XCTAssertEqual(events.freedCount, n)
        XCTAssertEqual(heap.objectCount, 0)
    }
}
