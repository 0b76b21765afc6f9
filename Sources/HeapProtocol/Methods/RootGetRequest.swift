import HeapCore
import JSONRPC

/// `root.get {name}` → `{name, id}`; -32009 when no root has that name.
public struct RootGetRequest: HeapMethod {
    public static let name = "root.get"
    public var root: String

    public init(root: String) { self.root = root }
    public init(params p: ParamsReader) throws(RPCError) { root = try p.string("name") }

    public typealias Result = NamedRoot
}

/// A named root: `{name, id}`.
public struct NamedRoot: HeapResult {
    public var name: String
    public var id: ObjectID

    public init(name: String, id: ObjectID) {
        self.name = name
        self.id = id
    }

    public func write(to o: JSONObjectWriter) {
        o.set("name", name)
        o.set("id", id)
    }
}
