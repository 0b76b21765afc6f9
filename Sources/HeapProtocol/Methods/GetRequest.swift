import HeapCore
import JSONRPC

/// `get {id}` → `{id, type, size, data, fields, refcount, finalizer}`, and for a weakref also
/// `referent` (id, or null once it died) and `callback`. -32001 with `data.state` "freed" or
/// "never-existed" for an id that is not live.
public struct GetRequest: HeapMethod {
    public static let name = "get"
    public var id: ObjectID

    public init(id: ObjectID) { self.id = id }
    public init(params p: ParamsReader) throws(RPCError) { id = try p.objectID("id") }
    public var params: JSONValue? { ["id": id.json] }

    public typealias Result = ObjectState
}

extension ObjectState: HeapResult {}
