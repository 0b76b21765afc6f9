import HeapCore
import HeapProtocol
import JSONRPC

/// Session policy, in one place: which session a connection runs in, what happens to it when the
/// connection goes, and how named sessions are closed (by request or by an expired lease).
extension ServerState {
    /// A new connection runs in a fresh anonymous session.
    mutating func connect(outbox: Outbox, framing: Framing) throws -> ConnectionID {
        let session = try openSession(name: nil)
        let id = ConnectionID(raw: nextConnection)
        nextConnection += 1
        connections[id] = Connection(session: session, framing: framing, outbox: outbox)
        return id
    }

    /// The connection is gone: an anonymous session's references are dropped (with events to
    /// subscribers); a named session stays for a later resume.
    mutating func disconnect(_ connection: ConnectionID, _ events: inout HeapEvents) {
        guard let c = connections.removeValue(forKey: connection) else { return }
        if !c.subscriptions.isEmpty { refreshWantsFreedIDs() }
        detach(c.session, from: connection, &events)
    }

    /// Attaches `connection` to the named session (created if new). References the connection
    /// took anonymously move into it, so nothing it holds is lost; a named session it leaves
    /// keeps its references and scopes for a later resume. Returns whether it was resumed.
    mutating func attach(_ connection: ConnectionID, toSessionNamed name: String) throws -> Bool {
        guard let current = connections[connection]?.session else { throw ServerError.connectionClosed }
        if let existing = heap.session(named: name) {
            if existing == current { return true }
            if let holder = attached[existing], holder != connection {
                throw ServerError.sessionAttachedElsewhere(name)
            }
            try move(connection, from: current, to: existing)
            return true
        }
        let created = try openSession(name: name)
        try move(connection, from: current, to: created)
        return false
    }

    private mutating func move(_ connection: ConnectionID, from current: SessionID, to target: SessionID) throws {
        var events = HeapEvents()
        if heap.sessionName(current) == nil { try transferReferences(from: current, to: target) }
        detach(current, from: connection, &events)
        connections[connection]?.session = target
        attached[target] = connection
    }

    /// Leaves a session: an anonymous one is closed (its references go), a named one stays.
    private mutating func detach(_ session: SessionID, from connection: ConnectionID, _ events: inout HeapEvents) {
        if heap.sessionName(session) == nil {
            try? closeSession(session, &events)
        } else if attached[session] == connection {
            attached[session] = nil
        }
    }

    /// Closes a named session, dropping its references (by request, or when its lease ran out).
    /// The connection attached to it goes on in a fresh anonymous session and is told with
    /// `session.closed`. Returns how many references the session held.
    mutating func closeNamed(_ session: SessionID, _ events: inout HeapEvents) throws -> Int {
        guard let name = heap.sessionName(session) else { throw ServerError.notNamed }
        let held = heap.sessionSummaries().first { $0.id == session }?.references ?? 0
        let holder = attached.removeValue(forKey: session)
        if let holder {
            let fresh = try openSession(name: nil)
            connections[holder]?.session = fresh
        }
        leaseDeadlines[session] = nil
        try closeSession(session, &events)
        closedSessions.append((name, holder))
        return held
    }

    /// Closes the named sessions whose lease ran out by `now` (as Java RMI's DGC does for
    /// clients that stopped renewing); returns their names.
    mutating func expireLeases(now: ContinuousClock.Instant, _ events: inout HeapEvents) -> [String] {
        let expired = leaseDeadlines.filter { $0.value <= now }.map(\.key).sorted()
        var names: [String] = []
        for session in expired {
            leaseDeadlines[session] = nil
            guard let name = heap.sessionName(session) else { continue }
            if (try? closeNamed(session, &events)) != nil { names.append(name) }
        }
        return names
    }

    /// Any request renews the lease of the session it runs in.
    mutating func renewLease(of session: SessionID) {
        guard !leaseDeadlines.isEmpty, leaseDeadlines[session] != nil, let seconds = heap.lease(of: session) else {
            return
        }
        startLease(of: session, seconds: seconds)
    }

    /// The session now expires `seconds` from now unless a request renews it.
    mutating func startLease(of session: SessionID, seconds: Double) {
        leaseDeadlines[session] = .now + .milliseconds(Int64(seconds * 1000))
    }
}
