import HeapCore
import JSONRPC

/// `ref {id}` → `{id, refcount}`: the caller's session takes one more reference (a new local
/// variable bound to the object), in its innermost scope.
public struct RefRequest: HeapMethod {
    public static let name = "ref"
    public var id: ObjectID

    public init(id: ObjectID) { self.id = id }
    public init(params p: ParamsReader) throws(RPCError) { id = try p.objectID("id") }
    public var params: JSONValue? { ["id": id.json] }

    public struct Result: HeapResult {
        public var id: ObjectID
        public var refcount: Int
        public init(id: ObjectID, refcount: Int) { self.id = id; self.refcount = refcount }

        public func write(to o: JSONObjectWriter) {
            o.set("id", id)
            o.set("refcount", refcount)
        }
    }
}
