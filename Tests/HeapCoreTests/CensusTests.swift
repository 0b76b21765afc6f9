import XCTest

@testable import HeapCore

/// `snapshot.diff`'s core: censuses compared slot by slot must give exactly the ids the test
/// itself allocated and freed, also when freed slots are reused by new objects.
final class CensusTests: HeapTestCase {
    func testDiffAcrossReusedSlotsIsExact() {
        var live: [ObjectID: String] = [:]
        for i in 0..<3000 {
            let type = i % 3 == 0 ? "A" : "B"
            live[alloc(type, data: "\"\(i)\"")] = type
        }
        let before = heap.census()
        let beforeLive = live
        // Free two thirds: more than the reuse threshold, so new objects take old slots.
        for id in live.keys.sorted().enumerated().filter({ $0.offset % 3 != 0 }).map(\.element) {
            drop(id)
            live[id] = nil
        }
        for i in 0..<2500 { live[alloc("C", data: "\"\(i)\"")] = "C" }
        let after = heap.census()
        XCTAssertEqual(after.objects, live.count)
        XCTAssertNil(after.problem())

        let diff = CensusDiff(from: before, to: after, idLimit: .max)
        let wantNew = Set(live.keys).subtracting(beforeLive.keys)
        let wantFreed = Set(beforeLive.keys).subtracting(live.keys)
        XCTAssertTrue(wantNew.contains { $0.reuse > 0 }, "the workload must reuse slots")
        XCTAssertEqual(diff.new.ids, wantNew.sorted())
        XCTAssertEqual(diff.freed.ids, wantFreed.sorted())
        XCTAssertEqual(diff.new.count, wantNew.count)
        XCTAssertFalse(diff.new.truncated)
        let c = diff.byType.first { $0.type == "C" }
        XCTAssertEqual(c?.new, 2500)
        XCTAssertEqual(c?.freed, 0)
        XCTAssertEqual(diff.byType.first { $0.type == "B" }?.freed, wantFreed.filter { beforeLive[$0] == "B" }.count)

        // Cut lists keep the smallest ids, exact totals, and say so.
        let cut = CensusDiff(from: before, to: after, idLimit: 10)
        XCTAssertEqual(cut.new.ids, Array(wantNew.sorted().prefix(10)))
        XCTAssertTrue(cut.new.truncated)
        XCTAssertEqual(cut.new.bytes, diff.new.bytes)

        // A census against itself: nothing new, nothing freed.
        let same = CensusDiff(from: after, to: after)
        XCTAssertEqual(same.new.count + same.freed.count, 0)
        XCTAssertTrue(same.byType.isEmpty)
    }

    func testLeaksAreTheObjectsOfTheMiddleIntervalStillAlive() {
        let old = alloc("Old")
        let first = heap.census()
        let leaked = alloc("Entry", data: "\"x\"")
        let temporary = alloc("Temp")
        let second = heap.census()
        drop(temporary)
        _ = alloc("Later")
        let leaks = CensusLeaks(first: first, second: second, third: heap.census())
        XCTAssertEqual(leaks.leaked.ids, [leaked])
        XCTAssertEqual(leaks.byType, [TypeCount(type: "Entry", count: 1, bytes: 3)])
        _ = old
    }

    func testDamagedStreamsAreFound() {
        for i in 0..<50 { alloc(i % 2 == 0 ? "P" : "Q", data: "\(i)") }
        let census = heap.census()
        XCTAssertNil(census.problem())
        var wrongType = census.slots
        if let at = wrongType.firstIndex(where: { $0 != 0 }) { wrongType[at + 1] = 9 }  // type index 9 of 2
        XCTAssertNotNil(
            HeapCensus(
                typeNames: census.typeNames, slots: wrongType, slotCount: census.slotCount,
                objects: census.objects, bytes: census.bytes
            ).problem())
        XCTAssertNotNil(
            HeapCensus(
                typeNames: census.typeNames, slots: census.slots.dropLast(), slotCount: census.slotCount,
                objects: census.objects, bytes: census.bytes
            ).problem())
        XCTAssertNotNil(
            HeapCensus(
                typeNames: census.typeNames, slots: census.slots, slotCount: census.slotCount,
                objects: census.objects + 1, bytes: census.bytes
            ).problem())
    }

    func testSmallestIDsKeepsTheSmallestAscending() {
        var rng = SplitMix64(seed: 7)
        var values: [UInt64] = []
        var kept = SmallestIDs(limit: 100)
        for _ in 0..<10_000 {
            let v = rng.next() % 1_000_000
            values.append(v)
            kept.add(v)
        }
        XCTAssertEqual(kept.result().ids.map(\.raw), Array(values.sorted().prefix(100)))
        XCTAssertTrue(kept.result().truncated)
    }
}
