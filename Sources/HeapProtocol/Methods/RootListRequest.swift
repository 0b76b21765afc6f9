import JSONRPC

/// `root.list` → `{roots: [{name, id}]}`, sorted by name.
public struct RootListRequest: ParameterlessHeapMethod {
    public static let name = "root.list"
    public init() {}

    public struct Result: HeapResult {
        public var roots: [NamedRoot]
        public init(roots: [NamedRoot]) { self.roots = roots }

        public func write(to o: JSONObjectWriter) {
            o.array("roots") { a in for r in roots { a.appendObject { r.write(to: $0) } } }
        }
    }
}
