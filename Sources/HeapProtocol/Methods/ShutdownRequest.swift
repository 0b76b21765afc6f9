import JSONRPC

/// `shutdown` → `{shutting_down: true}`: the daemon stops accepting, refuses later requests with
/// -32006, closes every connection and exits (the journal is flushed first).
public struct ShutdownRequest: ParameterlessHeapMethod {
    public static let name = "shutdown"
    public init() {}

    public struct Result: HeapResult {
        public init() {}
        public func write(to o: JSONObjectWriter) { o.set("shutting_down", true) }
    }
}
