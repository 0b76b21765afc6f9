import HeapCore
import JSONRPC

/// `unref {id}` → `{id, refcount, freed, freed_count?}`: the caller's session drops one
/// reference it holds (the newest scope first). At refcount 0 the object is freed at once, and
/// what only it held after it; `refcount` is then 0.
public struct UnrefRequest: HeapMethod {
    public static let name = "unref"
    public var id: ObjectID

    public init(id: ObjectID) { self.id = id }
    public init(params p: ParamsReader) throws(RPCError) { id = try p.objectID("id") }
    public var params: JSONValue? { ["id": id.json] }

    public struct Result: HeapResult {
        public var id: ObjectID
        public var refcount: Int
        public var freed: FreedObjects

        public init(id: ObjectID, refcount: Int, freed: FreedObjects) {
            self.id = id
            self.refcount = refcount
            self.freed = freed
        }

        public func write(to o: JSONObjectWriter) {
            o.set("id", id)
            o.set("refcount", refcount)
            freed.write(to: o)
        }
    }
}
