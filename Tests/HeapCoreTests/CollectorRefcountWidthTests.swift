import XCTest

@testable import HeapCore

/// The collector's gc_refs scratch holds every refcount (issue 14 item 9): an object with
/// 2^31 or more references once read as negative in `update_refs` and was cleared as garbage
/// while referenced.
final class CollectorRefcountWidthTests: HeapTestCase {
    private func survivesCollection(withRefcount forged: UInt32) throws {
        let leaf = alloc("Leaf")
        let node = alloc("Node", [("x", leaf)])
        drop(leaf)
        let old = try heap.forgeRefcount(of: node, to: forged)
        for g in 0...2 {
            let r = try heap.collect(generation: g, events: &events)
            XCTAssertEqual(r.collected, 0, "generation \(g), refcount \(forged)")
        }
        XCTAssertTrue(heap.contains(leaf), "refcount \(forged)")
        XCTAssertEqual(try heap.snapshot(node).fields.map(\.name), ["x"])
        _ = try heap.forgeRefcount(of: node, to: old)
        drop(node)
        XCTAssertFalse(heap.contains(leaf))
    }

    func testReferencedObjectPastInt32IsNotGarbage() throws {
        try survivesCollection(withRefcount: UInt32(Int32.max) + 2)
        try survivesCollection(withRefcount: 1 << 31)
        try survivesCollection(withRefcount: Heap.maxRefcount)
    }

    /// The strongest form (issue 14 item 9 re-checked): a garbage-looking cycle whose only
    /// outside references are 2^31 or more invisible ones (no session, root or field holds it).
    /// update_refs must read gc_refs = refcount - internal edges > 0, so the cycle, and what it
    /// holds, survive collections of every generation, including after promotion.
    private func cycleSurvives(withExternal external: UInt32) throws {
        let a = alloc("Cyc", finalizer: true)
        let b = alloc("Cyc", finalizer: true)
        let leaf = alloc("Leaf")
        link(a, "p", b)
        link(b, "p", a)
        link(b, "leaf", leaf)
        drop(leaf)
        drop(b)
        // a: one session reference + one field (b.p); replace the session's one by `external`.
        let old = try heap.forgeRefcount(of: a, to: external + 1)
        drop(a)  // the session's reference goes: external + 1 - 1 + ... = external + (b.p)
        XCTAssertEqual(refcount(a), Int(external))
        events.removeAll()
        for g in [0, 1, 2, 2] {
            let r = try heap.collect(generation: g, events: &events)
            XCTAssertEqual(r.collected, 0, "generation \(g), external \(external)")
            XCTAssertEqual(takeObservable(), [], "no finalizer may run: generation \(g)")
        }
        XCTAssertTrue(heap.contains(a) && heap.contains(b) && heap.contains(leaf), "external \(external)")
        // Give the real count back (one field reference, b.p): now it is garbage, and collected.
        _ = try heap.forgeRefcount(of: a, to: old - 1)
        let r = try heap.collect(generation: 2, events: &events)
        XCTAssertEqual(r.collected, 3, "external \(external)")
        XCTAssertEqual(takeObservable().sorted(), ["del:\(a)", "del:\(b)"])
        XCTAssertFalse(heap.contains(a) || heap.contains(b) || heap.contains(leaf))
    }

    func testCycleKeptOnlyByReferencesPastInt32IsNotGarbage() throws {
        try cycleSurvives(withExternal: 1 << 31)
        try cycleSurvives(withExternal: (1 << 31) + 1)
        try cycleSurvives(withExternal: UInt32.max / 2 + 7)
        try cycleSurvives(withExternal: Heap.maxRefcount - 1)
    }

    /// The refcount limit holds.
    func testRefcountLimitIsKept() throws {
        let a = alloc()
        let old = try heap.forgeRefcount(of: a, to: Heap.maxRefcount)
        XCTAssertThrowsError(try heap.ref(a, session: session)) {
            XCTAssertEqual($0 as? HeapError, .refcountLimit(a))
        }
        _ = try heap.forgeRefcount(of: a, to: old)
    }
}
