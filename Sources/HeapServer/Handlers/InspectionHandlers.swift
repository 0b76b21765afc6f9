import HeapCore
import HeapProtocol

extension InspectRequest: ServerMethod {
    func run(_ server: inout ServerState, _ request: inout RequestContext) throws -> Result {
        let index = server.currentReferrerIndex()
        let result = Result(try server.heap.inspect(id, index: index))
        if server.countHolderList(indexed: index != nil) { request.heapAccess?.buildReferrerIndex() }
        return result
    }
}

extension ReferrersRequest: ServerMethod {
    func run(_ server: inout ServerState, _ request: inout RequestContext) throws -> Result {
        let index = server.currentReferrerIndex()
        let result = Result(id: id, referrers: try server.heap.referrers(of: id, index: index))
        if server.countHolderList(indexed: index != nil) { request.heapAccess?.buildReferrerIndex() }
        return result
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
