import HeapCore
import JSONRPC

/// `dominators {id?, limit?}`: retained sizes, on the strong-edge graph plus one virtual root
/// with an edge to every object a root holder holds. With `id`: `{id, idom, retained_count,
/// retained_bytes}`, `idom` the immediate dominator's id or null for the virtual root, the
/// retained set being every object it dominates, itself included; `{id, reachable: false}` for
/// an object outside the tree (only a cycle or garbage keeps it). Without: `{top: [{id, type,
/// retained_count, retained_bytes}]}`, the `limit` (default 20) objects anywhere in the tree with
/// the most retained bytes (smaller id on a tie). The tree is cached until the heap changes.
/// Never collects. Errors: no such object.
public struct DominatorsRequest: HeapMethod {
    public static let name = "dominators"
    public var id: ObjectID?
    public var limit: Int

    public init(id: ObjectID? = nil, limit: Int = 20) {
        self.id = id
        self.limit = limit
    }

    public init(params p: ParamsReader) throws(RPCError) {
        id = try p.nullableObjectID("id")
        limit = try p.optionalLimit("limit") ?? 20
    }

    public var params: JSONValue? {
        var members: [(String, JSONValue)] = [("limit", .int(Int64(limit)))]
        if let id { members.append(("id", id.json)) }
        return .object(members)
    }

    public enum Result: HeapResult {
        /// One object's place in the tree (nil entry: unreachable).
        case object(ObjectID, DominatorTree.Entry?)
        case top([(entry: DominatorTree.Entry, type: String)])

        public func write(to o: JSONObjectWriter) {
            switch self {
            case .object(let id, nil):
                o.set("id", id)
                o.set("reachable", false)
            case .object(_, let e?):
                o.set("id", e.id)
                o.set("reachable", true)
                o.set("idom", e.idom)
                o.set("retained_count", e.retainedCount)
                o.set("retained_bytes", e.retainedBytes)
            case .top(let rows):
                o.array("top") { a in
                    for (e, type) in rows {
                        a.appendObject { m in
                            m.set("id", e.id)
                            m.set("type", type)
                            m.set("idom", e.idom)
                            m.set("retained_count", e.retainedCount)
                            m.set("retained_bytes", e.retainedBytes)
                        }
                    }
                }
            }
        }
    }
}
