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
