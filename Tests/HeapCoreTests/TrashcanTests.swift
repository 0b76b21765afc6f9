import XCTest

@testable import HeapCore

/// 3.11's trashcan (RefcountCascade.swift, CPYTHON-GC.md §4.4): the orders CPython 3.11.7 gives
/// (the differential scenarios s32_* run the same shapes against it), and apply's dry run
/// following the same order, so its predicted ids are the real ones.
final class TrashcanTests: HeapTestCase {
    /// A chain of `n` objects by `next`, head first (only the head is held).
    func chain(_ n: Int, finalizer: Bool = true, type: String = "F") -> [ObjectID] {
        var ids: [ObjectID] = []
        var next: ObjectID?
        for _ in 0..<n {
            let id = alloc(type, finalizer: finalizer, next.map { [("next", $0)] } ?? [])
            if let next { drop(next) }
            ids.append(id)
            next = id
        }
        return ids.reversed()
    }

    func testSiblingAfterADeepChainRunsBeforeTheDeferredRest() {
        // R.a -> a0..a99, R.b -> B: R at nesting 1, a0..a48 at 2..50, a49 deferred, then B,
        // then the drain: R, a0...a48, B, a49...a99.
        let a = chain(100)
        let b = alloc("F", finalizer: true)
        let r = alloc("G", finalizer: true, [("a", a[0]), ("b", b)])
        drop(a[0]); drop(b)
        events.removeAll()
        drop(r)
        let expected = [r] + a[..<49] + [b] + a[49...]
        XCTAssertEqual(takeObservable(), expected.map { "del:\($0)" })
    }

    func testADeferredObjectKeepsAWeakrefAliveUntilTheDrain() {
        // a59.w = W = weakref(B, callback): with a59 deferred, W outlives B and calls back.
        let a = chain(60, finalizer: false, type: "N")
        let b = alloc("F", finalizer: true)
        let w = weak(b)
        link(a[59], "w", w)
        drop(w)
        let r = alloc("G", [("a", a[0]), ("b", b)])
        drop(a[0]); drop(b)
        events.removeAll()
        drop(r)
        XCTAssertEqual(takeObservable(), ["del:\(b)", "cb:\(w)"])
        XCTAssertEqual(heap.objectCount, 0)
    }

    func testADeferredWeakrefNeverCallsBack() {
        // W (refcount 0, deferred at nesting 50 under R.a's chain) whose referent B dies before
        // the drain: cleared without its callback (`Py_REFCNT(current) > 0` in
        // PyObject_ClearWeakRefs).
        let a = chain(49, finalizer: false, type: "N")
        let b = alloc("F", finalizer: true)
        let w = weak(b)
        link(a[48], "w", w)
        drop(w)
        let r = alloc("G", [("a", a[0]), ("b", b)])
        drop(a[0]); drop(b)
        events.removeAll()
        drop(r)
        XCTAssertEqual(takeObservable(), ["del:\(b)"])
        XCTAssertEqual(heap.objectCount, 0)
    }

    func testTpClearFreesAtNestingZero() {
        // delete_garbage: tp_clear of a young cycle releases an old R; R, a0..a48, B, a49...
        let a = chain(100)
        let b = alloc("F", finalizer: true)
        let r = alloc("G", finalizer: true, [("a", a[0]), ("b", b)])
        drop(a[0]); drop(b)
        _ = try! heap.collect(generation: 2, events: &events)
        let c1 = alloc("C")
        let c2 = alloc("C", [("p", c1)])
        link(c1, "p", c2)
        link(c1, "r", r)
        drop(r); drop(c1); drop(c2)
        events.removeAll()
        XCTAssertEqual(try heap.collect(generation: 0, events: &events).unreachable, 2)
        let expected = [r] + a[..<49] + [b] + a[49...]
        XCTAssertEqual(takeObservable(), expected.map { "del:\($0)" })
    }

    func testDryRunPredictsIdsAfterATrashcanCascade() throws {
        // Enough frees for slot reuse, from a tree deep and wide enough to defer: the ids the
        // batch's allocations get depend on the order slots went back.
        var spine: ObjectID?
        for _ in 0..<700 {
            let side = alloc("S")
            var fields: [(String, ObjectID)] = [("s", side)]
            if let spine { fields.insert(("next", spine), at: 0) }
            let node = alloc("C", fields)
            drop(side)
            if let spine { drop(spine) }
            spine = node
        }
        let root = alloc("R", [("a", spine!)])
        drop(spine!)
        let ops: [BatchOp] =
            [.unref(.id(root))] + (0..<40).map { _ in .alloc(type: "T", size: nil) }
            + [.set(.result(1), field: "x", target: .result(40)), .unref(.result(40))]
        var dryRun = BatchSimulation(heap, session: session)
        let predicted = dryRun.run(ops)
        let outcome = try heap.applyBatch(ops, atomic: true, session: session, events: &events)
        XCTAssertEqual(predicted.results, outcome.results)
        XCTAssertEqual(predicted.freed, outcome.freed)
        XCTAssertNil(outcome.brokenPrediction)
        XCTAssertTrue(
            outcome.results.contains {
                if case .object(let id) = $0 { return id.reuse > 0 }
                return false
            })
    }
}
