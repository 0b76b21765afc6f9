import HeapCore
import JSONRPC

/// `root.set {name, id}` → `{name, id, previous, freed}`: binds a named root (a global
/// variable: one reference owned by the heap, not by a session); `id: null` deletes it, which
/// drops its reference.
public struct RootSetRequest: HeapMethod {
    public static let name = "root.set"
    public var root: String
    public var id: ObjectID?

    public init(root: String, id: ObjectID?) {
        self.root = root
        self.id = id
    }

    public init(params p: ParamsReader) throws(RPCError) {
        root = try p.string("name")
        id = try p.nullableObjectID("id")
    }

    public struct Result: HeapResult {
        public var name: String
        public var id: ObjectID?
        public var previous: ObjectID?
        public var freed: FreedObjects

        public init(name: String, id: ObjectID?, previous: ObjectID?, freed: FreedObjects) {
            self.name = name
            self.id = id
            self.previous = previous
            self.freed = freed
        }

        public func write(to o: JSONObjectWriter) {
            o.set("name", name)
            o.set("id", id)
            o.set("previous", previous)
            freed.write(to: o)
        }
    }
}
