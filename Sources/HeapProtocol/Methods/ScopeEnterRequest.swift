import JSONRPC

/// `scope.enter` → `{depth}`: opens a nested scope in the caller's session (a stack frame):
/// references taken inside it are dropped when it is exited. At most 1023 deep.
public struct ScopeEnterRequest: ParameterlessHeapMethod {
    public static let name = "scope.enter"
    public init() {}

    public struct Result: HeapResult {
        public var depth: Int
        public init(depth: Int) { self.depth = depth }
        public func write(to o: JSONObjectWriter) { o.set("depth", depth) }
    }
}
