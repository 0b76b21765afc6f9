import XCTest

@testable import HeapCore
@testable import HeapServer

/// The daemon's way of growing the heap's arrays ahead (``ServerState/adoptStorageGrowth(_:)``):
/// the storage made outside the lock must be the storage the heap then uses. A second reference
/// to it (a copy of the `StorageGrowth` kept by the caller) made the first append copy it again,
/// into fresh pages, inside the lock: a 10M build held the lock 627 ms at one adoption.
final class StorageGrowthServerTests: XCTestCase {
    func testTheHeapUsesTheStorageMadeForIt() throws {
        var state = ServerState(heap: Heap())
        state.growAheadMinimumBytes = 0
        let session = try state.heap.openSession()
        var events = HeapEvents()
        var adopted = 0
        for _ in 0..<5000 {
            _ = try state.heap.allocate(
                AllocationSpec(type: "Node", site: "here"), session: session, events: &events)
            guard let plan = state.storageGrowthWanted() else { continue }
            XCTAssertNil(state.storageGrowthWanted(), "one growth is made at a time")
            var made = StorageGrowth.resident(for: plan)
            let address = made.records.withUnsafeBufferPointer { $0.baseAddress }
            let recordsWanted = plan.records.capacity > 0
            state.adoptStorageGrowth(&made)
            XCTAssertTrue(made.records.isEmpty, "the caller keeps no reference to the heap's storage")
            if recordsWanted {
                XCTAssertEqual(state.heap.table.records.withUnsafeBufferPointer { $0.baseAddress }, address)
                adopted += 1
            }
        }
        XCTAssertGreaterThan(adopted, 5)
        XCTAssertGreaterThan(state.storageGrownAhead, 5)
        XCTAssertEqual(state.heap.checkInvariants(), [])
    }
}
