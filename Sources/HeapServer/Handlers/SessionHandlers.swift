import HeapCore
import HeapProtocol

extension SessionOpenRequest: ServerMethod {
    func run(_ server: inout ServerState, _ request: inout RequestContext) throws -> Result {
        // The lease is the last change: its journal room is made sure of first, so that a full
        // disk refuses the request before the connection moves (attaching is never refused).
        if let leaseSeconds { try server.reserveJournal(for: .setLease(SessionID(raw: .max), seconds: leaseSeconds)) }
        let resumed = try server.attach(request.connection, toSessionNamed: session)
        guard let current = server.connections[request.connection]?.session else { throw ServerError.connectionClosed }
        if let leaseSeconds { try server.setLease(current, seconds: leaseSeconds) }
        let lease = server.heap.lease(of: current)
        if let lease { server.startLease(of: current, seconds: lease) }
        return Result(name: session, resumed: resumed, leaseSeconds: lease)
    }
}

extension SessionCloseRequest: ServerMethod {
    func run(_ server: inout ServerState, _ request: inout RequestContext) throws -> Result {
        let target: SessionID
        if let session {
            guard let named = server.heap.session(named: session) else { throw ServerError.noSessionNamed(session) }
            target = named
        } else {
            guard server.heap.sessionName(request.session) != nil else { throw ServerError.notInNamedSession }
            target = request.session
        }
        let name = server.heap.sessionName(target) ?? ""
        let released = try server.closeNamed(target, &request.events)
        return Result(name: name, released: released, freed: FreedObjects(request.events))
    }
}

extension SessionListRequest: ServerMethod {
    func run(_ server: inout ServerState, _ request: inout RequestContext) throws -> Result {
        let now = ContinuousClock.now
        let entries = server.heap.sessionSummaries().map { s in
            Result.Entry(
                summary: s, connected: s.name == nil || server.attached[s.id] != nil,
                leaseLeftSeconds: server.leaseDeadlines[s.id].map { now.duration(to: $0).seconds })
        }
        return Result(sessions: entries)
    }
}

extension ScopeEnterRequest: ServerMethod {
    func run(_ server: inout ServerState, _ request: inout RequestContext) throws -> Result {
        Result(depth: try server.enterScope(request.session))
    }
}

extension ScopeExitRequest: ServerMethod {
    func run(_ server: inout ServerState, _ request: inout RequestContext) throws -> Result {
        let depth = try server.exitScope(request.session, &request.events)
        return Result(depth: depth, freed: FreedObjects(request.events))
    }
}
