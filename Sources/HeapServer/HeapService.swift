import HeapCore
import HeapStore
import JSONRPC
import Logging
import NIOCore
import Synchronization

/// One request as decoded on the connection's thread: its id (nil for a notification) and
/// either the typed request or the error its envelope or params produced.
struct DecodedRequest: Sendable {
    var id: RPCID?
    var request: Result<HeapRequest, RPCError>
}

/// The heap's single owner. Requests from every connection run one at a time under one lock,
/// so each is atomic and sees all earlier ones (linearizable); parsing and encoding happen on
/// the connections' event loops, outside it.
final class HeapService: Sendable {
    private let state: Mutex<ServerState>
    let environment: ServerEnvironment
    let logger: Logger
    let maximumMessageSize: Int
    /// The heap on disk; nil with `--memory`.
    let store: HeapStore?

    init(heap: Heap, store: HeapStore?, environment: ServerEnvironment, logger: Logger, maximumMessageSize: Int) {
        var initial = ServerState(heap: heap)
        initial.journal = store
        state = Mutex(initial)
        self.store = store
        self.environment = environment
        self.logger = logger
        self.maximumMessageSize = maximumMessageSize
    }

    /// After recovery: the clients of anonymous sessions are gone, so their references go too
    /// (journaled, with the usual cascade and collection semantics).
    func dropRecoveredAnonymousSessions() -> Int {
        state.withLock { s in
            var events = HeapEvents(freedIDLimit: 0)
            var freed = 0
            for summary in s.heap.sessionSummaries() where summary.name == nil {
                _ = try? s.apply(.closeSession(summary.id), &events)
                freed += events.freedCount
                events.removeAll()
            }
            return freed
        }
    }

    var isShuttingDown: Bool { state.withLock { $0.shuttingDown } }

    func beginShutdown() { state.withLock { $0.shuttingDown = true } }

    /// Registers a connection with a fresh anonymous session.
    func connect(channel: Channel, outbox: Outbox, framing: Framing) -> ConnectionID {
        state.withLock { s in
            let id = ConnectionID(raw: s.nextConnection)
            s.nextConnection += 1
            var none = HeapEvents()
            guard case .session(let session) = try! s.apply(.openSession(name: nil), &none) else { fatalError() }
            s.connections[id] = .init(session: session, framing: framing, outbox: outbox, channel: channel)
            return id
        }
    }

    func setFraming(_ framing: Framing, for id: ConnectionID) {
        state.withLock { $0.connections[id]?.framing = framing }
    }

    /// The connection is gone: an anonymous session's references are dropped (with events to
    /// subscribers); a named session stays for a later resume.
    func disconnect(_ id: ConnectionID) {
        state.withLock { s in
            guard let c = s.connections.removeValue(forKey: id) else { return }
            if c.subscriptions.contains(.freed) { s.refreshWantsFreedIDs() }
            var events = HeapEvents(freedIDLimit: s.wantsFreedIDs ? .max : 0)
            if s.heap.sessionName(c.session) == nil {
                _ = try? s.apply(.closeSession(c.session), &events)
            } else {
                s.attached[c.session] = nil
            }
            deliver(events, in: &s, requester: nil)
        }
    }

    /// Runs requests in order, each atomically, and returns one reply per request that has an
    /// id (nil for notifications). Events go to subscribers' outboxes before this returns, so
    /// the caller writes its outbox, then the replies.
    func execute(_ batch: [DecodedRequest], from connection: ConnectionID) -> (replies: [JSONValue?], journalPosition: UInt64) {
        state.withLock { s in
            var replies: [JSONValue?] = []
            replies.reserveCapacity(batch.count)
            let dispatcher = Dispatcher(connection: connection, environment: environment)
            for item in batch {
                let outcome: Result<JSONValue, RPCError>
                switch item.request {
                case .failure(let e):
                    outcome = .failure(e)
                case .success(let request):
                    if s.shuttingDown {
                        outcome = .failure(RPCError(code: .shuttingDown, message: "the daemon is shutting down"))
                    } else if let session = s.connections[connection]?.session {
                        s.renewLease(of: session)
                        var events = HeapEvents(freedIDLimit: s.wantsFreedIDs ? .max : Results.freedListLimit)
                        outcome = Result { () throws(RPCError) in try dispatcher.run(request, on: &s, events: &events) }
                        deliver(events, in: &s, requester: connection)
                    } else {
                        outcome = .failure(.internalError("connection is closed"))
                    }
                }
                s.requestsServed += 1
                guard let id = item.id else { replies.append(nil); continue }
                switch outcome {
                case .success(let result): replies.append(RPCEnvelope.response(id: id, result: result))
                case .failure(let error): replies.append(RPCEnvelope.errorResponse(id: id, error: error))
                }
            }
            guard let store else { return (replies, 0) }
            if store.wantsCompaction { store.compact(s.heap) }
            return (replies, store.position)
        }
    }

    /// Closes the named sessions whose lease ran out (their references go, `session.closed` is
    /// sent), as Java RMI's DGC does for clients that stopped renewing. Runs every 100 ms.
    func expireLeases() {
        state.withLock { s in
            let now = ContinuousClock.now
            let expired = s.leaseDeadlines.filter { $0.value <= now }.map(\.key).sorted()
            guard !expired.isEmpty else { return }
            var events = HeapEvents(freedIDLimit: s.wantsFreedIDs ? .max : 0)
            for session in expired {
                s.leaseDeadlines[session] = nil
                guard let name = s.heap.sessionName(session) else { continue }
                let holder = s.attached.removeValue(forKey: session)
                if let holder, case .session(let fresh)? = try? s.apply(.openSession(name: nil), &events) {
                    s.connections[holder]?.session = fresh
                }
                _ = try? s.apply(.closeSession(session), &events)
                s.closedSessions.append((name, holder))
                logger.info("session \(name): lease expired, \(events.freedCount) objects freed")
            }
            deliver(events, in: &s, requester: nil)
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

    /// Puts the notifications for `events` into each subscriber's outbox (encoded once each),
    /// logs debug lines, and sends `session.closed`.
    private func deliver(_ events: HeapEvents, in s: inout ServerState, requester: ConnectionID?) {
        if events.isEmpty && s.closedSessions.isEmpty { return }   // the common case: nothing to say
        for case .debug(let line) in events.events { logger.info("\(line)") }
        let closed = s.closedSessions
        s.closedSessions.removeAll()
        let subscribers = s.subscribers
        guard !subscribers.isEmpty || !closed.isEmpty else { return }
        let wanted = subscribers.reduce(into: Set<EventKind>()) { $0.formUnion($1.1.subscriptions) }
        var notes = events.isEmpty ? [] : Notifications.make(from: events, wanted: wanted)
        for (name, _) in closed { notes.append((.sessionClosed, Notifications.sessionClosed(name))) }
        guard !notes.isEmpty else { return }
        let encoded = notes.map { ($0.0, JSONCodec.encode($0.1)) }
        let allocator = ByteBufferAllocator()
        var targets = subscribers
        for (_, holder) in closed {
            if let holder, let c = s.connections[holder], c.subscriptions.isEmpty { targets.append((holder, c)) }
        }
        for (id, c) in targets {
            var buffer = allocator.buffer(capacity: 256)
            for (kind, bytes) in encoded {
                let forced = kind == .sessionClosed && closed.contains { $0.holder == id }
                guard c.subscriptions.contains(kind) || forced else { continue }
                RPCFrameEncoder.frame(bytes, framing: c.framing, into: &buffer)
            }
            guard buffer.readableBytes > 0 else { continue }
            let channel = c.channel
            switch c.outbox.append(buffer) {
            case .appendedToEmpty where id != requester:
                let outbox = c.outbox
                channel.eventLoop.execute {
                    // A peer that does not read keeps its events here, not in the channel.
                    guard channel.isWritable else { return }
                    for b in outbox.drain() { channel.write(b, promise: nil) }
                    channel.flush()
                }
            case .overflowed:
                logger.warning("connection \(id) does not read its events: \(Outbox.limit) bytes pending; disconnecting it")
                channel.close(promise: nil)
            default:
                break
            }
        }
    }
}


