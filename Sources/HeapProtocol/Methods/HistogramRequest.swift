import HeapCore
import JSONRPC

/// `histogram {session?, generation?}` → `{types: [{type, count, bytes}]}`: live objects by
/// type (live garbage included), most bytes first, then by type name. `session` (a named
/// session's name): only the objects that session holds a reference to, in any scope;
/// `generation` (0, 1, 2 or "permanent"): only that generation's; both: objects in both.
/// `retained: true` (with `session`): instead, what only that session keeps alive, the objects
/// its references reach and no other root holder reaches (what closing it would free).
/// Errors: no session of that name.
public struct HistogramRequest: HeapMethod {
    public static let name = "histogram"
    public var session: String?
    /// 0, 1, 2, or 3 for the permanent generation.
    public var generation: Int?
    /// What only `session` keeps alive, instead of what it holds.
    public var retained: Bool

    public init(session: String? = nil, generation: Int? = nil, retained: Bool = false) {
        self.session = session
        self.generation = generation
        self.retained = retained
    }

    public init(params p: ParamsReader) throws(RPCError) {
        session = try p.optionalString("session")
        generation = try p.optionalGenerationOrPermanent("generation")
        retained = try p.optionalBool("retained") ?? false
        if retained && session == nil { throw .invalidParams("params.retained: needs params.session") }
        if retained && generation != nil {
            throw .invalidParams("params.retained: counts every generation (leave out params.generation)")
        }
    }

    public var params: JSONValue? {
        var members: [(String, JSONValue)] = []
        if let session { members.append(("session", .string(session))) }
        if retained { members.append(("retained", true)) }
        if let generation {
            members.append(("generation", generation == 3 ? .string("permanent") : .int(Int64(generation))))
        }
        return .object(members)
    }

    public struct Result: HeapResult {
        public var types: [TypeCount]

        public init(types: [TypeCount]) { self.types = types }

        public func write(to o: JSONObjectWriter) {
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
