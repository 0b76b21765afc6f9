import XCTest

@testable import HeapCore

/// Every table a client can grow is bounded (issue 15 item 5): types are forgotten once no
/// object of theirs lives, roots and named sessions count against limits, field names are
/// capped.
final class QuotaTests: HeapTestCase {
    private func run(_ op: HeapOperation) throws -> OperationOutcome { try heap.apply(op, events: &events) }

    private func allocOp(_ type: String, _ fields: [(name: String, target: ObjectID)] = []) throws -> ObjectID {
        guard
            case .object(let id) = try run(
                .allocate(
                    AllocationSpec(type: type, fields: fields),
                    session: session))
        else { throw XCTSkip("no id") }
        return id
    }

    /// 10,000 objects, each of a new 1,000-byte type name, freed at once: the registry keeps
    /// no more entries than types alive at one time (plus `weakref`).
    func testTypesWithNoLiveObjectAreForgotten() throws {
        for i in 0..<10_000 {
            let name = String(repeating: "T", count: 990) + String(i)
            let id = try allocOp(name)
            _ = try run(.unref(id, session: session))
        }
        XCTAssertEqual(heap.types.liveTypeCount, 1)  // weakref
        XCTAssertLessThanOrEqual(heap.types.entries.count, 2)
        XCTAssertEqual(heap.histogram().count, 0)
    }

    /// A type forgotten and made again is a new class: its key order starts afresh (what
    /// Python gives when a class is re-created); while one instance lives, the order stays.
    func testForgottenTypeStartsANewKeyTable() throws {
        let t = try allocOp("Leaf")
        let a = try allocOp("Node", [("x", t), ("y", t)])
        let b = try allocOp("Node", [("y", t)])
        _ = try run(.unref(a, session: session))
        // b keeps Node alive: x stays key 0.
        _ = try run(.set(b, fields: [(name: "x", target: t)], data: nil, size: nil))
        XCTAssertEqual(try heap.snapshot(b).fields.map(\.name), ["x", "y"])
        _ = try run(.unref(b, session: session))
        // No Node is alive: a new Node type, whose first key is y.
        let c = try allocOp("Node", [("y", t), ("x", t)])
        XCTAssertEqual(try heap.snapshot(c).fields.map(\.name), ["y", "x"])
    }

    /// The last instance dying inside the operation that makes the next one (here an atomic
    /// batch) keeps the type: Python's caller holds the class meanwhile.
    func testTypeSurvivesWithinOneOperation() throws {
        let t = try allocOp("Leaf")
        let a = try allocOp("Node", [("x", t), ("y", t)])
        guard
            case .batch(let outcome) = try run(
                .batch(
                    [
                        .unref(.id(a)), .alloc(type: "Node", size: nil), .set(.result(1), field: "y", target: .id(t)),
                        .set(.result(1), field: "x", target: .id(t)),
                    ], atomic: true, session: session)), case .object(let n) = outcome.results[1]
        else {
            return XCTFail("batch")
        }
        XCTAssertEqual(try heap.snapshot(n).fields.map(\.name), ["x", "y"])
    }

    /// Forgotten ids survive a snapshot (placeholders) and are reused after it.
    func testSnapshotKeepsForgottenTypeIDs() throws {
        let keep = try allocOp("Keep")
        let gone = try allocOp("Gone")
        _ = try run(.unref(gone, session: session))
        var bytes: [UInt8] = []
        heap.writeSnapshot { bytes.append(contentsOf: $0) }
        var restored = try bytes.withUnsafeBytes { raw in
            var r = BinaryReader(raw)
            return try Heap(snapshot: &r)
        }
        XCTAssertEqual(restored.types.free, heap.types.free)
        XCTAssertEqual(try restored.snapshot(keep).type, "Keep")
        var e = HeapEvents()
        let s = try restored.openSession()
        let again = try restored.allocate(AllocationSpec(type: "New"), session: s, events: &e)
        XCTAssertEqual(try restored.snapshot(again).type, "New")
        XCTAssertEqual(restored.types.entries.count, heap.types.entries.count)
        XCTAssertEqual(restored.checkInvariants(), [])
    }

    /// A forgotten type before a live one: the live one keeps its id across a snapshot (the
    /// placeholder's id is free, but not given to the next type listed).
    func testSnapshotKeepsTypeIDsAfterAForgottenOne() throws {
        let gone = try allocOp("Gone")
        let keep = try allocOp("Keep")
        _ = try run(.unref(gone, session: session))
        var bytes: [UInt8] = []
        heap.writeSnapshot { bytes.append(contentsOf: $0) }
        let restored = try bytes.withUnsafeBytes { raw in
            var r = BinaryReader(raw)
            return try Heap(snapshot: &r)
        }
        XCTAssertEqual(try restored.snapshot(keep).type, "Keep")
        XCTAssertEqual(restored.types.free, heap.types.free)
        XCTAssertEqual(restored.checkInvariants(), [])
    }

    func testRootsCountAgainstTheirLimit() throws {
        heap.limits.maxRoots = 3
        let a = try allocOp("A")
        for name in ["r1", "r2", "r3"] { try heap.setRoot(name, to: a, events: &events) }
        XCTAssertThrowsError(try heap.setRoot("r4", to: a, events: &events)) {
            XCTAssertEqual($0 as? HeapError, .rootQuota(limit: 3))
        }
        try heap.setRoot("r1", to: a, events: &events)  // rebinding takes no new entry
        try heap.setRoot("r1", to: nil, events: &events)
        try heap.setRoot("r4", to: a, events: &events)
        XCTAssertEqual(heap.rootCount, 3)
        for name in ["r2", "r3", "r4"] { try heap.setRoot(name, to: nil, events: &events) }
    }

    func testNamedSessionsCountAgainstTheirLimit() throws {
        heap.limits.maxSessions = 2
        let one = try heap.openSession(name: "one")
        _ = try heap.openSession(name: "two")
        XCTAssertThrowsError(try heap.openSession(name: "three")) {
            XCTAssertEqual($0 as? HeapError, .sessionQuota(limit: 2))
        }
        _ = try heap.openSession()  // anonymous: one per connection
        try heap.closeSession(one, events: &events)
        _ = try heap.openSession(name: "three")
    }

    func testFieldNamesAreCapped() throws {
        let a = try allocOp("A")
        let long = String(repeating: "f", count: HeapLimits.maxFieldNameBytes + 1)
        XCTAssertThrowsError(try heap.set(a, fields: [(name: long, target: a)], events: &events)) {
            XCTAssertEqual($0 as? HeapError, .fieldNameTooLong(limit: 1024))
        }
        XCTAssertThrowsError(
            try heap.allocate(
                AllocationSpec(type: "A", fields: [(name: long, target: a)]),
                session: session, events: &events)
        ) {
            XCTAssertEqual($0 as? HeapError, .fieldNameTooLong(limit: 1024))
        }
        let ok = String(repeating: "f", count: HeapLimits.maxFieldNameBytes)
        try heap.set(a, fields: [(name: ok, target: a)], events: &events)
        try heap.set(a, fields: [(name: ok, target: nil)], events: &events)
    }
}
