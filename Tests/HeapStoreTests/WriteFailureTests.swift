import Foundation
import HeapCore
import XCTest

@testable import HeapStore

#if canImport(Glibc)
import Glibc
#endif

/// A write that fails after all (here: records appended without a reservation on a full tmpfs,
/// as an unrefusable session record may be): the store refuses changes, keeps every record, and
/// heals by itself once space returns. Needs root (mount).
final class WriteFailureTests: XCTestCase {
    var base = ""
    var dir: DataDirectory!

    override func setUpWithError() throws {
        guard geteuid() == 0 else { throw XCTSkip("mounting a tmpfs needs root") }
        base = NSTemporaryDirectory() + "heapstore-full-" + UUID().uuidString
        mkdir(base, 0o700)
        let status = shell("mount -t tmpfs -o size=2m,mode=0700 tmpfs \(base)")
        guard status == 0 else { throw XCTSkip("cannot mount a tmpfs (status \(status))") }
        dir = DataDirectory(path: base + "/data")
    }

    override func tearDown() {
        if !base.isEmpty { _ = shell("umount -l \(base)"); rmdir(base) }
    }

    func shell(_ command: String) -> Int32 {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/bin/sh")
        p.arguments = ["-c", command]
        try? p.run()
        p.waitUntilExit()
        return p.terminationStatus
    }

    func fill(_ path: String) {
        let fd = open(path, O_WRONLY | O_CREAT, 0o600)
        let block = [UInt8](repeating: 0xBA, count: 4096)
        while block.withUnsafeBytes({ write(fd, $0.baseAddress, $0.count) }) > 0 {}
        close(fd)
    }

    func testAFailedWriteRefusesChangesKeepsEveryRecordAndHeals() throws {
        let (store, initial) = try HeapStore.open(dir, policy: .always, limits: HeapLimits(), log: { _ in })
        var heap = initial
        var events = HeapEvents()
        guard case .session(let s) = try heap.apply(.openSession(name: "k"), events: &events) else { return XCTFail() }
        try store.reserve(for: .openSession(name: "k"))
        store.record(.openSession(name: "k"))
        fill(base + "/ballast")
        // Appended without reserving, more than the 1 MiB reserved at the first record: the
        // write fails for want of space.
        let ops = (0..<500).map { i in
            HeapOperation.allocate(
                AllocationSpec(
                    type: "T", data: Array("{\"i\":\(i),\"pad\":\"\(String(repeating: "x", count: 3000))\"}".utf8)),
                session: s)
        }
        for op in ops {
            _ = try heap.apply(op, events: &events)
            store.record(op)
        }
        let failed = expectation(description: "the write fails")
        store.whenDurable(store.position) { error in
            XCTAssertNotNil(error)
            failed.fulfill()
        }
        wait(for: [failed], timeout: 30)
        XCTAssertThrowsError(try store.reserve(for: .freeze)) {
            XCTAssertTrue("\($0)".contains("cannot be written"), "\($0)")
        }
        XCTAssertEqual(store.state().first { $0.0 == "refusing_changes" }?.1, .bool(true))
        XCTAssertNotNil(store.durableNow(1).flatMap { try? $0.get() }, "what was written before stays durable")

        unlink(base + "/ballast")
        let healed = expectation(description: "the retry writes everything")
        DispatchQueue.global().async {
            while (try? store.reserve(for: .freeze)) == nil { usleep(50_000) }
            healed.fulfill()
        }
        wait(for: [healed], timeout: 60)
        XCTAssertEqual(store.state().first { $0.0 == "last_write_status" }?.1, .string("ok"))
        let durable = expectation(description: "durable")
        store.whenDurable(store.position) { error in
            XCTAssertNil(error)
            durable.fulfill()
        }
        wait(for: [durable], timeout: 30)
        store.close()
        let (store2, heap2) = try HeapStore.open(dir, policy: .always, limits: HeapLimits(), log: { _ in })
        defer { store2.close() }
        XCTAssertEqual(store2.recovery.replayedOperations, 501)
        XCTAssertEqual(heap2.objectCount, 500)
        XCTAssertEqual(heap2.checkInvariants(), [])
    }
}
