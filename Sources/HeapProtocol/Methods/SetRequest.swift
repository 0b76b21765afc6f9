import HeapCore
import JSONRPC

/// `set {id, fields?, data?, size?}` → the object's new state exactly as `get` shows it, plus
/// `freed` (what dropping old field values freed). A field set to null is deleted; `data: null`
/// removes the data. When the change freed the object itself (only a cycle through the changed
/// field held it) the result is `{id, refcount: 0, freed}`.
public struct SetRequest: HeapMethod {
    public static let name = "set"
    public var id: ObjectID
    public var fields: [(name: String, target: ObjectID?)]
    /// nil leaves the data; `.some(nil)` removes it.
    public var data: [UInt8]??
    public var size: UInt64?

    public init(id: ObjectID, fields: [(name: String, target: ObjectID?)], data: [UInt8]?? = nil, size: UInt64? = nil) {
        self.id = id
        self.fields = fields
        self.data = data
        self.size = size
    }

    public init(params p: ParamsReader) throws(RPCError) {
        id = try p.objectID("id")
        fields = try p.optionalFieldTargets("fields")
        data = p.has("data") ? .some(try p.data("data")) : nil
        size = try p.optionalSize("size")
    }

    public enum Result: HeapResult {
        case changed(ObjectState, freed: FreedObjects)
        case freedItself(ObjectID, freed: FreedObjects)

        public func write(to o: JSONObjectWriter) {
            switch self {
            case .changed(let state, let freed):
                state.write(to: o)
                freed.write(to: o)
            case .freedItself(let id, let freed):
                o.set("id", id)
                o.set("refcount", 0)
                freed.write(to: o)
            }
        }
    }
}
