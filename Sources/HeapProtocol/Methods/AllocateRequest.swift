import HeapCore
import JSONRPC

/// `allocate {type, size?, data?, fields?, finalizer?, site?}` → `{id}`: a new object, its refcount 1,
/// held by the caller's session (as a new Python object is held by the name it is bound to).
/// `size` defaults to the byte length of `data`'s compact JSON; `fields` take references to
/// existing objects; `finalizer: true` means the type has `__del__` (a `finalize` event before
/// it is freed). `site` records where the client allocated it (`file:line`, a function name: up
/// to 1024 bytes), with the allocating session and the second (`inspect` shows them,
/// `histogram {by: "site"}` groups by them).
public struct AllocateRequest: HeapMethod {
    public static let name = "allocate"
    public var spec: AllocationSpec

    public init(_ spec: AllocationSpec) { self.spec = spec }

    public init(params p: ParamsReader) throws(RPCError) {
        spec = AllocationSpec(
            type: try p.string("type"), size: try p.optionalSize("size"), data: try p.data("data"),
            fields: try p.fieldTargets("fields"), finalizer: try p.optionalBool("finalizer") ?? false,
            site: try p.optionalString("site"))
    }

    public struct Result: HeapResult {
        public var id: ObjectID
        public init(id: ObjectID) { self.id = id }
        public func write(to o: JSONObjectWriter) { o.set("id", id) }
    }
}
