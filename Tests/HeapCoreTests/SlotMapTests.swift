import XCTest

@testable import HeapCore

/// `SlotMap` behaves as a `[Slot: Value]` dictionary: random inserts, replacements and removals
/// across many buckets give the same contents, count and keys as a dictionary doing the same;
/// and a copy stays as it was when the original changes (its buckets are shared until then).
final class SlotMapTests: XCTestCase {
    func testItBehavesAsADictionary() {
        var rng = SplitMix64(seed: 11)
        var map = SlotMap<UInt64>()
        var model: [Slot: UInt64] = [:]
        var copies: [(SlotMap<UInt64>, [Slot: UInt64])] = []
        for step in 0..<60_000 {
            // Slots over 40 buckets, and some far out (a bucket array with gaps).
            let slot =
                rng.next() % 10 == 0
                ? Slot(rng.next() % 1_000_000) : Slot(rng.next() % UInt64(40 * SlotMap<UInt64>.bucketSlots))
            switch rng.next() % 4 {
            case 0, 1:
                let v = rng.next()
                map[slot] = v
                model[slot] = v
            case 2:
                map[slot] = nil
                model[slot] = nil
            default:
                map[slot, default: 0] += 1
                model[slot, default: 0] += 1
            }
            XCTAssertEqual(map[slot], model[slot])
            if step % 5_000 == 0 { copies.append((map, model)) }
        }
        XCTAssertEqual(map.count, model.count)
        XCTAssertEqual(map.isEmpty, model.isEmpty)
        XCTAssertEqual(Set(map.keys), Set(model.keys))
        XCTAssertEqual(Array(map.keys).count, model.count)
        XCTAssertEqual(
            Dictionary(uniqueKeysWithValues: map.entries.map { ($0.key, $0.value) }), model)
        // Every copy still holds what it held when it was taken.
        for (copy, then) in copies {
            XCTAssertEqual(copy.count, then.count)
            XCTAssertEqual(Dictionary(uniqueKeysWithValues: copy.entries.map { ($0.key, $0.value) }), then)
        }
        map.removeAll()
        XCTAssertTrue(map.isEmpty)
        XCTAssertNil(map[Slot(5)])
        XCTAssertEqual(Array(map.entries).count, 0)
    }
}
