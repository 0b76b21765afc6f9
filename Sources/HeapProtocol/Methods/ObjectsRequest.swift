import HeapCore
import JSONRPC

/// `objects {generation?, type?, session?, after?, limit?}` → `{objects: [{id, type, size, refcount,
/// generation}], next}`: live objects in table order (ascending slot: ascending id until slots
/// are reused), filtered as `gc.get_objects(generation)` with a type filter and `session` (the
/// session that allocated them: its id, or the name it had then), `limit` (default
/// 1000, at most 100,000) per page; pass `next` as `after` for the following page (null on the
/// last). A page costs the slots it scans, not the heap; an object live for the whole walk is
/// returned exactly once (`HeapCore/Heap+ObjectPages.swift`).
public struct ObjectsRequest: HeapMethod {
    public static let name = "objects"
    /// 0, 1, 2, or 3 for the permanent generation.
    public var generation: Int?
    public var type: String?
    /// Only objects this session allocated (`allocate`'s caller): its id, or its name then.
    public var allocatedBy: AllocatingSession?
    public var after: ObjectID?
    public var limit: Int

    public init(generation: Int? = nil, type: String? = nil, after: ObjectID? = nil, limit: Int = 1000) {
        self.generation = generation
        self.type = type
        self.after = after
        self.limit = limit
    }

    public init(params p: ParamsReader) throws(RPCError) {
        generation = try p.optionalGenerationOrPermanent("generation")
        type = try p.optionalString("type")
        allocatedBy = try p.optionalAllocatingSession("session")
        after = try p.nullableObjectID("after")
        limit = try p.optionalLimit("limit") ?? 1000
    }

    public struct Result: HeapResult {
        /// What the core's page holds (`Heap.objectsPage`).
        public typealias Entry = ObjectPageEntry

        public var objects: [Entry]
        public var next: ObjectID?

        public init(objects: [Entry], next: ObjectID?) {
            self.objects = objects
            self.next = next
        }

        public func write(to o: JSONObjectWriter) {
            o.array("objects") { a in
                for e in objects {
                    a.appendObject { m in
                        m.set("id", e.id)
                        m.set("type", e.type)
                        m.set("size", e.size)
                        m.set("refcount", e.refcount)
                        m.set("generation", generation: e.generation)
                    }
                }
            }
            o.set("next", next)
        }
    }
}
