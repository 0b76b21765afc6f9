import JSONRPC

/// `rpc.discover` → the OpenRPC document (`Protocol/heapd.openrpc.json`): every method with its
/// params and result schemas, the notifications, the error codes.
public struct DiscoverRequest: ParameterlessHeapMethod {
    public static let name = "rpc.discover"
    public init() {}

    public struct Result: EncodedHeapResult {
        public var json: [UInt8]
        public init(json: [UInt8]) { self.json = json }
    }
}
