import HeapCore
import HeapProtocol

// The graph methods (SPEC §5): each builds the heap's graph once per call, reads it, and changes
// nothing (the collector never runs). They run inside the heap's lock, as every handler does.

extension PathRequest: ServerMethod {
    func run(_ server: inout ServerState, _ request: inout RequestContext) throws -> Result {
        Result(id: id, paths: try server.heap.retentionPaths(to: id, limit: limit))
    }
}

extension CyclesRequest: ServerMethod {
    func run(_ server: inout ServerState, _ request: inout RequestContext) throws -> Result {
        Result(components: try server.heap.cycles(containing: id, limit: limit))
    }
}

extension DominatorsRequest: ServerMethod {
    func run(_ server: inout ServerState, _ request: inout RequestContext) throws -> Result {
        if let id { _ = try server.heap.typeName(of: id) }  // no such object: its error, before any work
        let tree: DominatorTree
        if let cached = server.dominatorCache, cached.version == server.heapVersion {
            tree = cached.tree
        } else {
            tree = server.heap.dominatorTree()
            server.dominatorCache = (server.heapVersion, tree)
        }
        if let id { return .object(id, tree.entry(id)) }
        let heap = server.heap
        return .top(tree.top(limit).map { ($0, (try? heap.typeName(of: $0.id)) ?? "") })
    }
}

extension HistogramRequest: ServerMethod {
    func run(_ server: inout ServerState, _ request: inout RequestContext) throws -> Result {
        var sid: SessionID?
        if let session {
            guard let found = server.heap.session(named: session) else { throw ServerError.noSessionNamed(session) }
            sid = found
        }
        return Result(types: try server.heap.typeHistogram(session: sid, generation: generation))
    }
}
