import Foundation
import HeapCore
import HeapProtocol
import HeapStore
import JSONRPC
import JSONRPCNIO
import Logging
import NIOCore
import NIOPosix
import Synchronization

/// One request as decoded on the connection's thread: its id (nil for a notification) and
/// either the decoded method or the error its envelope or params produced.
struct DecodedRequest: Sendable {
    var id: RPCID?
    var method: Result<any ServerMethod, RPCError>
    /// The params as sent, kept only while someone monitors requests.
    var monitoredParams: [UInt8]? = nil
}

/// One reply, typed: encoded by the connection after the heap's lock is released.
struct Reply: Sendable {
    var id: RPCID
    var outcome: Result<any HeapResult, RPCError>

    /// Whether its result is a deferred method's second half, still to run.
    var isPending: Bool {
        if case .success(let result) = outcome { result is PendingResult } else { false }
    }
}

/// The heap's single owner. Requests from every connection run one at a time under one lock,
/// so each is atomic and sees all earlier ones (linearizable); parsing and encoding happen on
/// the connections' event loops, outside it. The lock guards no channel: events go into
/// outboxes under it, and connections are woken or closed after it is released.
package final class HeapService: Sendable {
    private let state: Mutex<ServerState>
    let environment: ServerEnvironment
    let logger: Logger
    let maximumMessageSize: Int
    /// Most bytes of events held for a connection that does not read them.
    let outboxLimit: Int
    /// The heap on disk; nil with `--memory`.
    let store: HeapStore?
    /// Where the slow halves of deferred methods run (``DeferredServerMethod``), so that they hold
    /// neither the heap's lock nor an event loop. nil (in-process tests, the fuzzer): they run on
    /// the requesting connection's event loop.
    let offload: NIOThreadPool?
    /// Whether a connection subscribed to `monitor`: read without the lock by the parsing
    /// threads, which then keep each request's params text for the monitor line.
    private let monitoring = Atomic<Bool>(false)

    var isMonitored: Bool { monitoring.load(ordering: .relaxed) }

    package init(
        heap: Heap, store: HeapStore?, environment: ServerEnvironment, logger: Logger, maximumMessageSize: Int,
        outboxLimit: Int = Outbox.defaultLimit, offload: NIOThreadPool? = nil
    ) {
        var initial = ServerState(heap: heap)
        initial.journal = store
        state = Mutex(initial)
        self.store = store
        self.environment = environment
        self.logger = logger
        self.maximumMessageSize = maximumMessageSize
        self.outboxLimit = outboxLimit
        self.offload = offload
    }

    /// After recovery: the clients of anonymous sessions are gone, so their references go too
    /// (journaled, with the usual cascade and collection semantics).
    func dropRecoveredAnonymousSessions() -> Int {
        state.withLock { s in
            var events = HeapEvents(freedIDLimit: 0)
            var freed = 0
            for summary in s.heap.sessionSummaries() where summary.name == nil {
                try? s.closeSession(summary.id, &events)
                freed += events.freedCount
                events.removeAll()
            }
            return freed
        }
    }

    /// The heap's lock, for a deferred method's slow half that works in slices (``HeapAccess``).
    /// Its time counts in `stats.serial`, as a request's does.
    func withState<R: Sendable, E: Error>(_ body: (inout ServerState) throws(E) -> R) throws(E) -> R {
        try state.withLock { s throws(E) in
            let started = ContinuousClock.now
            defer { s.countSerial(since: started) }
            return try body(&s)
        }
    }

    package var isShuttingDown: Bool { state.withLock { $0.shuttingDown } }

    func beginShutdown() { state.withLock { $0.shuttingDown = true } }

    /// Registers a connection with a fresh anonymous session; nil if none can be opened.
    package func connect(outbox: Outbox, framing: Framing) -> ConnectionID? {
        state.withLock { s in try? s.connect(outbox: outbox, framing: framing) }
    }

    func setFraming(_ framing: Framing, for id: ConnectionID) {
        state.withLock { $0.connections[id]?.framing = framing }
    }

    /// The heap's invariant check and the number of registered connections (for test support).
    package func check() -> (problems: [String], objects: Int, connections: Int) {
        state.withLock { ($0.heap.checkInvariants(), $0.heap.objectCount, $0.connections.count) }
    }

    /// The connection is gone: its anonymous session's references are dropped, with events.
    package func disconnect(_ id: ConnectionID) {
        let actions = state.withLock { s in
            var events = HeapEvents(freedIDLimit: s.wantsFreedIDs ? .max : 0)
            s.disconnect(id, &events)
            monitoring.store(s.wantsMonitor, ordering: .relaxed)
            return deliver(events, in: &s, from: .disconnect(id))
        }
        perform(actions)
    }

    /// Runs requests in order, each atomically, and returns one reply per request that has an
    /// id. Events go to subscribers' outboxes before this returns, so the caller writes its
    /// outbox, then the replies. `finishingPending: false` leaves the slow halves of deferred
    /// methods in the replies (``PendingResult``) for the caller to run elsewhere; `slicing` lets a
    /// lone request's slow half take the lock again (``HeapAccess``): only for a frame that is
    /// not a batch, whose slow half runs off the event loops.
    func execute(
        _ batch: [DecodedRequest], from connection: ConnectionID, finishingPending: Bool = true, slicing: Bool = false
    ) -> (replies: [Reply], journalPosition: UInt64) {
        var actions: [OutboxAction] = []
        var unanswered: [PendingResult] = []  // deferred notifications: finished, not answered
        var compactionStorage: StorageGrowth.Plan?
        let result = state.withLock { s -> ([Reply], UInt64) in
            let started = ContinuousClock.now
            let journaledBefore = store?.position ?? 0
            var replies: [Reply] = []
            replies.reserveCapacity(batch.count)
            for item in batch {
                // Alone and offloaded, a deferred method may take the lock again after it (a
                // graph in slices); in a batch, later requests must not run before its view is
                // taken, and an event loop must not wait for slices.
                let access = slicing && batch.count == 1 ? HeapAccess(service: self) : nil
                let outcome = run(item, from: connection, access: access, on: &s, &actions)
                s.requestsServed += 1
                guard let id = item.id else {
                    if case .success(let pending as PendingResult) = outcome { unanswered.append(pending) }
                    continue
                }
                replies.append(Reply(id: id, outcome: outcome))
            }
            // The journal position the replies wait for: none when the batch changed nothing
            // (a read waits for no one's fsync, and answers while a failed write heals).
            var position: UInt64 = 0
            if let store {
                if store.wantsCompaction { compactionStorage = s.compactOrPlanStorage(store) }
                let journaled = store.position
                position = journaled == journaledBefore ? 0 : journaled
            }
            s.countSerial(since: started)
            return (replies, position)
        }
        perform(actions)
        if let plan = compactionStorage, let store { compactLater(store, plan) }
        for pending in unanswered { _ = pending.outcome() }
        return (finishingPending ? Self.finishPending(result.0) : result.0, result.1)
    }

    /// The second halves of deferred methods, run now that the lock is released.
    static func finishPending(_ replies: [Reply]) -> [Reply] {
        guard replies.contains(where: \.isPending) else { return replies }
        return replies.map { reply in
            guard case .success(let pending as PendingResult) = reply.outcome else { return reply }
            return Reply(id: reply.id, outcome: pending.outcome())
        }
    }

    private func run(
        _ item: DecodedRequest, from connection: ConnectionID, access: HeapAccess?,
        on s: inout ServerState, _ actions: inout [OutboxAction]
    ) -> Result<any HeapResult, RPCError> {
        let method: any ServerMethod
        switch item.method {
        case .failure(let error): return .failure(error)
        case .success(let decoded): method = decoded
        }
        if s.shuttingDown { return .failure(ServerError.shuttingDown.rpcError) }
        guard let session = s.connections[connection]?.session else {
            return .failure(ServerError.connectionClosed.rpcError)
        }
        s.renewLease(of: session)
        var monitored: [(EventKind, [UInt8])] = []
        if s.wantsMonitor {
            let time = Date().timeIntervalSince1970
            monitored.append(
                (
                    .monitor,
                    Notification.monitor(
                        time: time, connection: connection.raw, session: s.heap.sessionName(session),
                        method: type(of: method).name, params: item.monitoredParams)
                ))
        }
        var request = RequestContext(
            connection: connection, session: session, environment: environment,
            events: HeapEvents(freedIDLimit: s.wantsFreedIDs ? .max : FreedObjects.listLimit), heapAccess: access)
        let outcome: Result<any HeapResult, RPCError>
        do {
            outcome = .success(try method.execute(&s, &request))
        } catch let error as any RPCErrorConvertible {
            outcome = .failure(error.rpcError)
        } catch {
            outcome = .failure(.internalError("\(error)"))
        }
        let origin = EventOrigin.request(method: type(of: method).name, connection: connection, session: session)
        actions += deliver(request.events, in: &s, from: origin, first: monitored)
        monitoring.store(s.wantsMonitor, ordering: .relaxed)
        return outcome
    }

    /// Closes the named sessions whose lease ran out (their references go, `session.closed` is
    /// sent), and frees a dropped graph's arrays that waited too long. Runs every 100 ms.
    func expireLeases() {
        let actions = state.withLock { s -> [OutboxAction] in
            s.releaseIdleGraphBuffers(now: .now)
            s.releaseIdleReferrerIndex(now: .now)
            guard !s.leaseDeadlines.isEmpty else { return [] }
            var events = HeapEvents(freedIDLimit: s.wantsFreedIDs ? .max : 0)
            let closed = s.expireLeases(now: .now, &events)
            guard !closed.isEmpty else { return [] }
            for name in closed { logger.info("session \(name): lease expired") }
            return deliver(events, in: &s, from: .leaseExpired)
        }
        perform(actions)
    }

    /// Grows the heap's nearly full arrays ahead of need (``StorageGrowth``): their next storage
    /// is made on another thread, pages faulted in, then one short hold of the lock copies the
    /// elements over, instead of a doubling inside some request's hold. Runs every 100 ms.
    func growStorageAhead() {
        guard let plan = withState({ $0.storageGrowthWanted() }) else { return }
        makeStorage(plan) { $0.adoptStorageGrowth(&$1) }
    }

    /// A compaction of a big heap (``ServerState/compactOrPlanStorage(_:)``): the storage the
    /// heap moves into is made on another thread, then the compaction starts in one short hold
    /// of the lock.
    private func compactLater(_ store: HeapStore, _ plan: StorageGrowth.Plan) {
        makeStorage(plan) { $0.compact(store, movingInto: &$1) }
    }

    /// Makes `plan`'s storage on another thread (its page faults outside the lock), then hands
    /// it, unshared (`inout`), to `use` inside the lock.
    private func makeStorage(
        _ plan: StorageGrowth.Plan, then use: @escaping @Sendable (inout ServerState, inout StorageGrowth) -> Void
    ) {
        DispatchQueue.global(qos: .utility).async {
            var made = StorageGrowth.resident(for: plan)
            self.withState { use(&$0, &made) }
        }
    }

    /// After recovery every leased session gets a full lease from now.
    func startRecoveredLeases() {
        state.withLock { s in
            for (session, seconds) in s.heap.leasedSessions {
                s.startLease(of: session, seconds: seconds)
            }
        }
    }

    /// What a connection must be told after the lock is released.
    typealias OutboxAction = (outbox: Outbox, signal: Outbox.Signal)

    private func perform(_ actions: [OutboxAction]) {
        for action in actions { action.outbox.signal(action.signal) }
    }

    /// What made events happen; resolved into the notifications' ``EventCause`` only when
    /// someone listens (a session's name is looked up then, not on every request).
    private enum EventOrigin {
        case request(method: String, connection: ConnectionID, session: SessionID)
        case disconnect(ConnectionID)
        case leaseExpired
    }

    /// Puts the notifications for `events` into each subscriber's outbox (encoded once each),
    /// logs debug lines, and sends `session.closed`. Returns the connections to wake or close.
    private func deliver(
        _ events: HeapEvents, in s: inout ServerState, from origin: EventOrigin,
        first: [(EventKind, [UInt8])] = []
    ) -> [OutboxAction] {
        // The common case: nothing to say.
        if events.isEmpty && s.closedSessions.isEmpty && first.isEmpty { return [] }
        for case .debug(let line) in events.events { logger.info("\(line)") }
        let closed = s.closedSessions
        s.closedSessions.removeAll()
        var targets = s.subscribers
        for (_, holder) in closed {
            if let holder, let c = s.connections[holder], c.subscriptions.isEmpty { targets.append((holder, c)) }
        }
        guard !targets.isEmpty else { return [] }
        let wanted = targets.reduce(into: Set<EventKind>()) { $0.formUnion($1.1.subscriptions) }
        let cause: EventCause
        let requester: ConnectionID?
        switch origin {
        case .request(let method, let connection, let session):
            // A request that closed its own named session is still that session's doing.
            let name = s.heap.sessionName(session) ?? closed.first { $0.holder == connection }?.name
            cause = .request(method: method, connection: connection.raw, session: name)
            requester = connection
        case .disconnect(let connection):
            cause = .disconnect(connection: connection.raw)
            requester = nil
        case .leaseExpired:
            cause = .leaseExpired
            requester = nil
        }
        var notes = first
        if !events.isEmpty { notes += Notification.encode(events, wanted: wanted, cause: cause) }
        for (name, _) in closed { notes.append((.sessionClosed, Notification.sessionClosed(name, cause: cause))) }
        guard !notes.isEmpty else { return [] }
        let allocator = ByteBufferAllocator()
        var actions: [OutboxAction] = []
        for (id, c) in targets {
            var buffer = allocator.buffer(capacity: 256)
            for (kind, bytes) in notes {
                let forced = kind == .sessionClosed && closed.contains { $0.holder == id }
                guard c.subscriptions.contains(kind) || forced else { continue }
                RPCFrameEncoder.frame(bytes, framing: c.framing, into: &buffer)
            }
            guard buffer.readableBytes > 0 else { continue }
            switch c.outbox.append(buffer) {
            case .appendedToEmpty where id != requester:
                actions.append((c.outbox, .wake))
            case .overflowed:
                logger.warning(
                    "connection \(id) does not read its events: \(c.outbox.limit) bytes pending; disconnecting it")
                actions.append((c.outbox, .overflowed))
            default:
                break
            }
        }
        return actions
    }
}
