import JSONRPC

/// `snapshot.list` → `{snapshots: [{name, objects, bytes, created, stored_bytes}]}`, oldest first.
public struct SnapshotListRequest: ParameterlessHeapMethod {
    public static let name = "snapshot.list"
    public init() {}

    public struct Result: HeapResult {
        public var snapshots: [SnapshotSummary]
        public init(snapshots: [SnapshotSummary]) { self.snapshots = snapshots }

        public func write(to o: JSONObjectWriter) {
            o.array("snapshots") { a in for s in snapshots { a.appendObject { s.write(to: $0) } } }
        }
    }
}
