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

    /// The refcount limit stays below the collector's markers.
    func testRefcountLimitIsBelowTheMarkers() throws {
        let a = alloc()
        let old = try heap.forgeRefcount(of: a, to: Heap.maxRefcount)
        XCTAssertThrowsError(try heap.ref(a, session: session)) {
            XCTAssertEqual($0 as? HeapError, .refcountLimit(a))
        }
        XCTAssertLessThan(Heap.maxRefcount, GCRefs.tentativelyUnreachable)
        _ = try heap.forgeRefcount(of: a, to: old)
    }
}
