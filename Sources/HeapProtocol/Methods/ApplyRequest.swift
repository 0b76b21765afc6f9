import HeapCore
import JSONRPC

/// `apply {ops, atomic?}` → `{results, errors, freed?}`: up to 10,000 compact ops
/// (`["alloc", type, size?]`, `["ref", id]`, `["unref", id]`, `["set", id, field, id|null]`,
/// `["weakref", id, callback?]`) in one request and one journal record; `"$k"` wherever an id
/// goes names op k's new object. `results[i]` is an id (alloc, weakref), a refcount (ref, unref,
/// set), or the error object the single method would give. With `atomic: true` a dry run
/// predicts every op first; if any would fail, nothing changes and the reply is that op's error
/// (`data.op` = its index; a refused atomic batch keeps nothing, not even the name interning of a
/// failed field delete, -32015, which a non-atomic batch keeps as `set` does). A malformed op
/// fails the whole request with -32602, changing nothing.
public struct ApplyRequest: HeapMethod {
    public static let name = "apply"
    public var ops: [BatchOp]
    public var atomic: Bool

    public init(ops: [BatchOp], atomic: Bool = false) {
        self.ops = ops
        self.atomic = atomic
    }

    public init(params p: ParamsReader) throws(RPCError) {
        ops = try p.batchOps("ops")
        atomic = try p.optionalBool("atomic") ?? false
    }

    public struct Result: HeapResult {
        public enum Entry: Sendable {
            case object(ObjectID)
            case refcount(Int)
            case failed(RPCError)
        }

        public var results: [Entry]
        public var errors: Int
        /// How many objects the batch freed (0: the member is left out).
        public var freed: Int

        public init(results: [Entry], errors: Int, freed: Int) {
            self.results = results
            self.errors = errors
            self.freed = freed
        }

        public func write(to o: JSONObjectWriter) {
            o.array("results") { a in
                for entry in results {
                    switch entry {
                    case .object(let id): a.append(Int64(id.raw))
                    case .refcount(let n): a.append(Int64(n))
                    case .failed(let error): a.appendObject { error.write(to: $0) }
                    }
                }
            }
            o.set("errors", errors)
            if freed > 0 { o.set("freed", freed) }
        }
    }
}

extension RPCError {
    /// The error object's members (`code`, `message`, `data?`).
    public func write(to o: JSONObjectWriter) {
        o.set("code", code.rawValue)
        o.set("message", message)
        if let data { o.set("data", data) }
    }
}
