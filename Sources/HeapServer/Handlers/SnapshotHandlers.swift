import Foundation
import HeapCore
import HeapProtocol
import HeapStore

// Saved snapshots (SPEC §5). Inside the heap's lock only the census is taken (one pass over the
// object table, a few bytes per slot); storing it, reading saved ones back and comparing them
// happen after the lock is released (DeferredServerMethod), behind the catalog's own lock.

extension SnapshotSaveRequest: DeferredServerMethod {
    func prepare(_ server: inout ServerState, _ request: inout RequestContext) throws -> @Sendable () throws -> Result {
        let saved = SavedCensus(name: name, created: Date().timeIntervalSince1970, census: server.heap.census())
        let catalog = request.environment.snapshots
        return {
            let (summary, replaced) = try catalog.save(saved)
            return Result(snapshot: SnapshotSummary(summary), replaced: replaced)
        }
    }
}

extension SnapshotListRequest: ServerMethod {
    func run(_ server: inout ServerState, _ request: inout RequestContext) throws -> Result {
        Result(snapshots: request.environment.snapshots.list().map(SnapshotSummary.init))
    }
}

extension SnapshotDeleteRequest: DeferredServerMethod {
    func prepare(_ server: inout ServerState, _ request: inout RequestContext) throws -> @Sendable () throws -> Result {
        let catalog = request.environment.snapshots
        return {
            try catalog.delete(name)
            return Result(name: name)
        }
    }
}

extension SnapshotDiffRequest: DeferredServerMethod {
    func prepare(_ server: inout ServerState, _ request: inout RequestContext) throws -> @Sendable () throws -> Result {
        // The heap now is only taken when it is one side.
        let now = to == nil ? server.heap.census() : nil
        let catalog = request.environment.snapshots
        return {
            let old = try catalog.load(from).census
            let new = try now ?? catalog.load(to!).census
            return Result(from: from, to: to, diff: CensusDiff(from: old, to: new, idLimit: limit))
        }
    }
}

extension SnapshotLeaksRequest: DeferredServerMethod {
    func prepare(_ server: inout ServerState, _ request: inout RequestContext) throws -> @Sendable () throws -> Result {
        let now = third == nil ? server.heap.census() : nil
        let catalog = request.environment.snapshots
        return {
            let a = try catalog.load(first).census
            let b = try catalog.load(second).census
            let c = try now ?? catalog.load(third!).census
            return Result(leaks: CensusLeaks(first: a, second: b, third: c, idLimit: limit))
        }
    }
}

extension SnapshotSummary {
    init(_ s: SnapshotCatalog.Summary) {
        self.init(name: s.name, created: s.created, objects: s.objects, bytes: s.bytes, storedBytes: s.storedBytes)
    }
}
