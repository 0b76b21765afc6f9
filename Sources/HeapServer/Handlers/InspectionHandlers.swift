import HeapCore
import HeapProtocol

// `inspect` and `referrers` find an object's holders inside the lock and put them in order
// (by generation, then id) after it when there are many (``ServerState/holdersSortedInside``).

extension InspectRequest: ServerMethod {
    func run(_ server: inout ServerState, _ request: inout RequestContext) throws -> Result {
        Result(try server.answerHolderList(request) { try $0.inspectUnordered(id, index: $1) }.inOrder())
    }

    func execute(_ server: inout ServerState, _ request: inout RequestContext) throws -> any HeapResult {
        let found = try server.answerHolderList(request) { try $0.inspectUnordered(id, index: $1) }
        return ServerState.orderHolders(of: found.holderCount, request) { Result(found.inOrder()) }
    }
}

extension ReferrersRequest: ServerMethod {
    func run(_ server: inout ServerState, _ request: inout RequestContext) throws -> Result {
        Result(
            id: id,
            referrers: try server.answerHolderList(request) { try $0.referrersUnordered(of: id, index: $1) }.inOrder())
    }

    func execute(_ server: inout ServerState, _ request: inout RequestContext) throws -> any HeapResult {
        let found = try server.answerHolderList(request) { try $0.referrersUnordered(of: id, index: $1) }
        return ServerState.orderHolders(of: found.count, request) { [id] in Result(id: id, referrers: found.inOrder()) }
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
