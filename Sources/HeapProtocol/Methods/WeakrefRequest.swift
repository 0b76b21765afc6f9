import HeapCore
import JSONRPC

/// `weakref {id, callback?, fields?}` → `{id}` of a new `weakref` object held by the caller. It
/// does not count towards its referent's refcount; `callback: true` sends `weakref.callback`
/// when the referent dies while the weakref lives. `fields` are the weakref's own strong
/// references (what a callback closure would capture).
public struct WeakrefRequest: HeapMethod {
    public static let name = "weakref"
    public var referent: ObjectID
    public var callback: Bool
    public var fields: [(name: String, target: ObjectID)]

    public init(referent: ObjectID, callback: Bool = false, fields: [(name: String, target: ObjectID)] = []) {
        self.referent = referent
        self.callback = callback
        self.fields = fields
    }

    public init(params p: ParamsReader) throws(RPCError) {
        referent = try p.objectID("id")
        callback = try p.optionalBool("callback") ?? false
        fields = try p.fieldTargets("fields")
    }

    public typealias Result = AllocateRequest.Result
}
