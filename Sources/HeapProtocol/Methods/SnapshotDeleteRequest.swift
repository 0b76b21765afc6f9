import JSONRPC

/// `snapshot.delete {name}` → `{name, deleted: true}`: forgets a saved snapshot (and removes its
/// file). Errors: no snapshot of that name (-32013).
public struct SnapshotDeleteRequest: HeapMethod {
    public static let name = "snapshot.delete"
    public var name: String

    public init(name: String) { self.name = name }

    public init(params p: ParamsReader) throws(RPCError) {
        name = try p.snapshotName("name")
    }

    public var params: JSONValue? { ["name": .string(name)] }

    public struct Result: HeapResult {
        public var name: String
        public init(name: String) { self.name = name }

        public func write(to o: JSONObjectWriter) {
            o.set("name", name)
            o.set("deleted", true)
        }
    }
}
