import XCTest

@testable import HeapCore

/// Base for core tests: a fresh heap with one session, automatic collection off (as the
/// differential tests run CPython), and the invariant checker after every test.
class HeapTestCase: XCTestCase {
    var heap = Heap()
    var session = SessionID(raw: 0)
    var events = HeapEvents()

    override func setUp() {
        heap = Heap()
        heap.setEnabled(false)
        session = try! heap.openSession()
        events = HeapEvents()
    }

    override func tearDown() {
        XCTAssertEqual(heap.checkInvariants(), [], "heap invariants")
    }

    @discardableResult
    func alloc(
        _ type: String = "Node", finalizer: Bool = false, data: String? = nil,
        _ fields: [(String, ObjectID)] = []
    ) -> ObjectID {
        try! heap.allocate(
            AllocationSpec(
                type: type, data: data.map { Array($0.utf8) },
                fields: fields.map { (name: $0.0, target: $0.1) },
                finalizer: finalizer),
            session: session, events: &events)
    }

    /// `h` written to a snapshot and read back.
    func roundTrip(_ h: Heap) throws -> Heap {
        var bytes: [UInt8] = []
        h.writeSnapshot { bytes.append(contentsOf: $0) }
        return try bytes.withUnsafeBytes { raw in
            var r = BinaryReader(raw)
            return try Heap(snapshot: &r)
        }
    }

    func link(_ a: ObjectID, _ name: String, _ b: ObjectID?) {
        try! heap.set(a, fields: [(name: name, target: b)], events: &events)
    }

    func drop(_ id: ObjectID) { _ = try! heap.unref(id, session: session, events: &events) }

    func weak(_ id: ObjectID, callback: Bool = true) -> ObjectID {
        try! heap.weakref(to: id, callback: callback, session: session, events: &events)
    }

    func refcount(_ id: ObjectID) -> Int { try! heap.snapshot(id).refcount }

    /// Finalize / callback events since the last call, as short strings ("del:3", "cb:7").
    func takeObservable() -> [String] {
        defer { events.removeAll() }
        return events.observable.map {
            switch $0 {
            case .finalize(let id, _): return "del:\(id)"
            case .weakrefCallback(let w, _): return "cb:\(w)"
            default: return ""
            }
        }
    }

    func takeFreed() -> Set<ObjectID> {
        defer { events.removeAll() }
        return Set(events.freedIDs)
    }
}

extension HeapEvents {
    /// The events with collection durations zeroed: what two runs of the same operations share.
    var withoutDurations: [Event] {
        events.map {
            guard case .gcStop(var result) = $0 else { return $0 }
            result.durationNanoseconds = 0
            return .gcStop(result)
        }
    }
}
