import Foundation
import HeapCore
import HeapProtocol
import HeapServerTesting
import XCTest

@testable import HeapServer

/// The server's side of a graph taken in slices (``HeapAccess``), with the steps of two
/// requests interleaved by hand: what the slow half checks at the graph's moment, and what a
/// change must drop afterwards.
final class GraphCaptureServerTests: XCTestCase {
    var service: HeapService!
    var connection: ConnectionID!
    var session: SessionID!

    override func setUp() {
        service = EmbeddedConnection.service()
        connection = service.connect(outbox: Outbox(), framing: .ndjson)!
        session = service.withState { $0.connections[self.connection]!.session }
        service.withState { $0.graphSliceSlots = 8 }
    }

    func request(slicing: Bool) -> RequestContext {
        RequestContext(
            connection: connection, session: session, environment: service.environment, events: HeapEvents(),
            heapAccess: slicing ? HeapAccess(service: service) : nil)
    }

    @discardableResult
    func allocate(_ type: String, count: Int = 1) -> [ObjectID] {
        service.withState { s in
            var e = HeapEvents()
            return (0..<count).map { _ in try! s.allocate(AllocationSpec(type: type), session: self.session, &e) }
        }
    }

    /// An object freed between the request and the graph's moment is an error (as the request
    /// would be now), not "reachable: false": it was never live and unreachable.
    func testAnObjectFreedWhileTheSlicesAreTakenIsAnError() throws {
        let ids = allocate("A", count: 100)
        let path = PathRequest(id: ids[7], limit: 1)
        let slowHalf = try service.withState { s -> @Sendable () throws -> PathRequest.Result in
            var r = request(slicing: true)
            return try path.prepare(&s, &r)
        }
        service.withState { s in
            var e = HeapEvents()
            _ = try! s.unref(ids[7], session: self.session, &e)
        }
        XCTAssertThrowsError(try slowHalf()) { error in
            XCTAssertEqual(error as? HeapError, .noSuchObject(ids[7], .freed))
        }
        XCTAssertGreaterThan(service.withState { $0.graphSlices }, 10, "taken in slices")
        // The graph it took is cached all the same, for the next question.
        XCTAssertEqual(service.withState { $0.cachedGraph?.version == $0.heapVersion }, true)
    }

    /// A `dominators` whose slow half finds a graph cached by a batch (one piece) after a change:
    /// the tree it stores must be dropped by the next change, not held, stale, forever.
    /// (From a review of the first version.)
    func testATreeBuiltFromAGraphCachedByABatchIsDroppedByTheNextChange() throws {
        allocate("A", count: 100)
        let slowHalf = try service.withState { s in try s.dominatorTreeLater(request(slicing: true)) { _ in () } }
        allocate("B")
        _ = try service.withState { s in try s.inspectionGraphLater(request(slicing: false)) }
        let version = try slowHalf().0.version
        XCTAssertNotNil(service.withState { $0.dominatorCache.tree(for: version) })
        allocate("C")
        XCTAssertNil(service.withState { $0.dominatorCache.tree(for: version) }, "stale tree still held")
    }
}
