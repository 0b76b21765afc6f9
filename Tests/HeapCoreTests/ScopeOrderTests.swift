import XCTest

@testable import HeapCore

/// Leaving a scope releases its references in the order they were taken, as a Python frame
/// clears its locals in slot order (issue 14 item 7); it was ascending id order.
final class ScopeOrderTests: HeapTestCase {
    /// Objects a, b, c (ids ascending) held only by roots; a scope then takes `order`.
    private func heldOnlyByAScope(
        taking order: (ObjectID, ObjectID, ObjectID) -> [ObjectID]
    )
        throws -> (ObjectID, ObjectID, ObjectID)
    {
        let a = alloc("A", finalizer: true)
        let b = alloc("B", finalizer: true)
        let c = alloc("C", finalizer: true)
        for (name, id) in [("a", a), ("b", b), ("c", c)] {
            try heap.setRoot(name, to: id, events: &events)
            drop(id)
        }
        _ = try heap.enterScope(session)
        for id in order(a, b, c) { _ = try heap.ref(id, session: session) }
        for name in ["a", "b", "c"] { try heap.setRoot(name, to: nil, events: &events) }
        events.removeAll()
        return (a, b, c)
    }

    private func finalized(_ e: HeapEvents) -> [ObjectID] {
        e.observable.compactMap { if case .finalize(let id, _) = $0 { return id } else { return nil } }
    }

    func testScopeExitReleasesInTheOrderTaken() throws {
        let (a, b, c) = try heldOnlyByAScope { a, b, c in [c, a, b] }
        _ = try heap.exitScope(session, events: &events)
        XCTAssertEqual(finalized(events), [c, a, b])
    }

    /// `unref` drops the most recent reference to the object; the others keep their places.
    func testUnrefDropsTheLatestReference() throws {
        let (a, b, _) = try heldOnlyByAScope { a, b, c in [b, a, c, b] }
        drop(b)  // the scope holds [b, a, c]
        _ = try heap.exitScope(session, events: &events)
        XCTAssertEqual(finalized(events).prefix(2), [b, a])
    }

    /// The order survives a snapshot (runs of one object included).
    func testSnapshotKeepsTheOrderTaken() throws {
        let (a, b, c) = try heldOnlyByAScope { a, b, c in [c, c, a, b] }
        var bytes: [UInt8] = []
        heap.writeSnapshot { bytes.append(contentsOf: $0) }
        var restored = try bytes.withUnsafeBytes { raw in
            var r = BinaryReader(raw)
            return try Heap(snapshot: &r)
        }
        var e = HeapEvents()
        _ = try restored.exitScope(session, events: &e)
        XCTAssertEqual(finalized(e), [c, a, b])
        XCTAssertEqual(restored.checkInvariants(), [])
        _ = try heap.exitScope(session, events: &events)
        XCTAssertEqual(finalized(events), [c, a, b])
    }
}
