import Foundation
import HeapCore
import XCTest

@testable import HeapStore

/// Saved snapshots on disk: round trip, reopen, damage found by the checksum, names, the limit.
final class SnapshotCatalogTests: XCTestCase {
    var dir: DataDirectory!

    override func setUp() {
        dir = DataDirectory(path: NSTemporaryDirectory() + "heapcatalog-" + UUID().uuidString)
        try? FileManager.default.createDirectory(atPath: dir.path, withIntermediateDirectories: true)
    }

    override func tearDown() {
        try? FileManager.default.removeItem(atPath: dir.path)
    }

    func census(objects: Int) throws -> HeapCensus {
        var heap = Heap()
        let session = try heap.openSession()
        var events = HeapEvents()
        for i in 0..<objects {
            _ = try heap.allocate(
                AllocationSpec(type: "T\(i % 4)", data: Array("\(i)".utf8)), session: session, events: &events)
        }
        return heap.census()
    }

    func testSavedSnapshotsComeBackAfterReopening() throws {
        let saved = SavedCensus(name: "one", created: 1_700_000_000.25, census: try census(objects: 500))
        let catalog = try SnapshotCatalog(dataDirectory: dir)
        let (summary, replaced) = try catalog.save(saved)
        XCTAssertFalse(replaced)
        XCTAssertEqual(summary.objects, 500)

        let reopened = try SnapshotCatalog(dataDirectory: dir)
        XCTAssertEqual(reopened.list(), [summary])
        XCTAssertEqual(try reopened.load("one").census, saved.census)
        XCTAssertEqual(try reopened.load("one").created, saved.created)
        XCTAssertTrue(reopened.loadProblems.isEmpty)
    }

    func testEveryFlippedBitIsFound() throws {
        let bytes = CensusFile.encode(SavedCensus(name: "x", created: 1, census: try census(objects: 20)))
        guard case .success = CensusFile.decode(bytes) else { return XCTFail("the intact file must decode") }
        for i in 0..<bytes.count {
            for bit in 0..<8 {
                var damaged = bytes
                damaged[i] ^= UInt8(1 << bit)
                if case .success = CensusFile.decode(damaged) { XCTFail("byte \(i) bit \(bit) went unnoticed") }
            }
        }
        for n in 0..<bytes.count {
            if case .success = CensusFile.decode(Array(bytes.prefix(n))) { XCTFail("truncated to \(n) unnoticed") }
        }
    }

    func testDamagedFilesAreSkippedAndNamedAndLoadsSayWhy() throws {
        let catalog = try SnapshotCatalog(dataDirectory: dir)
        _ = try catalog.save(SavedCensus(name: "good", created: 1, census: try census(objects: 3)))
        _ = try catalog.save(SavedCensus(name: "bad", created: 2, census: try census(objects: 3)))
        let path = dir.path + "/snapshots/bad.census"
        var bytes = try XCTUnwrap(FileManager.default.contents(atPath: path))
        bytes[bytes.count / 2] ^= 0xFF
        try bytes.write(to: URL(fileURLWithPath: path))
        // Damaged after listing: the load says so.
        XCTAssertThrowsError(try catalog.load("bad")) { error in
            guard case .damaged(let p, let reason)? = error as? SnapshotCatalog.Failure else { return XCTFail("\(error)") }
            XCTAssertEqual(p, path)
            XCTAssertEqual(reason, "checksum mismatch")
        }
        // Reopened: skipped, named.
        let reopened = try SnapshotCatalog(dataDirectory: dir)
        XCTAssertEqual(reopened.list().map(\.name), ["good"])
        XCTAssertEqual(reopened.loadProblems, [path + ": checksum mismatch"])
    }

    func testNamesAndTheLimit() throws {
        let catalog = SnapshotCatalog()
        let empty = try census(objects: 0)
        for bad in ["", ".x", "a/b", "../b", String(repeating: "y", count: 65), "a b"] {
            XCTAssertThrowsError(try catalog.save(SavedCensus(name: bad, created: 0, census: empty)), bad)
        }
        for i in 0..<SnapshotCatalog.limit {
            _ = try catalog.save(SavedCensus(name: "s\(i)", created: Double(i), census: empty))
        }
        XCTAssertThrowsError(try catalog.save(SavedCensus(name: "extra", created: 0, census: empty))) {
            XCTAssertEqual($0 as? SnapshotCatalog.Failure, .full(limit: SnapshotCatalog.limit))
        }
        XCTAssertTrue(try catalog.save(SavedCensus(name: "s3", created: 99, census: empty)).replaced)
        try catalog.delete("s3")
        XCTAssertThrowsError(try catalog.delete("s3")) {
            XCTAssertEqual($0 as? SnapshotCatalog.Failure, .noSuchSnapshot("s3"))
        }
    }
}
