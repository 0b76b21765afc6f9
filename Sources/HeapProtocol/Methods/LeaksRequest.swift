import HeapCore
import JSONRPC

/// `leaks {since?, limit?}` → `{retainers: [{id, type, idom, retained_count, retained_bytes}],
/// unreachable: {count, bytes, cycles: [{ids, bytes}]}, growth?: {since, types: [{type, new,
/// freed, count_delta, bytes_delta}]}}`: leak candidates in one answer (Eclipse MAT's "leak
/// suspects"). `retainers`: the `limit` (default 20) objects that alone keep the most bytes
/// alive (as `dominators`). `unreachable`: live objects no root holder reaches (only cycles keep
/// them; the next collection frees them) and the `limit` largest cycles among them. `growth`
/// (with `since`, a snapshot's name): the types with more objects or bytes now than then, most
/// bytes gained first. Never collects. Errors: no such snapshot (-32013).
public struct LeaksRequest: HeapMethod {
    public static let name = "leaks"
    public var since: String?
    public var limit: Int

    public init(since: String? = nil, limit: Int = 20) {
        self.since = since
        self.limit = limit
    }

    public init(params p: ParamsReader) throws(RPCError) {
        since = try p.optionalSnapshotName("since")
        limit = try p.optionalLimit("limit") ?? 20
    }

    public var params: JSONValue? {
        var members: [(String, JSONValue)] = [("limit", .int(Int64(limit)))]
        if let since { members.append(("since", .string(since))) }
        return .object(members)
    }

    public struct Result: HeapResult {
        public var suspects: LeakSuspects
        /// The type of each retainer, in order.
        public var retainerTypes: [String]
        public var since: String?
        public var growth: [CensusDiff.TypeDelta]

        public init(suspects: LeakSuspects, retainerTypes: [String], since: String?, growth: [CensusDiff.TypeDelta]) {
            self.suspects = suspects
            self.retainerTypes = retainerTypes
            self.since = since
            self.growth = growth
        }

        public func write(to o: JSONObjectWriter) {
            o.array("retainers") { a in
                for (e, type) in zip(suspects.retainers, retainerTypes) {
                    a.appendObject { m in
                        m.set("id", e.id)
                        m.set("type", type)
                        m.set("idom", e.idom)
                        m.set("retained_count", e.retainedCount)
                        m.set("retained_bytes", e.retainedBytes)
                    }
                }
            }
            o.object("unreachable") { u in
                u.set("count", suspects.unreachableCount)
                u.set("bytes", suspects.unreachableBytes)
                u.array("cycles") { a in
                    for c in suspects.garbageCycles {
                        a.appendObject { m in
                            m.array("ids", ids: c.ids)
                            m.set("bytes", c.bytes)
                        }
                    }
                }
            }
            guard let since else { return }
            o.object("growth") { g in
                g.set("since", since)
                g.array("types") { a in
                    for t in growth {
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
}
