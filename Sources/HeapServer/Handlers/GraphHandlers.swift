import HeapCore
import HeapProtocol

// The graph methods (SPEC §5): each reads the heap's graph and changes nothing (the collector
// never runs). The graph is cached until the heap changes; a new one is taken in slices of the
// table with the lock released between them (``ServerState/inspectionGraphLater``), and searched
// after the lock is released. The object asked about is checked when the request runs (an error
// at once) and again at the graph's moment (it may have been freed while the slices were taken).

extension PathRequest: DeferredServerMethod {
    // After the lock: the graph with its field names, then the breadth-first search.
    func prepare(_ server: inout ServerState, _ request: inout RequestContext) throws -> @Sendable () throws -> Result {
        _ = try server.heap.typeName(of: id)  // no such object: its error, at once
        let taken = try server.inspectionGraphLater(request) { [id] s in _ = try s.heap.typeName(of: id) }
        return {
            let g = try taken().0
            return Result(id: id, paths: g.graph.retentionPaths(to: id, limit: limit, names: g.names))
        }
    }
}

extension CyclesRequest: DeferredServerMethod {
    // After the lock: the graph, then Tarjan.
    func prepare(_ server: inout ServerState, _ request: inout RequestContext) throws -> @Sendable () throws -> Result {
        if let id { _ = try server.heap.typeName(of: id) }  // no such object: its error, at once
        let taken = try server.inspectionGraphLater(request) { [id] s in if let id { _ = try s.heap.typeName(of: id) } }
        return { Result(components: try taken().0.graph.cycles(containing: id, limit: limit)) }
    }
}

extension DominatorsRequest: DeferredServerMethod {
    // After the lock (nothing to do when the tree of this version of the heap is cached): the
    // graph and each slot's type, SEMI-NCA, then the answer from the tree.
    func prepare(_ server: inout ServerState, _ request: inout RequestContext) throws -> @Sendable () throws -> Result {
        if let id { _ = try server.heap.typeName(of: id) }
        let tree = try server.dominatorTreeLater(request) { [id] s in if let id { _ = try s.heap.typeName(of: id) } }
        return {
            let built = try tree().0
            if let id { return .object(id, built.tree.entry(id)) }
            return .top(built.tree.top(limit).map { ($0, built.types.name(of: $0.id, in: built.tree.graph)) })
        }
    }
}

extension LeaksRequest: DeferredServerMethod {
    // As `dominators` (the same cached tree), plus a census, at the tree's moment, when a
    // snapshot is to be compared.
    func prepare(_ server: inout ServerState, _ request: inout RequestContext) throws -> @Sendable () throws -> Result {
        let tree = try server.dominatorTreeLater(request) { [since] s in since == nil ? nil : s.heap.census() }
        let catalog = request.environment.snapshots
        return {
            let (built, now) = try tree()
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
    /// cached). The closure, run after the lock, builds it (and caches it) or returns the cached
    /// one, with what `atView` took at the tree's moment (``inspectionGraphLater(_:atView:)``).
    mutating func dominatorTreeLater<View: Sendable>(
        _ request: RequestContext, atView: @escaping @Sendable (inout ServerState) throws -> View
    ) throws -> @Sendable () throws -> (DominatorCache.Tree, View) {
        let cache = dominatorCache
        dominatorsAsked = true
        if let cached = cache.tree(for: heapVersion) {
            let view = try atView(&self)
            return { (cached, view) }
        }
        let taken = try inspectionGraphLater(request, atView: atView)
        return {
            let (g, view) = try taken()
            if let cached = cache.tree(for: g.version) { return (cached, view) }
            let built = DominatorCache.Tree(version: g.version, tree: g.graph.dominatorTree(), types: g.types)
            cache.store(built)
            return (built, view)
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
        if retained, let sid, let session {
            // The session may close while the graph is taken: checked again at its moment.
            let taken = try server.inspectionGraphLater(request) { s in
                guard s.heap.session(named: session) == sid else { throw ServerError.noSessionNamed(session) }
            }
            return {
                let g = try taken().0
                return Result(types: g.graph.keptAliveOnly(by: sid, types: g.types))
            }
        }
        let rows = try server.heap.typeHistogram(session: sid, generation: generation)
        return { Result(types: rows) }
    }
}
