import Foundation
import HeapCore
import XCTest

@testable import HeapStore

#if canImport(Glibc)
import Glibc
#endif

/// A snapshot damaged anywhere is refused with a message, or loads a heap that passes `check`;
/// it never traps (a trap ends this test process, which is the failure).
final class SnapshotDamageTests: XCTestCase {
    var dir: DataDirectory!

    override func setUp() {
        dir = DataDirectory(path: NSTemporaryDirectory() + "heapsnap-" + UUID().uuidString)
        mkdir(dir.path, 0o700)
    }

    override func tearDown() {
        try? FileManager.default.removeItem(atPath: dir.path)
    }

    /// A heap with something in every table a snapshot holds: sessions with scopes and a lease,
    /// fields, data, big sizes, weakrefs with callbacks, roots, generations, gc.garbage, free slots.
    func variedHeap() throws -> Heap {
        var heap = Heap()
        var events = HeapEvents()
        func apply(_ op: HeapOperation) throws -> OperationOutcome { try heap.apply(op, events: &events) }
        func object(_ op: HeapOperation) throws -> ObjectID {
            guard case .object(let id) = try apply(op) else { throw XCTSkip("\(op) made no object") }
            return id
        }
        guard case .session(let s) = try apply(.openSession(name: "keeper")) else { throw XCTSkip() }
        _ = try apply(.configureGC(enabled: true, thresholds: [50, 5, 5], debug: [.saveAll]))
        _ = try apply(.setLease(s, seconds: 30))
        var ids: [ObjectID] = []
        for i in 0..<1100 {
            let fields = ids.suffix(2).enumerated().map { ("f\($0.offset)", $0.element) }
            let spec = AllocationSpec(
                type: "T\(i % 7)", size: i % 97 == 0 ? 1 << 40 : nil,
                data: i % 3 == 0 ? Array("{\"i\":\(i)}".utf8) : nil, fields: fields)
            ids.append(try object(.allocate(spec, session: s)))
        }
        _ = try apply(.enterScope(s))
        _ = try apply(.weakref(ids[5], callback: true, fields: [("cb", ids[6])], session: s))
        _ = try apply(.setRoot("r", ids[10]))
        for id in ids.prefix(1050) { _ = try apply(.unref(id, session: s)) }  // frees past the reuse threshold
        let cyc = try object(.allocate(AllocationSpec(type: "Cycle"), session: s))
        _ = try apply(.set(cyc, fields: [("me", cyc)], data: nil, size: nil))
        _ = try apply(.unref(cyc, session: s))
        _ = try apply(.collect(generation: 2))
        _ = try apply(.freeze)
        _ = try apply(.allocate(AllocationSpec(type: "Young"), session: s))
        XCTAssertEqual(heap.checkInvariants(), [])
        return heap
    }

    func legacyFile(_ heap: Heap) -> [UInt8] {
        var w = BinaryWriter()
        w.append(SnapshotFile.legacyMagic)
        w.u64(3)
        var out = w.bytes
        heap.writeSnapshot { out.append(contentsOf: $0) }
        return out
    }

    func load(_ bytes: [UInt8]) -> Result<Heap, Error> {
        XCTAssertTrue(FileManager.default.createFile(atPath: dir.snapshotPath, contents: Data(bytes)))
        return Result { try SnapshotFile.read(in: dir, limits: HeapLimits())!.heap }
    }

    func testAGoodSnapshotLoadsInBothFormats() throws {
        let heap = try variedHeap()
        _ = try SnapshotFile.write(heap, firstUncoveredJournal: 3, in: dir)
        let loaded = try XCTUnwrap(SnapshotFile.read(in: dir, limits: HeapLimits()))
        XCTAssertEqual(loaded.firstUncoveredJournal, 3)
        XCTAssertEqual(loaded.heap.checkInvariants(), [])
        XCTAssertEqual(try load(legacyFile(heap)).get().objectCount, heap.objectCount)
    }

    /// Format 2: every single-bit flip is caught by a checksum.
    func testEveryBitFlipInASnapshotIsRefusedWithAMessage() throws {
        let heap = try variedHeap()
        _ = try SnapshotFile.write(heap, firstUncoveredJournal: 3, in: dir)
        let good = Array(try Data(contentsOf: URL(fileURLWithPath: dir.snapshotPath)))
        var rng = SplitMix64(seed: 15)
        for _ in 0..<100 {
            var bytes = good
            let bit = Int(rng.next() % UInt64(bytes.count * 8))
            bytes[bit / 8] ^= 1 << (bit % 8)
            switch load(bytes) {
            case .success: XCTFail("bit \(bit) flipped and the snapshot still loaded")
            case .failure(let error):
                XCTAssertTrue("\(error)".contains("is damaged"), "bit \(bit): \(error)")
            }
        }
        // Cut short anywhere.
        for cut in [1, 13, good.count / 2, good.count - 1] {
            guard case .failure(let error) = load(Array(good.prefix(cut))) else {
                return XCTFail("cut at \(cut) loaded")
            }
            XCTAssertTrue("\(error)".contains(dir.snapshotPath), "\(error)")
        }
    }

    /// Format 1 has no checksums: only the structural check stands between a flipped bit and a
    /// trap. Each flip is refused, or the heap loads and passes the invariant checker and
    /// survives a full collection.
    func testBitFlipsInAnUncheckedSnapshotNeverTrap() throws {
        let good = legacyFile(try variedHeap())
        var rng = SplitMix64(seed: 11)
        var refused = 0
        for _ in 0..<400 {
            var bytes = good
            let bit = Int(rng.next() % UInt64(bytes.count * 8))
            bytes[bit / 8] ^= 1 << (bit % 8)
            switch load(bytes) {
            case .success(var heap):
                XCTAssertEqual(heap.checkInvariants(), [], "bit \(bit)")
                var events = HeapEvents()
                _ = try? heap.apply(.collect(generation: 2), events: &events)
                XCTAssertEqual(heap.checkInvariants(), [], "bit \(bit), after a collection")
            case .failure:
                refused += 1
            }
        }
        XCTAssertGreaterThan(refused, 0)
    }
}
