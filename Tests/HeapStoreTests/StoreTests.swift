import Foundation
import HeapCore
import XCTest

@testable import HeapStore

#if canImport(Glibc)
import Glibc
#endif

final class StoreTests: XCTestCase {
    var dir: DataDirectory!

    override func setUp() {
        dir = DataDirectory(path: NSTemporaryDirectory() + "heapstore-" + UUID().uuidString)
    }

    override func tearDown() {
        try? FileManager.default.removeItem(atPath: dir.path)
    }

    func testCRC32CKnownVectors() {
        // RFC 3720 B.4 and the common check value.
        XCTAssertEqual(CRC32C.checksum(Array("123456789".utf8)), 0xE306_9283)
        XCTAssertEqual(CRC32C.checksum([UInt8](repeating: 0, count: 32)), 0x8A91_36AA)
        XCTAssertEqual(CRC32C.checksum([UInt8](repeating: 0xFF, count: 32)), 0x62A8_AB43)
        XCTAssertEqual(CRC32C.checksum(Array(0..<32)), 0x46DD_794E)
        XCTAssertEqual(CRC32C.checksum([]), 0)
        XCTAssertEqual(Array("123456789".utf8).withUnsafeBytes { CRC32C.software($0) }, 0xE306_9283)
    }

    /// The CPU instruction's path (8 bytes at a time, then a byte at a time) against the table's, at
    /// every length and alignment around a word, chained through a seed as sections are.
    func testCRC32CHardwareMatchesTheTable() throws {
        try XCTSkipUnless(CRC32C.hardware, "no CRC-32C instruction on this CPU")
        var rng = SystemRandomNumberGenerator()
        let bytes = (0..<300).map { _ in UInt8.random(in: 0...255, using: &rng) }
        bytes.withUnsafeBytes { raw in
            for start in 0..<9 {
                for end in start...raw.count where end - start < 40 || end == raw.count {
                    let part = UnsafeRawBufferPointer(rebasing: raw[start..<end])
                    XCTAssertEqual(CRC32C.checksum(part), CRC32C.software(part), "bytes \(start)..<\(end)")
                    let seed = CRC32C.software(UnsafeRawBufferPointer(rebasing: raw[..<start]))
                    XCTAssertEqual(CRC32C.checksum(part, seed: seed), CRC32C.software(part, seed: seed))
                }
            }
        }
    }

    func open(_ policy: FsyncPolicy = .always) throws -> (HeapStore, Heap) {
        try HeapStore.open(dir, policy: policy, limits: HeapLimits(), log: { _ in })
    }

    /// Applies and records, as the server does.
    func run(_ ops: [HeapOperation], _ heap: inout Heap, _ store: HeapStore) throws -> [OperationOutcome] {
        var events = HeapEvents()
        var out: [OperationOutcome] = []
        for op in ops {
            out.append(try heap.apply(op, events: &events))
            store.record(op)
        }
        let done = expectation(description: "durable")
        store.whenDurable(store.position) { error in
            XCTAssertNil(error)
            done.fulfill()
        }
        wait(for: [done], timeout: 10)
        return out
    }

    func snapshotBytes(_ h: Heap) -> [UInt8] {
        var out: [UInt8] = []
        h.writeSnapshot { out.append(contentsOf: $0) }
        return out
    }

    func testRestartReplaysTheJournalExactly() throws {
        var (store, heap) = try open()
        guard case .session(let s) = try heap.apply(.openSession(name: "keep"), events: &dummy) else {
            return XCTFail()
        }
        store.record(.openSession(name: "keep"))
        let out = try run(
            [
                .allocate(AllocationSpec(type: "A", data: Array("{\"x\":1}".utf8)), session: s),
                .allocate(AllocationSpec(type: "B", fields: [("a", ObjectID(raw: 1))]), session: s),
                .weakref(ObjectID(raw: 1), callback: true, fields: [], session: s),
                .setRoot("b", ObjectID(raw: 2)),
                .collect(generation: 0),
            ], &heap, store)
        XCTAssertEqual(out[0], .object(ObjectID(raw: 1)))
        store.close()
        let (store2, heap2) = try open()
        defer { store2.close() }
        XCTAssertEqual(store2.recovery.replayedOperations, 6)
        XCTAssertEqual(snapshotBytes(heap2), snapshotBytes(heap))
        XCTAssertEqual(heap2.checkInvariants(), [])
    }

    var dummy = HeapEvents()

    func testCompactionWritesASnapshotAndDropsOldJournals() throws {
        var (store, heap) = try open(.no)
        store.minimumCompactionBytes = 0
        guard case .session(let s) = try heap.apply(.openSession(name: "k"), events: &dummy) else { return XCTFail() }
        store.record(.openSession(name: "k"))
        _ = try run((0..<100).map { _ in .allocate(AllocationSpec(type: "N"), session: s) }, &heap, store)
        XCTAssertTrue(store.wantsCompaction)
        store.compact(heap)
        _ = try run([.allocate(AllocationSpec(type: "After"), session: s)], &heap, store)
        while store.isCompacting { usleep(1000) }
        XCTAssertEqual(dir.journalIndexes(), [0, 1], "what the previous snapshot (none) needs is kept")
        store.close()
        let (store2, heap2) = try open()
        defer { store2.close() }
        XCTAssertEqual(store2.recovery.replayedOperations, 1)
        XCTAssertEqual(heap2.objectCount, 101)
        XCTAssertEqual(snapshotBytes(heap2), snapshotBytes(heap))
    }

    /// everysec and no: requests write the journal from their own threads (`writeThrough`).
    /// Records must still reach the file in heap order, each exactly once, whichever thread
    /// writes them, and be in the file (not only in memory) when `writeThrough` returns.
    func testWriteThroughFromManyThreadsKeepsHeapOrder() throws {
        for policy in [FsyncPolicy.everysec, .no] {
            setUp()
            let (store, initial) = try open(policy)
            var heap = initial
            guard case .session(let s) = try heap.apply(.openSession(name: "w"), events: &dummy) else {
                return XCTFail()
            }
            store.record(.openSession(name: "w"))
            let shared = LockedHeap(heap)
            DispatchQueue.concurrentPerform(iterations: 4) { t in
                for i in 0..<500 {
                    // As the server does: apply and record under the heap's lock, write after.
                    let position = shared.withLock { h -> UInt64 in
                        var events = HeapEvents()
                        let op = HeapOperation.allocate(AllocationSpec(type: "T\(t)", size: UInt64(i)), session: s)
                        _ = try! h.apply(op, events: &events)
                        return store.record(op)
                    }
                    XCTAssertNil(store.writeThrough(position))
                }
            }
            heap = shared.heap
            // Every writeThrough returned, so nothing is left only in memory.
            let written = fileSize(dir.journalPath(0))
            XCTAssertEqual(store.state().first { $0.0 == "journal_bytes" }?.1, .int(written))
            store.close()
            let (store2, heap2) = try open(policy)
            XCTAssertEqual(store2.recovery.replayedOperations, 2001)
            XCTAssertEqual(snapshotBytes(heap2), snapshotBytes(heap))
            store2.close()
            tearDown()
        }
    }

    /// The server's `Mutex<ServerState>`, reduced to what the test needs.
    final class LockedHeap: @unchecked Sendable {
        private let lock = NSLock()
        private(set) var heap: Heap
        init(_ heap: Heap) { self.heap = heap }
        func withLock<R>(_ body: (inout Heap) -> R) -> R {
            lock.lock()
            defer { lock.unlock() }
            return body(&heap)
        }
    }

    func fileSize(_ path: String) -> Int {
        ((try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? Int) ?? -1
    }

    func testTornTailIsDroppedAndReported() throws {
        var (store, heap) = try open()
        guard case .session(let s) = try heap.apply(.openSession(name: "k"), events: &dummy) else { return XCTFail() }
        store.record(.openSession(name: "k"))
        _ = try run(
            [.allocate(AllocationSpec(type: "A"), session: s), .allocate(AllocationSpec(type: "B"), session: s)], &heap,
            store)
        store.close()
        let path = dir.journalPath(0)
        let size = try FileManager.default.attributesOfItem(atPath: path)[.size] as! Int
        XCTAssertEqual(truncate(path, off_t(size - 3)), 0)
        let (store2, heap2) = try open()
        defer { store2.close() }
        XCTAssertEqual(store2.recovery.replayedOperations, 2)
        XCTAssertGreaterThan(store2.recovery.droppedTornBytes, 0)
        XCTAssertEqual(heap2.objectCount, 1)
    }

    /// Writes a journal of an open session and three allocations, then appends `tail` to it.
    func journalWithTail(_ tail: [UInt8]) throws -> (path: String, goodLength: Int) {
        var (store, heap) = try open()
        guard case .session(let s) = try heap.apply(.openSession(name: "k"), events: &dummy) else { throw XCTSkip() }
        store.record(.openSession(name: "k"))
        _ = try run((0..<3).map { _ in .allocate(AllocationSpec(type: "A"), session: s) }, &heap, store)
        store.close()
        let path = dir.journalPath(0)
        let good = fileSize(path)
        let fd = Glibc.open(path, O_WRONLY | O_APPEND)
        XCTAssertEqual(tail.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }, tail.count)
        Glibc.close(fd)
        return (path, good)
    }

    /// What ext4 leaves when a file's size reached the disk but its data did not.
    func testZeroFilledTailIsCutKeptAndReported() throws {
        let (path, good) = try journalWithTail([UInt8](repeating: 0, count: 4096))
        let (store, heap) = try open()
        defer { store.close() }
        XCTAssertEqual(heap.objectCount, 3)
        XCTAssertEqual(store.recovery.droppedTornBytes, 4096)
        XCTAssertEqual(fileSize(path), good)
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: "\(path).torn-\(good)")), Data(count: 4096))
    }

    func testJunkTailIsCut() throws {
        var rng = SystemRandomNumberGenerator()
        for _ in 0..<20 {
            setUp()
            let junk = (0..<Int.random(in: 1...3000, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) }
            let (path, good) = try journalWithTail(junk)
            let (store, heap) = try open()
            XCTAssertEqual(heap.objectCount, 3)
            XCTAssertEqual(store.recovery.droppedTornBytes, junk.count)
            XCTAssertEqual(fileSize(path), good)
            store.close()
            tearDown()
        }
    }

    /// A long junk tail is searched for a good record at every offset; that stays linear.
    func testALongJunkTailIsCut() throws {
        var rng = SplitMix64(seed: 6)
        let junk = (0..<(8 << 20)).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
        let (path, good) = try journalWithTail(junk)
        let (store, heap) = try open()
        defer { store.close() }
        XCTAssertEqual(heap.objectCount, 3)
        XCTAssertEqual(fileSize(path), good)
    }

    /// Junk, then a good record (a copy of the journal's first one): not a crash; refused.
    func testDamageFollowedByAGoodRecordIsRefusedWithTheRepairCommand() throws {
        let (path, good) = try journalWithTail([])
        let first = Array(try Data(contentsOf: URL(fileURLWithPath: path)).prefix(20))
        let length = Int(first[0]) | Int(first[1]) << 8
        let record = Array(first.prefix(JournalFormat.headerSize + length))
        let fd = Glibc.open(path, O_WRONLY | O_APPEND)
        let junk: [UInt8] = [UInt8](repeating: 0, count: 100) + record
        _ = junk.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        Glibc.close(fd)
        XCTAssertThrowsError(try open()) { error in
            XCTAssertTrue("\(error)".contains("damaged at offset \(good)"), "\(error)")
            XCTAssertTrue("\(error)".contains("a good record follows at offset \(good + 100)"), "\(error)")
            XCTAssertTrue("\(error)".contains("heapd repair --data \(dir.path)"), "\(error)")
        }
        XCTAssertEqual(fileSize(path), good + junk.count, "a refused start changes nothing")
        let report = try HeapStore.repair(dir)
        XCTAssertTrue(report.contains("damaged-\(good)"), report)
        XCTAssertEqual(fileSize("\(path).damaged-\(good)"), junk.count)
        let (store, heap) = try open()
        defer { store.close() }
        XCTAssertEqual(heap.objectCount, 3)
    }

    func testDamageInTheMiddleStopsRecoveryAndRepairKeepsTheGoodPart() throws {
        var (store, heap) = try open()
        guard case .session(let s) = try heap.apply(.openSession(name: "k"), events: &dummy) else { return XCTFail() }
        store.record(.openSession(name: "k"))
        _ = try run((0..<5).map { _ in .allocate(AllocationSpec(type: "A"), session: s) }, &heap, store)
        store.close()
        let path = dir.journalPath(0)
        var bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        bytes[40] ^= 0xFF
        try bytes.write(to: URL(fileURLWithPath: path))
        XCTAssertThrowsError(try open()) { error in
            XCTAssertTrue("\(error)".contains("heapd repair --data \(dir.path)"), "\(error)")
            XCTAssertTrue("\(error)".contains(path), "\(error)")
        }
        let report = try HeapStore.repair(dir)
        XCTAssertTrue(report.contains(".damaged"), report)
        let (store2, heap2) = try open()
        defer { store2.close() }
        XCTAssertLessThan(heap2.objectCount, 5)
        XCTAssertEqual(heap2.checkInvariants(), [])
    }

    /// Compacts `heap` (everything recorded so far) into a snapshot, and waits for it.
    func compact(_ store: HeapStore, _ heap: Heap) {
        store.minimumCompactionBytes = 0
        store.compact(heap)
        while store.isCompacting { usleep(1000) }
    }

    /// A damaged snapshot is refused with `heapd repair`, which puts the previous snapshot in
    /// its place: the journals after it are kept, so nothing is lost.
    func testRepairReplacesADamagedSnapshotByThePreviousOneAndLosesNothing() throws {
        var (store, heap) = try open()
        guard case .session(let s) = try heap.apply(.openSession(name: "k"), events: &dummy) else { return XCTFail() }
        store.record(.openSession(name: "k"))
        for round in 0..<3 {
            _ = try run((0..<10).map { _ in .allocate(AllocationSpec(type: "R\(round)"), session: s) }, &heap, store)
            compact(store, heap)
        }
        _ = try run([.allocate(AllocationSpec(type: "Last"), session: s)], &heap, store)
        store.close()
        XCTAssertEqual(dir.journalIndexes(), [2, 3], "the previous snapshot's journals and the current one")
        var bytes = try Data(contentsOf: URL(fileURLWithPath: dir.snapshotPath))
        bytes[bytes.count / 2] ^= 0x10
        try bytes.write(to: URL(fileURLWithPath: dir.snapshotPath))
        XCTAssertThrowsError(try open()) { error in
            XCTAssertTrue("\(error)".contains("is damaged"), "\(error)")
            XCTAssertTrue("\(error)".contains("heapd repair --data \(dir.path)"), "\(error)")
        }
        let report = try HeapStore.repair(dir)
        XCTAssertTrue(report.contains("the previous snapshot takes its place"), report)
        let (store2, heap2) = try open()
        defer { store2.close() }
        XCTAssertEqual(snapshotBytes(heap2), snapshotBytes(heap))
    }

    func testASecondOpenOfTheSameDirectoryIsRefused() throws {
        let (store, _) = try open()
        defer { store.close() }
        XCTAssertThrowsError(try open()) { XCTAssertTrue("\($0)".contains("another heapd"), "\($0)") }
    }
}
