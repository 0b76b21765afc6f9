import HeapCore
import JSONRPC

/// Runs one decoded request against the server state, inside the owner's lock. Each request is
/// atomic: it either completes or throws having changed nothing.
struct Dispatcher {
    let connection: ConnectionID
    let environment: ServerEnvironment

    func run(_ request: HeapRequest, on state: inout ServerState,
             events: inout HeapEvents) throws(RPCError) -> JSONValue {
        do {
            return try dispatch(request, &state, &events)
        } catch let error as HeapError {
            throw error.rpcError
        } catch let error as RPCError {
            throw error
        } catch {
            throw .internalError("\(error)")
        }
    }

    private func session(_ state: ServerState) -> SessionID { state.connections[connection]!.session }

    private func dispatch(_ request: HeapRequest, _ state: inout ServerState,
                          _ events: inout HeapEvents) throws -> JSONValue {
        let me = session(state)
        switch request {
        case .allocate(let spec):
            return ["id": try state.apply(.allocate(spec, session: me), &events).objectID.json]
        case .ref(let id):
            return ["id": id.json, "refcount": .int(Int64(try state.apply(.ref(id, session: me), &events).count))]
        case .unref(let id):
            let rc = try state.apply(.unref(id, session: me), &events).count
            return Results.withFreed([("id", id.json), ("refcount", .int(Int64(rc)))], events)
        case .set(let id, let fields, let data, let size):
            let rc = try state.apply(.set(id, fields: fields, data: data, size: size), &events).count
            if rc == 0 {
                return Results.withFreed([("id", id.json), ("refcount", 0)], events)
            }
            let s = try state.heap.snapshot(id)
            var members: [(String, JSONValue)] = [("id", id.json), ("type", .string(s.type)),
                                                  ("fields", Results.fields(s.fields)), ("refcount", .int(Int64(rc)))]
            if events.freedCount > 0 { members.append(("freed", .array(events.freedIDs.prefix(Results.freedListLimit).map(\.json)))) }
            return .object(members)
        case .get(let id):
            return Results.object(try state.heap.snapshot(id))
        case .weakref(let id, let callback, let fields):
            return ["id": try state.apply(.weakref(id, callback: callback, fields: fields, session: me), &events).objectID.json]
        case .apply(let ops, let atomic):
            guard case .batch(let outcome) = try state.apply(.batch(ops, atomic: atomic, session: me), &events) else {
                throw HeapError.unexpectedOutcome(operation: "apply")
            }
            if let broken = outcome.brokenPrediction {
                // A dry-run bug (logged through the events): the ops before it were applied.
                var error = HeapError.batchOpFailed(op: broken.op, name: ops[broken.op].name, broken.error).rpcError
                if case .object(var data)? = error.data { data.append(("applied", .int(Int64(broken.op)))); error.data = .object(data) }
                throw error
            }
            return Results.apply(outcome)
        case .collect(let g):
            guard case .collected(let r) = try state.apply(.collect(generation: g), &events) else { throw HeapError.unexpectedOutcome(operation: "collect") }
            return Results.collect(r)
        case .inspect(let id):
            return Results.inspect(try state.heap.inspect(id))
        case .stats:
            return statsResult(state)
        case .subscribe(let kinds):
            return ["events": eventList(state.changeSubscriptions(of: connection) { $0.formUnion(kinds) })]
        case .unsubscribe(let kinds):
            return ["events": eventList(state.changeSubscriptions(of: connection) { $0.subtract(kinds ?? Set(EventKind.allCases)) })]
        case .rootSet(let name, let id):
            guard case .previousRoot(let previous) = try state.apply(.setRoot(name, id), &events) else { throw HeapError.unexpectedOutcome(operation: "root.set") }
            return Results.withFreed([("name", .string(name)), ("id", id?.json ?? .null),
                                      ("previous", previous?.json ?? .null)], events)
        case .rootGet(let name):
            guard let id = state.heap.root(name) else { throw HeapError.noSuchRoot(name) }
            return ["name": .string(name), "id": id.json]
        case .rootList:
            return ["roots": .array(state.heap.rootList().map { ["name": .string($0.name), "id": $0.id.json] })]
        case .sessionOpen(let name, let lease):
            var result = try openSession(name, &state, &events)
            let session = state.connections[connection]!.session
            if let lease {
                _ = try state.apply(.setLease(session, seconds: lease), &events)
            }
            if let seconds = state.heap.lease(of: session) {
                state.startLease(of: session, seconds: seconds)
                if case .object(var members) = result {
                    members.append(("lease_s", .double(seconds)))
                    result = .object(members)
                }
            }
            return result
        case .sessionClose(let name):
            return try closeSession(name, &state, &events)
        case .sessionList:
            let list = state.heap.sessionSummaries().map { s in
                Results.session(s, connected: s.name == nil || state.attached[s.id] != nil,
                                leaseLeft: state.leaseDeadlines[s.id].map { ContinuousClock.now.duration(to: $0) })
            }
            return ["sessions": .array(list)]
        case .scopeEnter:
            return ["depth": .int(Int64(try state.apply(.enterScope(me), &events).count))]
        case .scopeExit:
            let depth = try state.apply(.exitScope(me), &events).count
            return Results.withFreed([("depth", .int(Int64(depth)))], events)
        case .gcGet:
            return Results.gc(state.heap)
        case .gcSet(let enabled, let threshold, let debug):
            _ = try state.apply(.configureGC(enabled: enabled, thresholds: threshold, debug: debug), &events)
            return Results.gc(state.heap)
        case .gcFreeze:
            _ = try state.apply(.freeze, &events)
            return ["freeze_count": .int(Int64(state.heap.freezeCount))]
        case .gcUnfreeze:
            _ = try state.apply(.unfreeze, &events)
            return ["freeze_count": .int(Int64(state.heap.freezeCount))]
        case .gcGarbageClear:
            let n = try state.apply(.clearGarbage, &events).count
            return Results.withFreed([("cleared", .int(Int64(n)))], events)
        case .referrers(let id):
            return ["id": id.json, "referrers": .array(try state.heap.referrers(of: id).map(\.json))]
        case .referents(let id):
            return ["id": id.json, "referents": .array(try state.heap.inspect(id).referents.map(\.json))]
        case .objects(let filter):
            return objectsResult(filter, state.heap)
        case .check:
            let problems = state.heap.checkInvariants()
            return ["ok": .bool(problems.isEmpty), "objects": .int(Int64(state.heap.objectCount)),
                    "problems": .array(problems.prefix(100).map { .string($0) })]
        case .ping:
            return ["pong": true]
        case .shutdown:
            state.shuttingDown = true
            return ["shutting_down": true]
        case .discover:
            return .raw(environment.openRPCDocument)
        }
    }

    private func eventList(_ kinds: Set<EventKind>) -> JSONValue {
        .array(EventKind.allCases.filter { kinds.contains($0) }.map { .string($0.rawValue) })
    }

    /// Attaches this connection to the named session (created if new). References the
    /// connection took anonymously move into it, so nothing it holds is lost; a named session
    /// it leaves keeps its references (and scopes) for a later resume.
    private func openSession(_ name: String, _ state: inout ServerState,
                             _ events: inout HeapEvents) throws -> JSONValue {
        let current = state.connections[connection]!.session
        if let existing = state.heap.session(named: name) {
            if existing == current { return ["name": .string(name), "resumed": true] }
            if let holder = state.attached[existing], holder != connection {
                throw RPCError(code: .sessionConflict,
                               message: "session '\(name)' is attached to another connection",
                               data: ["name": .string(name)])
            }
            try adoptAnonymousReferences(from: current, into: existing, &state)
            try detachCurrent(&state, &events)
            attach(existing, &state)
            return ["name": .string(name), "resumed": true]
        }
        let created = try state.apply(.openSession(name: name), &events).sessionID
        try adoptAnonymousReferences(from: current, into: created, &state)
        try detachCurrent(&state, &events)
        attach(created, &state)
        return ["name": .string(name), "resumed": false]
    }

    private func adoptAnonymousReferences(from current: SessionID, into target: SessionID,
                                          _ state: inout ServerState) throws {
        if state.heap.sessionName(current) == nil {
            var none = HeapEvents()
            _ = try state.apply(.transferReferences(from: current, to: target), &none)
        }
    }

    private func attach(_ session: SessionID, _ state: inout ServerState) {
        state.connections[connection]!.session = session
        state.attached[session] = connection
    }

    /// Leaves the connection's current session: an anonymous one is closed (it is empty after a
    /// transfer), a named one stays for a later resume.
    private func detachCurrent(_ state: inout ServerState, _ events: inout HeapEvents) throws {
        let current = state.connections[connection]!.session
        if state.heap.sessionName(current) == nil {
            _ = try state.apply(.closeSession(current), &events)
        } else {
            state.attached[current] = nil
        }
    }

    /// Closes a named session (this connection's by default), dropping its references. The
    /// connection it was attached to continues in a fresh anonymous session.
    private func closeSession(_ name: String?, _ state: inout ServerState,
                              _ events: inout HeapEvents) throws -> JSONValue {
        let target: SessionID
        if let name {
            guard let s = state.heap.session(named: name) else {
                throw HeapError.noSessionNamed(name)
            }
            target = s
        } else {
            target = state.connections[connection]!.session
            guard state.heap.sessionName(target) != nil else {
                throw HeapError.notInNamedSession
            }
        }
        let label = state.heap.sessionName(target)!
        let held = state.heap.sessionSummaries().first { $0.id == target }?.references ?? 0
        let holder = state.attached.removeValue(forKey: target)
        if let holder {
            state.connections[holder]!.session = try state.apply(.openSession(name: nil), &events).sessionID
        }
        _ = try state.apply(.closeSession(target), &events)
        state.closedSessions.append((label, holder))
        return Results.withFreed([("name", .string(label)), ("released", .int(Int64(held)))], events)
    }

    private func objectsResult(_ f: ObjectFilter, _ heap: Heap) -> JSONValue {
        let candidates = f.generation.map { heap.objects(inGeneration: $0).sorted() } ?? heap.allObjects()
        var page: [JSONValue] = []
        var last: ObjectID?
        var more = false
        for id in candidates where f.after.map({ id > $0 }) ?? true {
            guard let s = try? heap.snapshot(id) else { continue }
            if let t = f.type, s.type != t { continue }
            if page.count == f.limit { more = true; break }
            page.append(["id": id.json, "type": .string(s.type), "size": .int(Int64(s.size)),
                         "refcount": .int(Int64(s.refcount)), "generation": Results.generation((try? heap.generation(of: id)) ?? 0)])
            last = id
        }
        // `next`: pass it as `after` to get the following page; null on the last page.
        return ["objects": .array(page), "next": more ? (last?.json ?? .null) : .null]
    }

    private func statsResult(_ state: ServerState) -> JSONValue {
        let heap = state.heap
        let sizes = heap.generationSizes
        let g = heap.gc
        func int(_ n: Int) -> JSONValue { .int(Int64(n)) }
        let generations: [JSONValue] = (0...2).map { i -> JSONValue in
            let members: [(String, JSONValue)] = [
                ("objects", int(sizes[i])), ("threshold", int(g.thresholds[i])), ("count", int(g.counts[i])),
                ("collections", int(g.stats[i].collections)), ("collected", int(g.stats[i].collected)),
                ("uncollectable", int(g.stats[i].uncollectable)),
            ]
            return .object(members)
        }
        let types: [JSONValue] = heap.histogram().prefix(20).map {
            ["type": .string($0.type), "count": .int(Int64($0.count)), "bytes": .int(Int64(clamping: $0.bytes))]
        }
        let gcSummary: JSONValue = ["enabled": .bool(g.enabled), "debug": .array(g.debug.names.map { .string($0) })]
        var members: [(String, JSONValue)] = []
        members.append(("objects", .int(Int64(heap.objectCount))))
        members.append(("bytes", .int(Int64(clamping: heap.totalBytes))))
        members.append(("generations", .array(generations)))
        members.append(("permanent", .int(Int64(sizes[3]))))
        members.append(("garbage", .int(Int64(heap.garbageIDs.count))))
        members.append(("gc", gcSummary))
        members.append(("types", .array(types)))
        members.append(("roots", .int(Int64(heap.rootCount))))
        members.append(("sessions", .int(Int64(heap.sessionCount))))
        members.append(("connections", .int(Int64(state.connections.count))))
        members.append(("subscribers", .int(Int64(state.subscribers.count))))
        members.append(("requests", .int(Int64(state.requestsServed))))
        members.append(("uptime_s", .double(environment.uptimeSeconds())))
        members.append(("table_bytes", .int(Int64(heap.tableBytes))))
        members.append(("persistence", environment.persistence()))
        return .object(members)
    }
}
