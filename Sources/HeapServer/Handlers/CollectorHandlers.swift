import HeapCore
import HeapProtocol

extension CollectRequest: ServerMethod {
    func run(_ server: inout ServerState, _ request: inout RequestContext) throws -> Result {
        Result(try server.collect(generation: generation, &request.events))
    }
}

extension GCGetRequest: ServerMethod {
    func run(_ server: inout ServerState, _ request: inout RequestContext) throws -> Result {
        GCReport(server.heap)
    }
}

extension GCSetRequest: ServerMethod {
    func run(_ server: inout ServerState, _ request: inout RequestContext) throws -> Result {
        try server.configureGC(enabled: enabled, thresholds: threshold, debug: debug)
        return GCReport(server.heap)
    }
}

extension GCFreezeRequest: ServerMethod {
    func run(_ server: inout ServerState, _ request: inout RequestContext) throws -> Result {
        try server.freeze()
        return FreezeCount(server.heap.freezeCount)
    }
}

extension GCUnfreezeRequest: ServerMethod {
    func run(_ server: inout ServerState, _ request: inout RequestContext) throws -> Result {
        try server.unfreeze()
        return FreezeCount(server.heap.freezeCount)
    }
}

extension GCGarbageClearRequest: ServerMethod {
    func run(_ server: inout ServerState, _ request: inout RequestContext) throws -> Result {
        let cleared = try server.clearGarbage(&request.events)
        return Result(cleared: cleared, freed: FreedObjects(request.events))
    }
}
