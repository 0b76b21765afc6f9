import HeapCore
import HeapProtocol

extension InspectRequest: ServerMethod {
    func run(_ server: inout ServerState, _ request: inout RequestContext) throws -> Result {
        Result(try server.heap.inspect(id))
    }
}

extension ReferrersRequest: ServerMethod {
    func run(_ server: inout ServerState, _ request: inout RequestContext) throws -> Result {
        Result(id: id, referrers: try server.heap.referrers(of: id))
    }
}

extension ReferentsRequest: ServerMethod {
    func run(_ server: inout ServerState, _ request: inout RequestContext) throws -> Result {
        Result(id: id, referents: try server.heap.snapshot(id).fields.map(\.target))
    }
}

extension ObjectsRequest: ServerMethod {
    func run(_ server: inout ServerState, _ request: inout RequestContext) throws -> Result {
        let heap = server.heap
        let candidates = generation.map { heap.objects(inGeneration: $0).sorted() } ?? heap.allObjects()
        var page: [Result.Entry] = []
        var next: ObjectID?
        for id in candidates where after.map({ id > $0 }) ?? true {
            guard let s = try? heap.snapshot(id) else { continue }
            if let type, s.type != type { continue }
            if page.count == limit {
                next = page.last?.id
                break
            }
            page.append(
                Result.Entry(
                    id: id, type: s.type, size: s.size, refcount: s.refcount,
                    generation: (try? heap.generation(of: id)) ?? 0))
        }
        return Result(objects: page, next: next)
    }
}

extension CheckRequest: ServerMethod {
    func run(_ server: inout ServerState, _ request: inout RequestContext) throws -> Result {
        Result(objects: server.heap.objectCount, problems: server.heap.checkInvariants())
    }
}
