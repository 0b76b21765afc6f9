import XCTest

@testable import HeapCore

/// Weakrefs leave their referent's list in O(1) (issue 14: each death scanned an array of all
/// weakrefs to the referent). The order of what stays must not change: callbacks newest first.
final class WeakrefListsTests: HeapTestCase {
    func testDroppingWeakrefsKeepsTheOthersInOrder() {
        let target = alloc("Target")
        let refs = (0..<1000).map { _ in weak(target) }
        // Drop the middle, the oldest and the newest of the rest, and every third one.
        var kept: [ObjectID] = []
        for (i, w) in refs.enumerated() {
            if i % 3 == 0 || i == 1 || i == 998 || i == 500 { drop(w) } else { kept.append(w) }
        }
        XCTAssertEqual(try heap.inspect(target).weakrefs, kept.reversed())
        events.removeAll()
        drop(target)
        XCTAssertEqual(takeObservable(), kept.reversed().map { "cb:\($0)" })
    }

    func testDroppingAllWeakrefsClearsTheReferentsList() throws {
        let target = alloc("Target")
        let refs = (0..<10).map { _ in weak(target) }
        for w in refs.shuffled() { drop(w) }
        XCTAssertEqual(try heap.inspect(target).weakrefs, [])
        XCTAssertTrue(heap.table.weakrefs.referents.isEmpty)
        let again = weak(target)
        XCTAssertEqual(try heap.inspect(target).weakrefs, [again])
    }
}
