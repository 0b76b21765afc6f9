import HeapCore
import JSONRPC
import NIOCore

/// Everything the heap's single owner guards: the heap, and which connection holds which session
/// and wants which events. Only touched inside `HeapService`'s lock.
struct ServerState: Sendable {
    struct Connection: Sendable {
        var session: SessionID
        var subscriptions: Set<EventKind> = []
        var framing: Framing
        let outbox: Outbox
        let channel: Channel
    }

    var heap: Heap
    var connections: [ConnectionID: Connection] = [:]
    /// Named sessions currently attached to a connection (one connection per session).
    var attached: [SessionID: ConnectionID] = [:]
    var nextConnection: UInt64 = 1
    var shuttingDown = false
    /// Named sessions closed by the current request, with the connection they were attached to
    /// (it gets `session.closed` whether subscribed or not).
    var closedSessions: [(name: String, holder: ConnectionID?)] = []
    /// When each leased session expires unless a request renews it.
    var leaseDeadlines: [SessionID: ContinuousClock.Instant] = [:]
    /// Requests answered since start (for stats).
    var requestsServed: UInt64 = 0
    /// Whether anyone subscribed to `freed` (then cascades keep every freed id). Asked before
    /// every request, so kept rather than derived: `changeSubscriptions` and disconnecting
    /// (`refreshWantsFreedIDs`) keep it true.
    private(set) var wantsFreedIDs = false

    /// Where applied operations are recorded (nil: memory only).
    var journal: (any OperationJournal)?

    init(heap: Heap) { self.heap = heap }

    /// Any request renews the lease of the session it runs in.
    mutating func renewLease(of session: SessionID) {
        guard !leaseDeadlines.isEmpty, leaseDeadlines[session] != nil, let seconds = heap.lease(of: session) else { return }
        startLease(of: session, seconds: seconds)
    }

    /// The session now expires `seconds` from now unless a request renews it.
    mutating func startLease(of session: SessionID, seconds: Double) {
        leaseDeadlines[session] = .now + .milliseconds(Int64(seconds * 1000))
    }

    /// Changes what a connection subscribed to; returns its subscriptions after.
    mutating func changeSubscriptions(of connection: ConnectionID,
                                      _ change: (inout Set<EventKind>) -> Void) -> Set<EventKind> {
        change(&connections[connection]!.subscriptions)
        refreshWantsFreedIDs()
        return connections[connection]!.subscriptions
    }

    mutating func refreshWantsFreedIDs() {
        wantsFreedIDs = connections.values.contains { $0.subscriptions.contains(.freed) }
    }

    /// Applies a heap operation and, once it succeeded, records it for persistence (unless it
    /// changed nothing: an `apply` batch whose every op failed). Every change to the heap goes
    /// through here.
    mutating func apply(_ op: HeapOperation, _ events: inout HeapEvents) throws(HeapError) -> OperationOutcome {
        // Room for the record first: a change applied cannot be taken back once others saw it.
        do { try journal?.reserve(for: op) } catch { throw .diskFull(error.description) }
        let outcome = try heap.apply(op, events: &events)
        if outcome.changedHeap { journal?.record(op) }
        return outcome
    }

    /// The subscribers of any of `kinds`.
    var subscribers: [(ConnectionID, Connection)] {
        connections.filter { !$0.value.subscriptions.isEmpty }.sorted { $0.key.raw < $1.key.raw }
    }
}
