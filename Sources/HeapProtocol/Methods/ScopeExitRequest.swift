import JSONRPC

/// `scope.exit` → `{depth, freed}`: leaves the innermost scope, dropping the references taken in
/// it (as a returning function drops its locals); -32008 at depth 0.
public struct ScopeExitRequest: ParameterlessHeapMethod {
    public static let name = "scope.exit"
    public init() {}

    public struct Result: HeapResult {
        public var depth: Int
        public var freed: FreedObjects

        public init(depth: Int, freed: FreedObjects) {
            self.depth = depth
            self.freed = freed
        }

        public func write(to o: JSONObjectWriter) {
            o.set("depth", depth)
            freed.write(to: o)
        }
    }
}
