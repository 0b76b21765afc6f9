import HeapCore
import JSONRPC

/// `gc.get` → the `gc` module's state: `{enabled, threshold, count, stats, debug,
/// freeze_count, garbage}` (`gc.isenabled()`, `get_threshold()`, `get_count()`, `get_stats()`,
/// `get_debug()` by flag name, `get_freeze_count()`, and `gc.garbage` as ids).
public struct GCGetRequest: ParameterlessHeapMethod {
    public static let name = "gc.get"
    public init() {}

    public typealias Result = GCReport
}

/// The `gc` module's state as `gc.get` and `gc.set` report it.
public struct GCReport: HeapResult {
    public var state: GCState
    public var freezeCount: Int
    public var garbage: [ObjectID]

    public init(_ heap: Heap) {
        state = heap.gc
        freezeCount = heap.freezeCount
        garbage = heap.garbageIDs
    }

    public func write(to o: JSONObjectWriter) {
        o.set("enabled", state.enabled)
        o.array("threshold", integers: state.thresholds)
        o.array("count", integers: state.counts)
        o.array("stats") { a in
            for s in state.stats {
                a.appendObject { m in
                    m.set("collections", s.collections)
                    m.set("collected", s.collected)
                    m.set("uncollectable", s.uncollectable)
                }
            }
        }
        o.array("debug", strings: state.debug.names)
        o.set("freeze_count", freezeCount)
        o.array("garbage", ids: garbage)
    }
}
