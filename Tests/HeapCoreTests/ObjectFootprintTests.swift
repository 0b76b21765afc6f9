import XCTest

@testable import HeapCore

/// What an object costs in the core's per-slot storage (issue 14: at most 52 bytes for a
/// two-field object, which `heapd-gcbench` measures as resident memory). Counted from the
/// arrays' lengths, not their capacities, so the figure does not depend on when they doubled:
/// a wider record, or objects of one second and site not sharing their birth, fails it. (A new
/// per-slot array elsewhere would not: `heapd-gcbench` reports resident bytes.)
final class ObjectFootprintTests: HeapTestCase {
    func testATwoFieldObjectCostsFiftyTwoBytes() throws {
        XCTAssertEqual(MemoryLayout<ObjectRecord>.stride, 32)
        heap.setClock(1_800_000_000)
        let n = 8192
        var last = alloc()
        for _ in 1..<n {
            let next = try heap.allocate(
                AllocationSpec(
                    type: "Node", fields: [(name: "a", target: last), (name: "b", target: last)], site: "x.py:1"),
                session: session, events: &events)
            drop(last)
            last = next
        }
        XCTAssertEqual(heap.objectCount, n)
        let perSlot =
            heap.table.records.count * MemoryLayout<ObjectRecord>.stride + heap.origins.birthOf.count * 4
        let shared =
            heap.origins.births.count * MemoryLayout<AllocationOrigins.Birth>.stride + heap.fieldPool.entries.count * 8
        let perObject = Double(perSlot + shared) / Double(n)
        XCTAssertLessThanOrEqual(perObject, 52.1, "bytes per two-field object")
        XCTAssertGreaterThanOrEqual(perObject, 51.9, "every object is counted")
    }
}
