import HeapCore
import JSONRPC

/// `path {id, limit?}` → `{id, reachable, paths: [{root, ids, fields}]}`: why is it alive.
/// Up to `limit` (default 1) shortest paths of strong edges, from distinct root holders, shortest
/// first, then by holder (session, root, permanent, garbage; then name): `paths[0]` is a shortest
/// path from any holder. `root` is `{kind, name?, session?}` (an anonymous session has
/// `name: null` and its `session` id); `ids` runs from an object the holder holds to `id`, both
/// included; `fields[i]` is the field of `ids[i]` holding `ids[i+1]` (its first such field, in
/// field order). `reachable: false` with no paths: only a cycle or garbage keeps it (the
/// collector would free it). Never collects. Errors: no such object.
public struct PathRequest: HeapMethod {
    public static let name = "path"
    public var id: ObjectID
    public var limit: Int

    public init(id: ObjectID, limit: Int = 1) {
        self.id = id
        self.limit = limit
    }

    public init(params p: ParamsReader) throws(RPCError) {
        id = try p.objectID("id")
        limit = try p.optionalLimit("limit") ?? 1
    }

    public var params: JSONValue? { ["id": id.json, "limit": .int(Int64(limit))] }

    public struct Result: HeapResult {
        public var id: ObjectID
        public var paths: [RetentionPath]

        public init(id: ObjectID, paths: [RetentionPath]) {
            self.id = id
            self.paths = paths
        }

        public func write(to o: JSONObjectWriter) {
            o.set("id", id)
            o.set("reachable", !paths.isEmpty)
            o.array("paths") { a in
                for p in paths {
                    a.appendObject { m in
                        m.set("root", holder: p.holder)
                        m.array("ids", ids: p.ids)
                        m.array("fields", strings: p.fields)
                    }
                }
            }
        }
    }
}
