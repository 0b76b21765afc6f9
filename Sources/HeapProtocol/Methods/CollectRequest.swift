import HeapCore
import JSONRPC

/// `collect {generation?}` → `{generation, collected, uncollectable, unreachable, duration_ms}`:
/// 3.11's `gc.collect(generation)` (default 2). `unreachable` is what `gc.collect()` returns;
/// `gc.start`/`gc.stop` and the collection's finalize, weakref.callback and freed events reach
/// subscribers before the reply.
public struct CollectRequest: HeapMethod {
    public static let name = "collect"
    public var generation: Int

    public init(generation: Int = 2) { self.generation = generation }
    public init(params p: ParamsReader) throws(RPCError) { generation = try p.optionalGeneration("generation") ?? 2 }
    public var params: JSONValue? { ["generation": .int(Int64(generation))] }

    public struct Result: HeapResult {
        public var report: CollectResult
        public init(_ report: CollectResult) { self.report = report }

        public func write(to o: JSONObjectWriter) {
            o.set("generation", report.generation)
            o.set("collected", report.collected)
            o.set("uncollectable", report.uncollectable)
            o.set("unreachable", report.unreachable)
            o.set("duration_ms", report.durationMilliseconds)
        }
    }
}
