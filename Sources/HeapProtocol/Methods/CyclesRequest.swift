import HeapCore
import JSONRPC

/// `cycles {id?, limit?}` → `{components: [{ids, bytes}]}`: strongly connected components of
/// the strong-edge graph with more than one object or a self-edge, live garbage included. With
/// `id`: the one component holding it (none when it is in no cycle). Without: the `limit`
/// (default 20) largest by `bytes`, then member count, then smallest id. `ids` ascend. Never
/// collects. Errors: no such object.
public struct CyclesRequest: HeapMethod {
    public static let name = "cycles"
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

    public struct Result: HeapResult {
        public var components: [CycleComponent]

        public init(components: [CycleComponent]) { self.components = components }

        public func write(to o: JSONObjectWriter) {
            o.array("components") { a in
                for c in components {
                    a.appendObject { m in
                        m.array("ids", ids: c.ids)
                        m.set("bytes", c.bytes)
                    }
                }
            }
        }
    }
}
