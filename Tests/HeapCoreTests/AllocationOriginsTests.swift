import XCTest

@testable import HeapCore

/// Allocation origins (issue 16 item 6): site, session and second per object, 4 bytes each
/// (issue 14: a birth per (site, session, second) holds the second); the (site, session) table
/// is shared by the objects allocated there and forgets an entry with its last object, so a
/// client sending a new site per object cannot grow it past its objects.
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

    /// What the 4 bytes per object rest on: objects of one (site, session, second) share a birth,
    /// whichever order sites interleave in; a new second starts one; the last object takes it.
    func testObjectsOfOneSecondShareABirth() throws {
        heap.setClock(100)
        let early = (0..<3).map { _ in alloc(site: "a") }
        XCTAssertEqual(heap.origins.liveBirthCount, 1)
        heap.setClock(101)
        var late: [ObjectID] = []
        for _ in 0..<3 { late += [alloc(site: "a"), alloc(site: "b"), alloc(site: nil)] }
        XCTAssertEqual(heap.origins.liveBirthCount, 4, "(a, 100), (a, 101), (b, 101), (nil, 101)")
        XCTAssertEqual(heap.origins.liveOriginCount, 3)
        for id in early { XCTAssertEqual(try heap.origin(of: id)?.time, 100) }
        for id in late { XCTAssertEqual(try heap.origin(of: id)?.time, 101) }
        for id in early { drop(id) }
        XCTAssertEqual(heap.origins.liveBirthCount, 3)
        let restored = try roundTrip(heap)
        XCTAssertEqual(restored.origins.liveBirthCount, 3, "rebuilt from the per-slot form")
        for id in late { XCTAssertEqual(try restored.origin(of: id), try heap.origin(of: id)) }
        for id in late { drop(id) }
        XCTAssertEqual(heap.origins.liveBirthCount, 0)
        XCTAssertEqual(heap.origins.liveOriginCount, 0)
        XCTAssertLessThanOrEqual(heap.origins.births.count, 5, "freed births are reused")
    }

    /// Plain garbage dies in `PlainGarbageSweep`, which forgets births after the sweep.
    func testGarbageCyclesForgetTheirBirths() throws {
        heap.setClock(7)
        for i in 0..<200 {
            let a = alloc(site: "cycle \(i % 3)")
            let b = alloc(site: "cycle \(i % 3)")
            link(a, "next", b)
            link(b, "next", a)
            drop(a)
            drop(b)
        }
        let keep = alloc(site: "cycle 0")
        XCTAssertEqual(heap.origins.liveBirthCount, 3)
        let runs = heap.fastPathRuns.plainSweeps
        XCTAssertEqual(try heap.collect(events: &events).collected, 400)
        XCTAssertEqual(heap.fastPathRuns.plainSweeps, runs + 1, "the plain sweep ran")
        XCTAssertEqual(heap.origins.liveBirthCount, 1)
        XCTAssertEqual(heap.origins.liveOriginCount, 1)
        XCTAssertEqual(try heap.origin(of: keep)?.time, 7)
    }

    /// Entry 0 stands for "unknown"; a damaged snapshot giving it a site is refused.
    func testAnUnknownEntryWithASiteIsRefused() throws {
        func decode(unknownSite: String?) throws -> AllocationOrigins? {
            var w = BinaryWriter()
            w.varint(1)
            w.optional(unknownSite) { $0.string($1) }
            w.varint(0)
            w.optional(String?.none) { $0.string($1) }
            w.raw([UInt32]())
            w.raw([UInt32]())
            let bytes = w.takeBytes()
            return try bytes.withUnsafeBytes { raw in
                var r = BinaryReader(raw)
                return try AllocationOrigins.decode(&r, slotCount: 8, isLive: { _ in false })
            }
        }
        XCTAssertNotNil(try decode(unknownSite: nil))
        XCTAssertNil(try decode(unknownSite: "x.py:1"))
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
