import HeapCore
import JSONRPC

/// `snapshot.diff {from, to?, limit?}` → `{from, to, new: {count, bytes, ids}, freed: {count,
/// bytes, ids}, by_type: [{type, new, freed, count_delta, bytes_delta}]}`: exactly which objects
/// were allocated and which freed between snapshot `from` and snapshot `to` (absent: the heap
/// now, garbage included; `to` is then `null` in the result). Ids are never reused, so the diff
/// is exact. `ids` lists the smallest `limit` (default 1000) ids ascending, and a part whose list
/// was cut carries `truncated: true`; `count` and `bytes` are always exact, bytes counted at the
/// side where the object exists. `by_type` holds the types with anything new or freed, most
/// bytes gained first (then most objects gained, then name). Errors: no such snapshot (-32013).
public struct SnapshotDiffRequest: HeapMethod {
    public static let name = "snapshot.diff"
    public static let defaultLimit = 1000
    public var from: String
    public var to: String?
    public var limit: Int

    public init(from: String, to: String? = nil, limit: Int = Self.defaultLimit) {
        self.from = from
        self.to = to
        self.limit = limit
    }

    public init(params p: ParamsReader) throws(RPCError) {
        from = try p.snapshotName("from")
        to = try p.optionalSnapshotName("to")
        limit = try p.optionalLimit("limit") ?? Self.defaultLimit
    }

    public var params: JSONValue? {
        var members: [(String, JSONValue)] = [("from", .string(from))]
        if let to { members.append(("to", .string(to))) }
        if limit != Self.defaultLimit { members.append(("limit", .int(Int64(limit)))) }
        return .object(members)
    }

    public struct Result: HeapResult {
        public var from: String
        public var to: String?
        public var diff: CensusDiff

        public init(from: String, to: String?, diff: CensusDiff) {
            self.from = from
            self.to = to
            self.diff = diff
        }

        public func write(to o: JSONObjectWriter) {
            o.set("from", from)
            o.set("to", to)
            o.object("new") { diff.new.write(to: $0) }
            o.object("freed") { diff.freed.write(to: $0) }
            o.array("by_type") { a in
                for t in diff.byType {
                    a.appendObject { m in
                        m.set("type", t.type)
                        m.set("new", t.new)
                        m.set("freed", t.freed)
                        m.set("count_delta", t.countDelta)
                        m.set("bytes_delta", t.bytesDelta)
                    }
                }
            }
        }
    }
}
