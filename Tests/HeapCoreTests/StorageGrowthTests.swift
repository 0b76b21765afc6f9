import XCTest

@testable import HeapCore

/// The heap's arrays grown ahead of need (``StorageGrowth``): adopting storage made apart leaves
/// the heap exactly as it was, later growth uses it (no doubling inside the lock), and an array
/// that grew by itself meanwhile keeps its own storage.
final class StorageGrowthTests: HeapTestCase {
    private func snapshotBytes(_ h: Heap) -> [UInt8] {
        var bytes: [UInt8] = []
        h.writeSnapshot { bytes.append(contentsOf: $0) }
        return bytes
    }

    /// Allocates linked objects with sites until the object table is within an eighth of full.
    private func fillUntilGrowthWanted() throws -> StorageGrowth.Plan {
        var previous: ObjectID?
        for i in 0..<100_000 {
            if let plan = heap.storageGrowthWanted(minimumBytes: 0), plan.records.capacity > 0 { return plan }
            let fields = previous.map { [(name: "next", target: $0)] } ?? []
            let id = try heap.allocate(
                AllocationSpec(type: "Node", fields: fields, site: "site\(i % 3)"), session: session, events: &events)
            if let previous { drop(previous) }
            previous = id
        }
        throw XCTSkip("the table never came within an eighth of full")
    }

    func testAdoptedStorageKeepsTheHeapAndTakesLaterGrowth() throws {
        _ = try fillUntilGrowthWanted()
        // Past the first plan, so that the arrays are big enough for a real copy.
        for _ in 0..<3 {
            var growth = StorageGrowth.resident(for: heap.storageGrowthWanted(minimumBytes: 0)!)
            heap.adoptStorage(&growth)
            _ = try fillUntilGrowthWanted()
        }
        let plan = heap.storageGrowthWanted(minimumBytes: 0)!
        XCTAssertEqual(
            plan.records, .init(capacity: 2 * heap.table.records.capacity, faulted: heap.table.records.capacity))
        let before = snapshotBytes(heap)
        let count = heap.table.records.count
        var growth = StorageGrowth.resident(for: plan)
        XCTAssertGreaterThanOrEqual(growth.records.capacity, plan.records.capacity)
        let copied = heap.adoptStorage(&growth)
        XCTAssertGreaterThanOrEqual(copied, count * MemoryLayout<ObjectRecord>.stride)
        // The old storage went back to the caller, to be freed outside the lock.
        XCTAssertEqual(growth.records.count, count)
        XCTAssertGreaterThanOrEqual(heap.table.records.capacity, plan.records.capacity)
        XCTAssertEqual(snapshotBytes(heap), before)
        XCTAssertEqual(heap.checkInvariants(), [])
        XCTAssertNil(heap.storageGrowthWanted(minimumBytes: 0).flatMap { $0.records.capacity > 0 ? $0 : nil })

        // Growing past the old capacity uses the adopted storage: no reallocation.
        let capacity = heap.table.records.capacity
        let base = heap.table.records.withUnsafeBufferPointer { $0.baseAddress }
        while heap.table.records.count < count + count / 2 {
            drop(try heap.allocate(AllocationSpec(type: "Leaf", site: "more"), session: session, events: &events))
            // Freed slots are reused once enough pile up: keep some alive to grow the table.
            _ = try heap.allocate(AllocationSpec(type: "Kept"), session: session, events: &events)
        }
        XCTAssertEqual(heap.table.records.capacity, capacity)
        XCTAssertEqual(heap.table.records.withUnsafeBufferPointer { $0.baseAddress }, base)
    }

    func testAnArrayThatGrewMeanwhileKeepsItsOwnStorage() throws {
        let plan = try fillUntilGrowthWanted()
        var growth = StorageGrowth.resident(for: plan)
        // The table doubles by itself before the storage arrives.
        let capacity = heap.table.records.capacity
        while heap.table.records.capacity == capacity {
            _ = try heap.allocate(AllocationSpec(type: "Kept"), session: session, events: &events)
        }
        let before = snapshotBytes(heap)
        let grownCapacity = heap.table.records.capacity
        heap.adoptStorage(&growth)
        XCTAssertEqual(heap.table.records.capacity, grownCapacity)
        XCTAssertTrue(growth.records.isEmpty, "the made storage is left unused")
        XCTAssertEqual(snapshotBytes(heap), before)
        XCTAssertEqual(heap.checkInvariants(), [])
    }
}
