import JSONRPC

/// `check` → `{ok, objects, problems}`: runs the heap's invariant checker (every refcount equals
/// its counted holders, no dangling field or weakref, generation lists equal the live set, byte
/// totals add up); `problems` lists at most 100.
public struct CheckRequest: ParameterlessHeapMethod {
    public static let name = "check"
    public init() {}

    public struct Result: HeapResult {
        public var objects: Int
        public var problems: [String]

        public init(objects: Int, problems: [String]) {
            self.objects = objects
            self.problems = problems
        }

        public func write(to o: JSONObjectWriter) {
            o.set("ok", problems.isEmpty)
            o.set("objects", objects)
            o.array("problems", strings: problems.prefix(100))
        }
    }
}
