import HeapCore
import HeapProtocol

// The graph methods (SPEC §5): each builds the heap's graph once per call, reads it, and changes
// nothing (the collector never runs). Each takes the graph (and what else it needs to name
// things) inside the heap's lock, and searches it after the lock is released.

extension PathRequest: DeferredServerMethod {
    // Inside the lock: the graph and its field names. After it: the breadth-first search.
    func prepare(_ server: inout ServerState, _ request: inout RequestContext) throws -> @Sendable () throws -> Result {
        _ = try server.heap.typeName(of: id)  // no such object: its error, at once
        let (graph, names, _) = server.inspectionGraph(names: true)
        return { Result(id: id, paths: graph.retentionPaths(to: id, limit: limit, names: names!)) }
    }
}

extension CyclesRequest: DeferredServerMethod {
    // The graph is taken inside the lock (O(objects + fields)); Tarjan runs after it.
    func prepare(_ server: inout ServerState, _ request: inout RequestContext) throws -> @Sendable () throws -> Result {
        if let id { _ = try server.heap.typeName(of: id) }  // no such object: its error, at once
        let graph = server.inspectionGraph().graph
        return { Result(components: graph.cycles(containing: id, limit: limit)) }
    }
}

extension DominatorsRequest: DeferredServerMethod {
    // Inside the lock: the graph and each slot's type (or nothing, when the tree of this version
    // of the heap is cached). After it: SEMI-NCA, then the answer from the tree.
    func prepare(_ server: inout ServerState, _ request: inout RequestContext) throws -> @Sendable () throws -> Result {
        if let id { _ = try server.heap.typeName(of: id) }
        let tree = server.dominatorTreeLater()
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
        let tree = server.dominatorTreeLater()
        let now = since == nil ? nil : server.heap.census()
        let catalog = request.environment.snapshots
        return {
            let built = tree()
            var growth: [CensusDiff.TypeDelta] = []
            if let since, let now {
                let then = try catalog.load(since).census
                growth = CensusDiff(from: then, to: now, idLimit: 0).byType.filter { $0.countDelta > 0 || $0.bytesDelta > 0 }
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
    mutating func dominatorTreeLater() -> @Sendable () -> DominatorCache.Tree {
        let cache = dominatorCache
        let version = heapVersion
        dominatorsAsked = true
        if let cached = cache.tree(for: version) { return { cached } }
        let (graph, _, slotTypes) = inspectionGraph(types: true)
        let types = slotTypes!
        return {
            let built = DominatorCache.Tree(version: version, tree: graph.dominatorTree(), types: types)
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
            let (graph, _, slotTypes) = server.inspectionGraph(types: true)
            let types = slotTypes!
            return { Result(types: graph.keptAliveOnly(by: sid, types: types)) }
        }
        let rows = try server.heap.typeHistogram(session: sid, generation: generation)
        return { Result(types: rows) }
    }
}
