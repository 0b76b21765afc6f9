import JSONRPC

/// `gc.unfreeze` → `{freeze_count}`: moves the permanent generation back into the oldest one
/// (`gc.unfreeze()`).
public struct GCUnfreezeRequest: ParameterlessHeapMethod {
    public static let name = "gc.unfreeze"
    public init() {}

    public typealias Result = FreezeCount
}
