import HeapCore
import JSONRPC

/// `histogram {session?, generation?}` → `{types: [{type, count, bytes}]}`: live objects by
/// type (live garbage included), most bytes first, then by type name. `session` (a named
/// session's name): only the objects that session holds a reference to, in any scope;
/// `generation` (0, 1, 2 or "permanent"): only that generation's; both: objects in both.
/// `retained: true` (with `session`): instead, what only that session keeps alive, the objects
/// its references reach and no other root holder reaches (what closing it would free).
/// `by: "site"`: instead `{sites: [{site, count, bytes}]}`, live objects by allocation site
/// (`allocate {site}`; null: allocated without one), most bytes first (tracemalloc's
/// `statistics("lineno")`); not with the other parameters. O(objects).
/// Errors: no session of that name.
public struct HistogramRequest: HeapMethod {
    public static let name = "histogram"
    public var session: String?
    /// 0, 1, 2, or 3 for the permanent generation.
    public var generation: Int?
    /// What only `session` keeps alive, instead of what it holds.
    public var retained: Bool
    /// Group by allocation site instead of by type.
    public var bySite: Bool

    public init(session: String? = nil, generation: Int? = nil, retained: Bool = false, bySite: Bool = false) {
        self.session = session
        self.generation = generation
        self.retained = retained
        self.bySite = bySite
    }

    public init(params p: ParamsReader) throws(RPCError) {
        session = try p.optionalString("session")
        generation = try p.optionalGenerationOrPermanent("generation")
        retained = try p.optionalBool("retained") ?? false
        switch try p.optionalString("by") {
        case nil, "type": bySite = false
        case "site": bySite = true
        case let other?: throw .invalidParams("params.by: \"type\" or \"site\", got \"\(other)\"")
        }
        if bySite && (session != nil || generation != nil || retained) {
            throw .invalidParams("params.by: \"site\" counts every live object (leave out session, generation, retained)")
        }
        if retained && session == nil { throw .invalidParams("params.retained: needs params.session") }
        if retained && generation != nil {
            throw .invalidParams("params.retained: counts every generation (leave out params.generation)")
        }
    }

    public var params: JSONValue? {
        var members: [(String, JSONValue)] = []
        if let session { members.append(("session", .string(session))) }
        if retained { members.append(("retained", true)) }
        if bySite { members.append(("by", "site")) }
        if let generation {
            members.append(("generation", generation == 3 ? .string("permanent") : .int(Int64(generation))))
        }
        return .object(members)
    }

    public struct Result: HeapResult {
        public struct SiteCount: Sendable {
            public var site: String?
            public var count: Int
            public var bytes: UInt64
        }
        public var types: [TypeCount]
        /// Set for `by: "site"` (then `types` is empty and not written).
        public var sites: [SiteCount]?

        public init(types: [TypeCount]) { self.types = types }
        public init(sites: [(site: String?, count: Int, bytes: UInt64)]) {
            types = []
            self.sites = sites.map { SiteCount(site: $0.site, count: $0.count, bytes: $0.bytes) }
        }

        public func write(to o: JSONObjectWriter) {
            if let sites {
                o.array("sites") { a in
                    for s in sites {
                        a.appendObject { m in
                            m.set("site", s.site)
                            m.set("count", s.count)
                            m.set("bytes", s.bytes)
                        }
                    }
                }
                return
            }
            o.array("types") { a in
                for t in types {
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
