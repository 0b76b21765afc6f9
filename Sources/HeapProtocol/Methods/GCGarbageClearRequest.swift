import JSONRPC

/// `gc.garbage.clear` → `{cleared, freed}`: empties `gc.garbage` (`del gc.garbage[:]`), dropping
/// its references; what only it held is freed.
public struct GCGarbageClearRequest: ParameterlessHeapMethod {
    public static let name = "gc.garbage.clear"
    public init() {}

    public struct Result: HeapResult {
        public var cleared: Int
        public var freed: FreedObjects

        public init(cleared: Int, freed: FreedObjects) {
            self.cleared = cleared
            self.freed = freed
        }

        public func write(to o: JSONObjectWriter) {
            o.set("cleared", cleared)
            freed.write(to: o)
        }
    }
}
