import XCTest

@testable import HeapCore

/// `histogram {generation}` without a pass over every object (issue 12: ≤ 1 ms at 10M): the
/// permanent generation's share is kept per type, and a generation is counted from its own list
/// or from the totals less the other lists, whichever is shorter. Both ways must give what
/// counting that generation's objects one by one gives, after any mix of operations.
final class GenerationHistogramTests: HeapTestCase {
    /// Rows for generation `g`, counted from `gc.get_objects(g)` one object at a time.
    private func counted(_ g: Int) throws -> [TypeCount] {
        var by: [String: (count: Int, bytes: UInt64)] = [:]
        for id in heap.objects(inGeneration: g) {
            let o = try heap.snapshot(id)
            by[o.type, default: (0, 0)].count += 1
            by[o.type, default: (0, 0)].bytes += o.size
        }
        return by.map { TypeCount(type: $0.key, count: $0.value.count, bytes: $0.value.bytes) }
            .sorted { $0.bytes != $1.bytes ? $0.bytes > $1.bytes : $0.type < $1.type }
    }

    func testEveryGenerationMatchesItsObjectsAfterRandomOperations() throws {
        var walked = 0
        var derived = 0
        var scanned = 0
        for seed in 0..<6 {
            setUp()
            var rng = SplitMix64(seed: UInt64(seed))
            var held: [ObjectID] = []
            try heap.setThresholds([Int(rng.next() % 12) + 1, 3, 3])
            for step in 0..<600 {
                switch rng.next() % 20 {
                case 0..<7:
                    let size: UInt64? = rng.next() % 3 == 0 ? nil : rng.next() % 500
                    let spec = AllocationSpec(
                        type: ["A", "B", "C", "D"][Int(rng.next() % 4)], size: size,
                        data: size == nil ? Array("\(step)".utf8) : nil, finalizer: rng.next() % 5 == 0)
                    held.append(try heap.allocate(spec, session: session, events: &events))
                case 7..<10 where held.count > 1:
                    let a = held[Int(rng.next() % UInt64(held.count))]
                    let b = held[Int(rng.next() % UInt64(held.count))]
                    try heap.set(a, fields: [(name: "f\(rng.next() % 3)", target: b)], events: &events)
                case 10..<12 where !held.isEmpty:
                    // Resizes, frozen objects' included.
                    let a = held[Int(rng.next() % UInt64(held.count))]
                    try heap.set(a, fields: [], size: rng.next() % 900, events: &events)
                case 12..<15 where !held.isEmpty:
                    let i = Int(rng.next() % UInt64(held.count))
                    drop(held.remove(at: i))
                case 15:
                    _ = try heap.collect(generation: Int(rng.next() % 3), events: &events)
                case 16:
                    heap.freeze()
                case 17:
                    heap.unfreeze()
                case 18:
                    // Off for a while: generation 0 grows past the others.
                    heap.setEnabled(rng.next() % 3 != 0)
                default:
                    break
                }
                events.removeAll()
                let sizes = heap.generationSizes
                for g in 0...3 {
                    if g < 3 {
                        let others = (0...2).filter { $0 != g }.reduce(0) { $0 + sizes[$1] }
                        if min(sizes[g], others) >= (heap.table.records.count - 8) / 4 {
                            scanned += 1
                        } else if sizes[g] <= others {
                            walked += 1
                        } else {
                            derived += 1
                        }
                    }
                    XCTAssertEqual(
                        try heap.typeHistogram(generation: g), try counted(g),
                        "seed \(seed) step \(step) generation \(g)")
                }
            }
            XCTAssertEqual(heap.checkInvariants(), [], "seed \(seed)")
            XCTAssertEqual(try roundTrip(heap).typeHistogram(generation: 3), try counted(3), "seed \(seed) restored")
        }
        // Every way of counting was taken, many times.
        XCTAssertGreaterThan(walked, 1000)
        XCTAssertGreaterThan(derived, 500)
        XCTAssertGreaterThan(scanned, 200)
        XCTAssertThrowsError(try heap.typeHistogram(generation: 4))
        XCTAssertThrowsError(try heap.typeHistogram(generation: -1))
    }
}
