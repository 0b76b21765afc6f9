import HeapCore
import XCTest

@testable import HeapStore

/// `reserve` takes disk space for a change from `JournalFormat.recordBound` before the change is
/// applied; a bound below the real record would let a full disk fail the write after all.
final class RecordBoundTests: XCTestCase {
    var rng = SplitMix64(seed: 2026)

    func n(_ upTo: UInt64) -> UInt64 { rng.next() % (upTo + 1) }
    /// Values of every varint length, 1 to 10 bytes.
    func big() -> UInt64 { rng.next() >> n(63) }
    func string() -> String {
        String((0..<n(40)).map { _ in ["a", "é", "字", "🙂", "\u{0}"][Int(n(4))] as Character })
    }
    func bytes() -> [UInt8] { (0..<n(300)).map { _ in UInt8(truncatingIfNeeded: rng.next()) } }
    func id() -> ObjectID { ObjectID(raw: big()) }
    func session() -> SessionID { SessionID(raw: big()) }
    func maybe<T>(_ make: () -> T) -> T? { n(1) == 0 ? nil : make() }
    func target() -> BatchTarget { n(1) == 0 ? .id(id()) : .result(Int(n(1 << 24))) }

    func batchOp() -> BatchOp {
        switch n(4) {
        case 0: return .alloc(type: string(), size: maybe(big))
        case 1: return .ref(target())
        case 2: return .unref(target())
        case 3: return .set(target(), field: string(), target: maybe(target))
        default: return .weakref(target(), callback: n(1) == 0)
        }
    }

    /// One random operation of kind `kind` (0..<18, every case of `HeapOperation`).
    func operation(_ kind: UInt64) -> HeapOperation {
        switch kind {
        case 0: return .openSession(name: maybe(string))
        case 1: return .closeSession(session())
        case 2: return .transferReferences(from: session(), to: session())
        case 3: return .enterScope(session())
        case 4: return .exitScope(session())
        case 5:
            let fields = (0..<n(5)).map { _ in (name: string(), target: id()) }
            return .allocate(
                AllocationSpec(
                    type: string(), size: maybe(big), data: maybe(bytes), fields: fields,
                    finalizer: n(1) == 0), session: session())
        case 6: return .ref(id(), session: session())
        case 7: return .unref(id(), session: session())
        case 8:
            let fields = (0..<n(5)).map { _ in (name: string(), target: maybe(id)) }
            let data: [UInt8]?? = n(2) == 0 ? nil : (n(1) == 0 ? .some(nil) : .some(bytes()))
            return .set(id(), fields: fields, data: data, size: maybe(big))
        case 9:
            return .weakref(
                id(), callback: n(1) == 0, fields: (0..<n(3)).map { _ in (name: string(), target: id()) },
                session: session())
        case 10: return .collect(generation: Int(bitPattern: UInt(big())))
        case 11: return .setRoot(string(), maybe(id))
        case 12:
            return .configureGC(
                enabled: maybe { n(1) == 0 },
                thresholds: maybe { (0..<n(3)).map { _ in Int(bitPattern: UInt(big())) } },
                debug: maybe { GCState.DebugFlags(rawValue: Int(bitPattern: UInt(big()))) })
        case 13: return .freeze
        case 14: return .unfreeze
        case 15: return .clearGarbage
        case 16: return .setLease(session(), seconds: maybe { Double(bitPattern: rng.next()) })
        default: return .batch((0..<n(20)).map { _ in batchOp() }, atomic: n(1) == 0, session: session())
        }
    }

    func testTheRecordBoundIsNeverBelowTheRecordForEveryKindOfOperation() {
        for kind in 0..<18 as Range<UInt64> {
            for _ in 0..<2000 {
                let op = operation(kind)
                let record = JournalFormat.record(encoding: op).count
                XCTAssertLessThanOrEqual(record, JournalFormat.recordBound(op), "\(op)")
            }
        }
    }
}
