import XCTest

@testable import HeapCore

/// `gc.freeze()` / `gc.unfreeze()` merge lists without visiting objects (issue 14, complexity):
/// each object's generation is its list code's. The invariant checker (run after every step
/// here) walks every list and compares each object's generation and each generation's count
/// with what the lists hold, so a wrong relabelling or count cannot pass.
final class GenerationCodesTests: HeapTestCase {
    private func checkEveryStep(_ step: String) {
        XCTAssertEqual(heap.checkInvariants(), [], step)
    }

    func testFreezeAndUnfreezeKeepGenerationsAndCounts() throws {
        let a = alloc("A")
        _ = try heap.collect(generation: 0, events: &events)
        let b = alloc("B")
        XCTAssertEqual(try heap.generation(of: a), 1)
        XCTAssertEqual(try heap.generation(of: b), 0)
        heap.freeze()
        checkEveryStep("freeze")
        XCTAssertEqual(heap.freezeCount, 2)
        XCTAssertEqual(heap.generationSizes, [0, 0, 0, 2])
        XCTAssertEqual(try heap.generation(of: a), 3)
        let c = alloc("C")
        XCTAssertEqual(try heap.generation(of: c), 0)
        heap.unfreeze()
        checkEveryStep("unfreeze")
        XCTAssertEqual(heap.generationSizes, [1, 0, 2, 0])
        XCTAssertEqual([try heap.generation(of: a), try heap.generation(of: b)], [2, 2])
    }

    /// Many freezes with survivors in every generation and no full collection in between use up
    /// the 16 codes; the walk that relabels them must leave everything as it was.
    func testCodesRunningOutRelabelsTheLists() throws {
        var rng = SplitMix64(seed: 14)
        var live: [ObjectID] = []
        for round in 0..<200 {
            switch rng.next() % 7 {
            case 0: heap.freeze()
            case 1: heap.unfreeze()
            case 2: _ = try heap.collect(generation: Int(rng.next() % 3), events: &events)
            case 3 where !live.isEmpty: drop(live.remove(at: Int(rng.next() % UInt64(live.count))))
            default: live.append(alloc("T\(rng.next() % 3)"))
            }
            checkEveryStep("round \(round)")
        }
        XCTAssertGreaterThan(heap.table.codes.relabellings, 0, "the codes never ran out: the test tests nothing")
        let sizes = heap.generationSizes
        XCTAssertEqual(sizes.reduce(0, +), live.count)
        XCTAssertEqual(sizes[3], heap.freezeCount)
    }

    /// A snapshot stores each object's generation, not its code: equal heaps give equal bytes.
    func testSnapshotAfterMergesRestoresTheSameGenerations() throws {
        let ids = (0..<20).map { _ in alloc("N") }
        for _ in 0..<6 {
            heap.freeze()
            alloc("M")
            _ = try heap.collect(generation: 1, events: &events)
        }
        heap.unfreeze()
        var bytes: [UInt8] = []
        heap.writeSnapshot { bytes.append(contentsOf: $0) }
        let restored = try bytes.withUnsafeBytes { raw in
            var reader = BinaryReader(raw)
            return try Heap(snapshot: &reader)
        }
        XCTAssertEqual(restored.checkInvariants(), [])
        XCTAssertEqual(restored.generationSizes, heap.generationSizes)
        for id in ids { XCTAssertEqual(try restored.generation(of: id), try heap.generation(of: id)) }
        var again: [UInt8] = []
        restored.writeSnapshot { again.append(contentsOf: $0) }
        XCTAssertTrue(again == bytes, "a restored heap writes the same snapshot")
    }
}
