import XCTest

@testable import HeapCore

/// Allocation origins (issue 16 item 6): site, session and second per object, 8 bytes each;
/// the (site, session) table is shared by the objects allocated there and forgets an entry with
/// its last object, so a client sending a new site per object cannot grow it past its objects.
final class AllocationOriginsTests: HeapTestCase {
    private func alloc(site: String?) -> ObjectID {
        try! heap.allocate(AllocationSpec(type: "Node", site: site), session: session, events: &events)
    }

    func testOriginIsRecordedAndForgottenWithTheObject() throws {
        heap.setClock(1_700_000_000)
        let a = alloc(site: "a.py:1")
        let b = alloc(site: "a.py:1")
        let c = alloc(site: nil)
        XCTAssertEqual(
            try heap.origin(of: a),
            AllocationOrigin(site: "a.py:1", session: session, sessionName: nil, time: 1_700_000_000))
        XCTAssertEqual(try heap.origin(of: c)?.site, nil)
        XCTAssertEqual(heap.origins.liveOriginCount, 2, "one entry per (site, session)")
        drop(a)
        XCTAssertEqual(heap.origins.liveOriginCount, 2)
        drop(b)
        XCTAssertEqual(heap.origins.liveOriginCount, 1, "forgotten with its last object")
        drop(c)
        XCTAssertEqual(heap.origins.liveOriginCount, 0)
    }

    func testUniqueSitesCostWhatTheirObjectsCost() {
        for i in 0..<1000 { drop(alloc(site: "site \(i)")) }
        XCTAssertEqual(heap.origins.liveOriginCount, 0)
        XCTAssertLessThanOrEqual(heap.origins.entries.count, 2, "freed entries are reused")
    }

    func testSiteHistogramAndSnapshotRoundTrip() throws {
        heap.setClock(42)
        let ids = (0..<30).map { alloc(site: "s\($0 % 3)") } + [alloc(site: nil)]
        XCTAssertEqual(heap.siteHistogram().map(\.count).sorted(), [1, 10, 10, 10])
        for id in ids.prefix(5) { drop(id) }
        let restored = try roundTrip(heap)
        XCTAssertEqual(restored.clock, 42)
        for id in ids.dropFirst(5) { XCTAssertEqual(try restored.origin(of: id), try heap.origin(of: id)) }
        XCTAssertEqual(restored.origins.liveOriginCount, heap.origins.liveOriginCount)
    }

    func testTickAndSiteReplayFromTheirBinaryForm() throws {
        let ops: [HeapOperation] = [
            .tick(123), .allocate(AllocationSpec(type: "T", site: "x.py:9"), session: session),
            .batch([.alloc(type: "T", size: nil, site: "y.py:1")], atomic: false, session: session),
        ]
        var replayed = heap
        for op in ops {
            var w = BinaryWriter()
            op.encode(into: &w)
            var bytes = w.takeBytes()
            let decoded = try bytes.withUnsafeMutableBytes { raw in
                var r = BinaryReader(UnsafeRawBufferPointer(raw))
                return try HeapOperation.decode(from: &r)
            }
            _ = try replayed.apply(decoded, events: &events)
        }
        let sites = replayed.siteHistogram().compactMap(\.site).sorted()
        XCTAssertEqual(sites, ["x.py:9", "y.py:1"])
        XCTAssertEqual(replayed.clock, 123)
    }
}
