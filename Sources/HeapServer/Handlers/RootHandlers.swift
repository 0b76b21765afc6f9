import HeapCore
import HeapProtocol

extension RootSetRequest: ServerMethod {
    func run(_ server: inout ServerState, _ request: inout RequestContext) throws -> Result {
        let previous = try server.setRoot(root, to: id, &request.events)
        return Result(name: root, id: id, previous: previous, freed: FreedObjects(request.events))
    }
}

extension RootGetRequest: ServerMethod {
    func run(_ server: inout ServerState, _ request: inout RequestContext) throws -> Result {
        guard let id = server.heap.root(root) else { throw HeapError.noSuchRoot(root) }
        return NamedRoot(name: root, id: id)
    }
}

extension RootListRequest: ServerMethod {
    func run(_ server: inout ServerState, _ request: inout RequestContext) throws -> Result {
        Result(roots: server.heap.rootList().map { NamedRoot(name: $0.name, id: $0.id) })
    }
}
