/// Holders of external references: sessions (with scopes), named roots and gc.garbage.
extension Heap {
    /// Opens a session. A named session is found again by its name until it is closed.
    public mutating func openSession(name: String? = nil) throws(HeapError) -> SessionID {
        if let name, sessionNames[name] != nil { throw .sessionExists(name) }
        if name != nil && sessionNames.count >= limits.maxSessions { throw .sessionQuota(limit: limits.maxSessions) }
        let id = SessionID(raw: nextSessionID)
        nextSessionID += 1
        sessions[id] = SessionRefs(name: name)
        if let name { sessionNames[name] = id }
        return id
    }

    public func session(named name: String) -> SessionID? { sessionNames[name] }

    public func sessionName(_ id: SessionID) -> String? { sessions[id]?.name }

    /// The references the session holds, in all its scopes (0: none, or no such session).
    public func referenceCount(of id: SessionID) -> Int { sessions[id]?.totalReferences ?? 0 }

    func checkSession(_ id: SessionID) throws(HeapError) {
        _ = try sessionIndex(id)
    }

    /// `checkSession` that also returns where the session is, so that ref and unref (the hot
    /// path of `apply`) hash the session id once, not twice.
    func sessionIndex(_ id: SessionID) throws(HeapError) -> [SessionID: SessionRefs].Index {
        guard let index = sessions.index(forKey: id) else { throw .sessionClosed(id) }
        return index
    }

    /// Drops every reference the session holds (in ascending id order, for determinism) and
    /// forgets it.
    public mutating func closeSession(_ id: SessionID, events: inout HeapEvents) throws(HeapError) {
        guard let refs = sessions.removeValue(forKey: id) else { throw .sessionClosed(id) }
        if let name = refs.name { sessionNames[name] = nil }
        releaseAll(refs.allHeld, &events)
    }

    /// Moves every reference of `from` into the innermost scope of `to` (refcounts unchanged).
    public mutating func transferReferences(from: SessionID, to: SessionID) throws(HeapError) {
        try checkSession(from)
        try checkSession(to)
        guard from != to, let refs = sessions[from] else { return }
        for (slot, n) in refs.allHeld { for _ in 0..<n { sessions[to]!.take(slot) } }
        sessions[from]!.removeAll()
    }

    /// Enters a nested scope; returns the new depth (1 for the first scope).
    public mutating func enterScope(_ id: SessionID) throws(HeapError) -> Int {
        try checkSession(id)
        guard sessions[id]!.frames.count < 1024 else { throw .scopeTooDeep(limit: 1023) }
        sessions[id]!.enterScope()
        return sessions[id]!.frames.count - 1
    }

    /// Leaves the innermost scope, dropping the references taken in it in the order they were
    /// taken (a frame's locals in slot order). Returns the new depth.
    public mutating func exitScope(_ id: SessionID, events: inout HeapEvents) throws(HeapError) -> Int {
        try checkSession(id)
        guard sessions[id]!.frames.count > 1 else { throw .noScopeToExit }
        let taken = sessions[id]!.exitScope()
        // Ids first: a release may free (and, later, reuse) slots of the others.
        for id in taken.map({ table.id(of: $0) }) {
            if case .live(let slot) = table.resolve(id) { decref(slot, &events) }
        }
        return sessions[id]!.frames.count - 1
    }

    /// Sets or removes a session's lease (only named sessions outlive their connection).
    public mutating func setLease(_ id: SessionID, seconds: Double?) throws(HeapError) {
        try checkSession(id)
        if let seconds, !(seconds > 0 && seconds <= 1e9) {
            throw .leaseOutOfRange(seconds)
        }
        sessions[id]!.leaseSeconds = seconds
    }

    public func lease(of id: SessionID) -> Double? { sessions[id]?.leaseSeconds }

    /// Sessions that have a lease, with its length.
    public var leasedSessions: [(SessionID, Double)] {
        sessions.compactMap { id, s in s.leaseSeconds.map { (id, $0) } }.sorted { $0.0 < $1.0 }
    }

    public func scopeDepth(_ id: SessionID) -> Int { (sessions[id]?.frames.count ?? 1) - 1 }

    public struct SessionSummary: Sendable, Equatable {
        public var id: SessionID
        public var name: String?
        public var references: Int
        public var distinctObjects: Int
        public var bytes: UInt64
        public var scopeDepth: Int
        public var leaseSeconds: Double?
    }

    public func sessionSummaries() -> [SessionSummary] {
        sessions.keys.sorted().map { id in
            let s = sessions[id]!
            var distinct = Set<Slot>()
            for (slot, _) in s.allHeld { distinct.insert(slot) }
            return SessionSummary(
                id: id, name: s.name, references: s.totalReferences,
                distinctObjects: distinct.count,
                bytes: distinct.reduce(0) { $0 + table.size($1) },
                scopeDepth: s.frames.count - 1, leaseSeconds: s.leaseSeconds)
        }
    }

    private mutating func releaseAll(_ held: [(Slot, UInt32)], _ events: inout HeapEvents) {
        let ordered = held.sorted { table.id(of: $0.0) < table.id(of: $1.0) }
        // Resolve ids first: a release may free (and, later, reuse) slots of the others.
        let ids = ordered.map { (table.id(of: $0.0), $0.1) }
        for (id, n) in ids {
            for _ in 0..<n {
                guard case .live(let slot) = table.resolve(id) else { break }
                decref(slot, &events)
            }
        }
    }

    // MARK: named roots (globals)

    /// Binds `name` to `id` (nil deletes the binding). Returns the previous binding.
    @discardableResult
    public mutating func setRoot(
        _ name: String, to id: ObjectID?,
        events: inout HeapEvents
    ) throws(HeapError) -> ObjectID? {
        guard !name.isEmpty else { throw .emptyRootName }
        let new = try id.map { id throws(HeapError) in try resolveLive(id) }
        if let new, let id { try checkRefcountRoom(new, id) }
        let old = roots[name]
        if new != nil && old == nil && roots.count >= limits.maxRoots { throw .rootQuota(limit: limits.maxRoots) }
        let oldID = old.map { table.id(of: $0) }
        if let new { incref(new) }
        roots[name] = new
        if let old { decref(old, &events) }
        return oldID
    }

    public func root(_ name: String) -> ObjectID? { roots[name].map { table.id(of: $0) } }

    /// Every root, sorted by name.
    public func rootList() -> [(name: String, id: ObjectID)] {
        roots.sorted { $0.key < $1.key }.map { ($0.key, table.id(of: $0.value)) }
    }

    // MARK: gc.garbage

    public var garbageIDs: [ObjectID] { garbage.map { table.id(of: $0) } }
    public var garbageCount: Int { garbage.count }

    /// `gc.garbage.clear()`: drops the list's references (freeing what only it held), last
    /// entry first, as CPython's `list_clear` does.
    public mutating func clearGarbage(events: inout HeapEvents) -> Int {
        let held = garbage.map { table.id(of: $0) }
        garbage.removeAll()
        for id in held.reversed() {
            if case .live(let slot) = table.resolve(id) { decref(slot, &events) }
        }
        return held.count
    }
}
