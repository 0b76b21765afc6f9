import HeapCore
import HeapProtocol

extension InspectRequest: ServerMethod {
    func run(_ server: inout ServerState, _ request: inout RequestContext) throws -> Result {
        try server.answerHolderList(request) { heap, index in Result(try heap.inspect(id, index: index)) }
    }
}

extension ReferrersRequest: ServerMethod {
    func run(_ server: inout ServerState, _ request: inout RequestContext) throws -> Result {
        try server.answerHolderList(request) { heap, index in
            Result(id: id, referrers: try heap.referrers(of: id, index: index))
        }
    }
}

extension ReferentsRequest: ServerMethod {
    func run(_ server: inout ServerState, _ request: inout RequestContext) throws -> Result {
        Result(id: id, referents: try server.heap.snapshot(id).fields.map(\.target))
    }
}

extension ObjectsRequest: ServerMethod {
    func run(_ server: inout ServerState, _ request: inout RequestContext) throws -> Result {
        let (page, next) = server.heap.objectsPage(
            after: after, generation: generation, type: type, allocatedBy: allocatedBy, limit: limit)
        return Result(objects: page, next: next)
    }
}

extension CheckRequest: ServerMethod {
    func run(_ server: inout ServerState, _ request: inout RequestContext) throws -> Result {
        Result(objects: server.heap.objectCount, problems: server.heap.checkInvariants())
    }
}
