import JSONRPC

/// `gc.freeze` → `{freeze_count}`: moves every tracked object into the permanent generation,
/// which collections ignore (`gc.freeze()`).
public struct GCFreezeRequest: ParameterlessHeapMethod {
    public static let name = "gc.freeze"
    public init() {}

    public typealias Result = FreezeCount
}

/// `{freeze_count}`: objects in the permanent generation.
public struct FreezeCount: HeapResult {
    public var count: Int
    public init(_ count: Int) { self.count = count }
    public func write(to o: JSONObjectWriter) { o.set("freeze_count", count) }
}
