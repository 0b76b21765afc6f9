import HeapCore
import HeapProtocol

// The graph methods (SPEC §5): each reads the heap's graph and changes nothing (the collector
// never runs). The graph is cached until the heap changes; a new one is taken in slices of the
// table with the lock released between them (``ServerState/inspectionGraphLater``), and searched
// after the lock is released.

extension PathRequest: DeferredServerMethod {
    // After the lock: the graph with its field names, then the breadth-first search.
    func prepare(_ server: inout ServerState, _ request: inout RequestContext) throws -> @Sendable () throws -> Result {
        _ = try server.heap.typeName(of: id)  // no such object: its error, at once
        let taken = server.inspectionGraphLater(request)
        return {
            let g = taken()
            return Result(id: id, paths: g.graph.retentionPaths(to: id, limit: limit, names: g.names))
        }
    }
}

extension CyclesRequest: DeferredServerMethod {
    // After the lock: the graph, then Tarjan.
    func prepare(_ server: inout ServerState, _ request: inout RequestContext) throws -> @Sendable () throws -> Result {
        if let id { _ = try server.heap.typeName(of: id) }  // no such object: its error, at once
        let taken = server.inspectionGraphLater(request)
        return { Result(components: taken().graph.cycles(containing: id, limit: limit)) }
    }
}

extension DominatorsRequest: DeferredServerMethod {
    // After the lock (nothing to do when the tree of this version of the heap is cached): the
    // graph and each slot's type, SEMI-NCA, then the answer from the tree.
    func prepare(_ server: inout ServerState, _ request: inout RequestContext) throws -> @Sendable () throws -> Result {
        if let id { _ = try server.heap.typeName(of: id) }
        let tree = server.dominatorTreeLater(request)
        return {
            let built = tree()
            if let id { return .object(id, built.tree.entry(id)) }
            return .top(built.tree.top(limit).map { ($0, built.types.name(of: $0.id, in: built.tree.graph)) })
        }
    }
}

extension LeaksRequest: DeferredServerMethod {
    // As `dominators` (the same cached tree), plus a census when a snapshot is to be compared.
    func prepare(_ server: inout ServerState, _ request: inout RequestContext) throws -> @Sendable () throws -> Result {
        let tree = server.dominatorTreeLater(request)
        let now = since == nil ? nil : server.heap.census()
        let catalog = request.environment.snapshots
        return {
            let built = tree()
            var growth: [CensusDiff.TypeDelta] = []
            if let since, let now {
                let then = try catalog.load(since).census
                growth = CensusDiff(from: then, to: now, idLimit: 0).byType.filter {
                    $0.countDelta > 0 || $0.bytesDelta > 0
                }
                growth = Array(growth.prefix(limit))
            }
            let suspects = LeakSuspects(built.tree, limit: limit)
            let types = suspects.retainers.map { built.types.name(of: $0.id, in: built.tree.graph) }
            return Result(suspects: suspects, retainerTypes: types, since: since, growth: growth)
        }
    }
}

extension ServerState {
    /// Inside the lock: what the dominator tree of the heap now needs (nothing when it is
    /// cached). The closure, run after the lock, builds it (and caches it) or returns the cached one.
    mutating func dominatorTreeLater(_ request: RequestContext) -> @Sendable () -> DominatorCache.Tree {
        let cache = dominatorCache
        dominatorsAsked = true
        if let cached = cache.tree(for: heapVersion) { return { cached } }
        let taken = inspectionGraphLater(request)
        return {
            let g = taken()
            let built = DominatorCache.Tree(version: g.version, tree: g.graph.dominatorTree(), types: g.types)
            cache.store(built)
            return built
        }
    }
}

extension HistogramRequest: DeferredServerMethod {
    // The plain histogram is the heap's own totals (or one pass over a list), inside the lock;
    // `retained` takes the graph there and searches it after.
    func prepare(_ server: inout ServerState, _ request: inout RequestContext) throws -> @Sendable () throws -> Result {
        if bySite {
            let rows = server.heap.siteHistogram()
            return { Result(sites: rows) }
        }
        var sid: SessionID?
        if let session {
            guard let found = server.heap.session(named: session) else { throw ServerError.noSessionNamed(session) }
            sid = found
        }
        if retained, let sid {
            let taken = server.inspectionGraphLater(request)
            return {
                let g = taken()
                return Result(types: g.graph.keptAliveOnly(by: sid, types: g.types))
            }
        }
        let rows = try server.heap.typeHistogram(session: sid, generation: generation)
        return { Result(types: rows) }
    }
}
