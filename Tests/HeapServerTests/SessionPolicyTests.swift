import HeapCore
import XCTest

@testable import HeapServer

/// Session policy on the server's state itself: attach, detach, close by name, lease expiry.
final class SessionPolicyTests: XCTestCase {
    private var state = ServerState(heap: Heap())
    private var events = HeapEvents()

    private func connect() throws -> ConnectionID { try state.connect(outbox: Outbox(), framing: .ndjson) }
    private func session(of c: ConnectionID) -> SessionID { state.connections[c]!.session }

    func testAnonymousReferencesMoveIntoTheNamedSession() throws {
        let c = try connect()
        let anonymous = session(of: c)
        let id = try state.allocate(AllocationSpec(type: "T"), session: anonymous, &events)
        XCTAssertFalse(try state.attach(c, toSessionNamed: "work"))
        let named = session(of: c)
        XCTAssertEqual(state.heap.sessionName(named), "work")
        XCTAssertNil(state.heap.sessionName(anonymous), "the anonymous session is gone")
        XCTAssertEqual(try state.heap.snapshot(id).refcount, 1, "its reference moved, not dropped")
        XCTAssertEqual(state.attached[named], c)
        XCTAssertTrue(state.heap.checkInvariants().isEmpty)
    }

    func testANamedSessionIsHeldByOneConnectionAndOutlivesIt() throws {
        let a = try connect()
        let b = try connect()
        _ = try state.attach(a, toSessionNamed: "s")
        let named = session(of: a)
        let id = try state.allocate(AllocationSpec(type: "T"), session: named, &events)
        XCTAssertThrowsError(try state.attach(b, toSessionNamed: "s")) {
            guard case ServerError.sessionAttachedElsewhere("s") = $0 else { return XCTFail("\($0)") }
        }
        state.disconnect(a, &events)
        XCTAssertNil(state.attached[named])
        XCTAssertEqual(try state.heap.snapshot(id).refcount, 1, "a named session keeps its references")
        XCTAssertTrue(try state.attach(b, toSessionNamed: "s"), "resumed")
        XCTAssertEqual(session(of: b), named)
    }

    func testDisconnectDropsAnAnonymousSessionsReferences() throws {
        let c = try connect()
        let id = try state.allocate(AllocationSpec(type: "T"), session: session(of: c), &events)
        state.disconnect(c, &events)
        XCTAssertEqual(events.freedIDs, [id])
        XCTAssertEqual(state.heap.sessionCount, 0)
    }

    func testClosingANamedSessionMovesItsConnectionToAFreshOne() throws {
        let c = try connect()
        _ = try state.attach(c, toSessionNamed: "s")
        let named = session(of: c)
        _ = try state.allocate(AllocationSpec(type: "T"), session: named, &events)
        XCTAssertEqual(try state.closeNamed(named, &events), 1)
        XCTAssertEqual(events.freedCount, 1)
        XCTAssertNotEqual(session(of: c), named)
        XCTAssertNil(state.heap.sessionName(session(of: c)), "anonymous")
        XCTAssertEqual(state.closedSessions.map(\.name), ["s"])
        XCTAssertEqual(state.closedSessions.first?.holder, c)
        XCTAssertTrue(state.heap.checkInvariants().isEmpty)
    }

    func testExpiredLeasesCloseTheSessionLikeAnExplicitClose() throws {
        let c = try connect()
        _ = try state.attach(c, toSessionNamed: "leased")
        let named = session(of: c)
        try state.setLease(named, seconds: 5)
        state.startLease(of: named, seconds: 5)
        XCTAssertEqual(state.expireLeases(now: .now, &events), [], "not yet")
        XCTAssertEqual(state.expireLeases(now: .now + .seconds(6), &events), ["leased"])
        XCTAssertNil(state.heap.session(named: "leased"))
        XCTAssertNil(state.leaseDeadlines[named])
        XCTAssertEqual(state.closedSessions.first?.holder, c)
    }
}
