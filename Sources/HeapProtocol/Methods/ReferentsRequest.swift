import HeapCore
import JSONRPC

/// `referents {id}` → `{id, referents}`: what its fields hold, once per field in field order,
/// as `gc.get_referents` lists them (an object held by two fields appears twice). A weakref's
/// referent is not among them (a weak reference is no edge); its own fields are.
public struct ReferentsRequest: HeapMethod {
    public static let name = "referents"
    public var id: ObjectID

    public init(id: ObjectID) { self.id = id }
    public init(params p: ParamsReader) throws(RPCError) { id = try p.objectID("id") }
    public var params: JSONValue? { ["id": id.json] }

    public struct Result: HeapResult {
        public var id: ObjectID
        public var referents: [ObjectID]

        public init(id: ObjectID, referents: [ObjectID]) {
            self.id = id
            self.referents = referents
        }

        public func write(to o: JSONObjectWriter) {
            o.set("id", id)
            o.array("referents", ids: referents)
        }
    }
}
