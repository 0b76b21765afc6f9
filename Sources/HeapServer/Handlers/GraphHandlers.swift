import HeapCore
import HeapProtocol

// The graph methods (SPEC §5): each builds the heap's graph once per call, reads it, and changes
// nothing (the collector never runs). `path` runs inside the heap's lock (its search costs what
// building the graph costs, and its field names are read from the heap); `cycles` and
// `dominators` take the graph inside it and do the rest after it is released.

extension PathRequest: ServerMethod {
    func run(_ server: inout ServerState, _ request: inout RequestContext) throws -> Result {
        Result(id: id, paths: try server.heap.retentionPaths(to: id, limit: limit))
    }
}

extension CyclesRequest: DeferredServerMethod {
    // The graph is taken inside the lock (O(objects + fields)); Tarjan runs after it.
    func prepare(_ server: inout ServerState, _ request: inout RequestContext) throws -> @Sendable () throws -> Result {
        if let id { _ = try server.heap.typeName(of: id) }  // no such object: its error, at once
        let graph = server.heap.graph()
        return { Result(components: graph.cycles(containing: id, limit: limit)) }
    }
}

extension DominatorsRequest: DeferredServerMethod {
    // Inside the lock: the graph and each slot's type (or nothing, when the tree of this version
    // of the heap is cached). After it: SEMI-NCA, then the answer from the tree.
    func prepare(_ server: inout ServerState, _ request: inout RequestContext) throws -> @Sendable () throws -> Result {
        if let id { _ = try server.heap.typeName(of: id) }
        let cache = server.dominatorCache
        let version = server.heapVersion
        server.dominatorsAsked = true
        let cached = cache.tree(for: version)
        let taken = cached == nil ? (server.heap.graph(), server.heap.slotTypes()) : nil
        return {
            let built: DominatorCache.Tree
            if let cached {
                built = cached
            } else {
                built = DominatorCache.Tree(version: version, tree: taken!.0.dominatorTree(), types: taken!.1)
                cache.store(built)
            }
            if let id { return .object(id, built.tree.entry(id)) }
            return .top(built.tree.top(limit).map { ($0, built.types.name(of: $0.id, in: built.tree.graph)) })
        }
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
