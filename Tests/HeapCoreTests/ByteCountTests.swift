import XCTest

@testable import HeapCore

/// Sizes and their sums never trap (issue 15 item 2): per-type, per-session and total byte
/// counts are UInt64 sums of live sizes, the total is kept within UInt64, and what cannot be
/// represented is refused with a typed error.
final class ByteCountTests: HeapTestCase {
    let huge = HeapLimits.maxObjectSize  // 2^53 - 1, the largest size the wire accepts

    private func allocSized(_ type: String, _ size: UInt64) throws -> ObjectID {
        try heap.allocate(AllocationSpec(type: type, size: size), session: session, events: &events)
    }

    /// 1,025 objects of 2^53-1 bytes of one type: past Int64.max for the type and the heap.
    func testOneTypePastInt64IsCountedExactly() throws {
        for _ in 0..<1025 { _ = try allocSized("A", huge) }
        let row = try XCTUnwrap(heap.histogram().first { $0.type == "A" })
        XCTAssertEqual(row.count, 1025)
        XCTAssertEqual(row.bytes, 1025 * huge)
        XCTAssertGreaterThan(row.bytes, UInt64(Int64.max))
        XCTAssertEqual(heap.totalBytes, 1025 * huge)
    }

    /// 1,024 of type A and one of B, held by a named session: session summaries add them up.
    func testSessionSummaryPastInt64() throws {
        let tool = try heap.openSession(name: "tool")
        for i in 0..<1025 {
            _ = try heap.allocate(
                AllocationSpec(type: i < 1024 ? "A" : "B", size: huge), session: tool,
                events: &events)
        }
        let summary = try XCTUnwrap(heap.sessionSummaries().first { $0.id == tool })
        XCTAssertEqual(summary.bytes, 1025 * huge)
        XCTAssertEqual(summary.distinctObjects, 1025)
        try heap.closeSession(tool, events: &events)
        XCTAssertEqual(heap.totalBytes, 0)
        XCTAssertEqual(heap.histogram().count, 0)
    }

    /// The total may reach UInt64.max but not pass it: the next object is refused, typed, and
    /// nothing changes. Growing an object by `set` is checked the same way.
    func testTotalPastUInt64IsRefused() throws {
        for _ in 0..<2048 { _ = try allocSized("A", huge) }  // 2^64 - 2048 bytes
        let total = heap.totalBytes
        XCTAssertThrowsError(try allocSized("A", huge)) {
            XCTAssertEqual($0 as? HeapError, .bytesUnrepresentable(total: total, adding: huge))
        }
        let small = try allocSized("B", 0)
        XCTAssertThrowsError(try heap.set(small, fields: [], size: 4096, events: &events)) {
            XCTAssertEqual($0 as? HeapError, .bytesUnrepresentable(total: total, adding: 4096))
        }
        XCTAssertEqual(heap.totalBytes, total)
        XCTAssertEqual(heap.objectCount, 2049)
    }

    func testSizePastJSONIntegersIsRefused() {
        XCTAssertThrowsError(try allocSized("A", huge + 1)) {
            XCTAssertEqual($0 as? HeapError, .sizeUnrepresentable(huge + 1))
        }
        XCTAssertEqual(heap.objectCount, 0)
    }

    /// The dry run of an atomic batch refuses the same op with the same error.
    func testAtomicBatchPredictsTheSameRefusal() throws {
        for _ in 0..<2047 { _ = try allocSized("A", huge) }
        let ops: [BatchOp] = [.alloc(type: "A", size: huge), .alloc(type: "A", size: huge)]
        XCTAssertThrowsError(try heap.applyBatch(ops, atomic: true, session: session, events: &events)) {
            XCTAssertEqual(
                $0 as? HeapError,
                .batchOpFailed(
                    op: 1, name: "alloc",
                    .bytesUnrepresentable(total: 2048 * huge, adding: huge)))
        }
        XCTAssertEqual(heap.objectCount, 2047)
    }

    /// Such a heap survives its journal (operations encoded, decoded and replayed into a new
    /// heap, as recovery does) and its snapshot.
    func testReplayAndSnapshotOfAHeapPastInt64() throws {
        var ops: [HeapOperation] = [.openSession(name: "tool")]
        var live = Heap()
        var sink = HeapEvents()
        let tool = try XCTUnwrap(
            { () -> SessionID? in
                if case .session(let s) = try? live.apply(ops[0], events: &sink) { return s }
                return nil
            }())
        for i in 0..<1025 {
            ops.append(.allocate(AllocationSpec(type: i < 1024 ? "A" : "B", size: huge), session: tool))
            _ = try live.apply(ops.last!, events: &sink)
        }
        var replayed = Heap()
        for op in ops {
            var w = BinaryWriter()
            op.encode(into: &w)
            let decoded = try w.bytes.withUnsafeBytes { raw in
                var r = BinaryReader(raw)
                return try HeapOperation.decode(from: &r)
            }
            _ = try replayed.apply(decoded, events: &sink)
        }
        XCTAssertEqual(replayed.totalBytes, 1025 * huge)
        XCTAssertEqual(replayed.sessionSummaries().map(\.bytes), live.sessionSummaries().map(\.bytes))
        XCTAssertEqual(replayed.checkInvariants(), [])

        var bytes: [UInt8] = []
        replayed.writeSnapshot { bytes.append(contentsOf: $0) }
        let restored = try bytes.withUnsafeBytes { raw in
            var r = BinaryReader(raw)
            return try Heap(snapshot: &r)
        }
        XCTAssertEqual(restored.histogram().map(\.bytes), replayed.histogram().map(\.bytes))
        XCTAssertEqual(restored.checkInvariants(), [])
    }
}
