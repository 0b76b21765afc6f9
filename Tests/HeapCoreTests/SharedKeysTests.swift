import XCTest

@testable import HeapCore

/// CPython 3.11's bounded shared keys (CPYTHON-GC.md §4.1 step 5), the failed delete that
/// still interns its name, and one class per (type, finalizer) (issue 14 items 1, 5, 8). The same cases
/// run against real CPython in Tests/differential (scenarios s51-s53).
final class SharedKeysTests: HeapTestCase {
    /// Objects with finalizers stored in `holder`'s fields in the order given; returns the
    /// finalize order when `holder` dies.
    func releaseOrder(_ holder: ObjectID, _ names: [String]) -> [String] {
        var byID: [String: String] = [:]
        for n in names {
            let v = alloc("V", finalizer: true)
            link(holder, n, v)
            drop(v)
            byID["del:\(v)"] = n
        }
        _ = takeObservable()
        drop(holder)
        return takeObservable().compactMap { byID[$0] }
    }

    func testThirtiethNameMakesAnOwnDictReleasedInInsertionOrder() {
        let k1 = alloc("K")
        for i in 0..<30 { link(k1, "a\(i)", k1) }  // a29 no longer fits: k1's own dict
        let k2 = alloc("K")
        XCTAssertEqual(releaseOrder(k2, ["a5", "a29", "a3"]), ["a5", "a29", "a3"])
        for i in 0..<30 { link(k1, "a\(i)", nil) }
    }

    func testNewNameAfterTwentyNineInstancesNoLongerFits() {
        let first = alloc("E")
        _ = releaseOrder(alloc("E"), ["b"])  // b: key 0
        for _ in 0..<40 { drop(alloc("E")) }
        // q takes the last usable slot (key 1), b is key 0, c does not fit: own dict q, b, c.
        XCTAssertEqual(releaseOrder(alloc("E"), ["q", "b", "c"]), ["q", "b", "c"])
        // On shared keys (before the limit) the same names leave in key order.
        drop(first)
        let fresh = alloc("E2")
        _ = releaseOrder(alloc("E2"), ["b"])
        XCTAssertEqual(releaseOrder(alloc("E2"), ["q", "b", "c"]), ["b", "q", "c"])
        drop(fresh)
    }

    func testOwnDictCountsInCollectUntilUntracked() throws {
        var keep: [ObjectID] = []
        for _ in 0..<29 { keep.append(alloc("S")) }
        let s = alloc("S")
        link(s, "k", s)
        link(s, "me", s)  // no room: own dict
        drop(s)
        XCTAssertEqual(try heap.collect(events: &events).collected, 2)
        // Emptied, then a full collection: untracked, no longer counted.
        let z = alloc("S")
        link(z, "y", z)
        link(z, "y", nil)
        _ = try heap.collect(events: &events)
        let a = alloc("N")
        link(a, "me", a)
        link(a, "z", z)
        drop(z)
        drop(a)
        XCTAssertEqual(try heap.collect(events: &events).collected, 2)
        for k in keep { drop(k) }
    }

    func testFailedDeleteThrowsChangesNothingElseAndInterns() throws {
        let d = alloc("D")
        let x = alloc("X")
        XCTAssertThrowsError(
            try heap.set(
                d, fields: [(name: "f", target: x), (name: "b", target: nil)], data: .some(nil), events: &events)
        ) { XCTAssertEqual($0 as? HeapError, .noSuchField(d, field: "b")) }
        XCTAssertEqual(try heap.snapshot(d).fields, [])
        XCTAssertEqual(refcount(x), 1)
        // b is key 0 now, before q.
        XCTAssertEqual(releaseOrder(d, ["q", "b"]), ["b", "q"])
        drop(x)
    }

    func testFailedDeleteIsPredictedByTheDryRunAndReplayed() throws {
        let d = alloc("D")
        let ops: [BatchOp] = [.set(.id(d), field: "b", target: nil)]
        XCTAssertThrowsError(try heap.applyBatch(ops, atomic: true, session: session, events: &events)) {
            XCTAssertEqual($0 as? HeapError, .batchOpFailed(op: 0, name: "set", .noSuchField(d, field: "b")))
        }
        let outcome = try heap.applyBatch(ops, atomic: false, session: session, events: &events)
        XCTAssertEqual(outcome.results, [.failed(.noSuchField(d, field: "b"))])
        // The journal's record of the refused `set` gives the same key order on replay.
        var replayed = Heap()
        var e = HeapEvents()
        let s = try replayed.openSession()
        let r = try replayed.allocate(AllocationSpec(type: "D"), session: s, events: &e)
        _ = try replayed.apply(.failedDelete(r, field: "b"), events: &e)
        _ = try replayed.apply(
            .set(r, fields: [(name: "q", target: r), (name: "b", target: r)], data: nil, size: nil), events: &e)
        XCTAssertEqual(try replayed.snapshot(r).fields.map(\.name), ["b", "q"])
        drop(d)
    }

    func testFinalizerMakesAnotherClassWithItsOwnKeys() {
        let withDel = alloc("T", finalizer: true)
        _ = releaseOrder(alloc("T", finalizer: true), ["b"])  // b is key 0 of class T(__del__)
        // Plain T is another class: its keys start afresh, a before b.
        XCTAssertEqual(releaseOrder(alloc("T"), ["a", "b"]), ["a", "b"])
        let plain = alloc("T")
        XCTAssertEqual(heap.histogram().first { $0.type == "T" }?.count, 2)  // one row per name
        drop(plain)
        drop(withDel)
    }

    func testSnapshotKeepsSharedKeysStateAndOwnDicts() throws {
        var keep: [ObjectID] = []
        for _ in 0..<29 { keep.append(alloc("S")) }
        let o = alloc("S")
        link(o, "k", o)
        link(o, "z", o)
        link(o, "k", nil)
        link(o, "k", o)  // own dict: z, k
        var copy = try roundTrip(heap)
        XCTAssertEqual(copy.checkInvariants(), [])
        XCTAssertEqual(try copy.snapshot(o).fields.map(\.name), ["z", "k"])
        // usable is 0 in both: a new name on another object makes its own dict in both.
        for h in [0, 1] {
            var e = HeapEvents()
            if h == 0 {
                try heap.set(keep[0], fields: [(name: "n", target: o), (name: "k", target: o)], events: &e)
            } else {
                try copy.set(keep[0], fields: [(name: "n", target: o), (name: "k", target: o)], events: &e)
            }
        }
        XCTAssertEqual(try copy.snapshot(keep[0]).fields.map(\.name), ["n", "k"])
        XCTAssertEqual(try heap.snapshot(keep[0]).fields.map(\.name), ["n", "k"])
        link(keep[0], "n", nil)
        link(keep[0], "k", nil)
        link(o, "k", nil)
        link(o, "z", nil)
    }
}
