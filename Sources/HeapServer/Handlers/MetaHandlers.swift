import HeapCore
import HeapProtocol

extension StatsRequest: ServerMethod {
    func run(_ server: inout ServerState, _ request: inout RequestContext) throws -> Result {
        var result = Result(
            heap: server.heap, connections: server.connections.count, subscribers: server.subscribers.count,
            requests: server.requestsServed, serialRequests: server.requestsServed,
            serialNanoseconds: server.serialNanoseconds, uptimeSeconds: request.environment.uptimeSeconds(),
            persistence: request.environment.persistence())
        result.graph = .init(
            cached: server.cachedGraph?.version == server.heapVersion, slices: server.graphSlices,
            retaken: server.graphRetaken)
        result.graph.indexKept = server.referrerIndex != nil
        result.graph.indexesBuilt = server.referrerIndexesBuilt
        (result.graph.indexed, result.graph.scanned) = (server.holderListsIndexed, server.holderListsScanned)
        result.longestHoldNanoseconds = server.longestHoldNanoseconds
        result.storage = .init(
            grownAhead: server.storageGrownAhead, movedForSnapshots: server.storageMovedForSnapshots,
            copiedBytes: server.storageCopiedBytes)
        return result
    }
}

extension SubscribeRequest: ServerMethod {
    func run(_ server: inout ServerState, _ request: inout RequestContext) throws -> Result {
        Result(events: server.changeSubscriptions(of: request.connection) { $0.formUnion(events) })
    }
}

extension UnsubscribeRequest: ServerMethod {
    func run(_ server: inout ServerState, _ request: inout RequestContext) throws -> Result {
        Result(
            events: server.changeSubscriptions(of: request.connection) {
                $0.subtract(events ?? Set(EventKind.allCases))
            })
    }
}

extension PingRequest: ServerMethod {
    func run(_ server: inout ServerState, _ request: inout RequestContext) throws -> Result { Result() }
}

extension ShutdownRequest: ServerMethod {
    func run(_ server: inout ServerState, _ request: inout RequestContext) throws -> Result {
        server.shuttingDown = true
        return Result()
    }
}

extension DiscoverRequest: ServerMethod {
    func run(_ server: inout ServerState, _ request: inout RequestContext) throws -> Result {
        Result(json: request.environment.openRPCDocument)
    }
}
