import HeapCore
import JSONRPC

/// `snapshot.leaks {first, second, third?, limit?}` → `{leaked: {count, bytes, ids}, by_type:
/// [{type, count, bytes}]}`: the three-snapshot technique (DevTools' "objects allocated between
/// snapshots"): the objects allocated after `first` and alive at `second` that are still alive
/// at `third` (absent: the heap now). Run the suspect operation between `first` and `second` and
/// again after `second`: what the first run left behind is listed. `ids` as in `snapshot.diff`
/// (smallest `limit`, default 1000, `truncated: true` when cut); `by_type` most bytes first.
/// Errors: no such snapshot (-32013).
public struct SnapshotLeaksRequest: HeapMethod {
    public static let name = "snapshot.leaks"
    public var first: String
    public var second: String
    public var third: String?
    public var limit: Int

    public init(first: String, second: String, third: String? = nil, limit: Int = SnapshotDiffRequest.defaultLimit) {
        self.first = first
        self.second = second
        self.third = third
        self.limit = limit
    }

    public init(params p: ParamsReader) throws(RPCError) {
        first = try p.snapshotName("first")
        second = try p.snapshotName("second")
        third = try p.optionalSnapshotName("third")
        limit = try p.optionalLimit("limit") ?? SnapshotDiffRequest.defaultLimit
    }

    public var params: JSONValue? {
        var members: [(String, JSONValue)] = [("first", .string(first)), ("second", .string(second))]
        if let third { members.append(("third", .string(third))) }
        if limit != SnapshotDiffRequest.defaultLimit { members.append(("limit", .int(Int64(limit)))) }
        return .object(members)
    }

    public struct Result: HeapResult {
        public var leaks: CensusLeaks

        public init(leaks: CensusLeaks) { self.leaks = leaks }

        public func write(to o: JSONObjectWriter) {
            o.object("leaked") { leaks.leaked.write(to: $0) }
            o.array("by_type") { a in
                for t in leaks.byType {
                    a.appendObject { m in
                        m.set("type", t.type)
                        m.set("count", t.count)
                        m.set("bytes", t.bytes)
                    }
                }
            }
        }
    }
}
