import JSONRPC

/// `ping` → `{pong: true}`.
public struct PingRequest: ParameterlessHeapMethod {
    public static let name = "ping"
    public init() {}

    public struct Result: HeapResult {
        public init() {}
        public func write(to o: JSONObjectWriter) { o.set("pong", true) }
    }
}
