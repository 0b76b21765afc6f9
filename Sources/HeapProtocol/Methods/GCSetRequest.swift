import HeapCore
import JSONRPC

/// `gc.set {enabled?, threshold?, debug?}` → the `gc` state after the change (as `gc.get`):
/// `gc.enable()`/`disable()`, `set_threshold(t0, t1?, t2?)` (threshold 0 disables automatic
/// collection), `set_debug` with flag names (`STATS`, `COLLECTABLE`, `UNCOLLECTABLE`, `SAVEALL`,
/// `LEAK`; `[]` clears them).
public struct GCSetRequest: HeapMethod {
    public static let name = "gc.set"
    public var enabled: Bool?
    public var threshold: [Int]?
    public var debug: GCState.DebugFlags?

    public init(enabled: Bool? = nil, threshold: [Int]? = nil, debug: GCState.DebugFlags? = nil) {
        self.enabled = enabled
        self.threshold = threshold
        self.debug = debug
    }

    public init(params p: ParamsReader) throws(RPCError) {
        enabled = try p.optionalBool("enabled")
        threshold = try p.optionalThresholds("threshold")
        debug = try p.optionalDebugFlags("debug")
    }

    public typealias Result = GCReport
}
