/// What `allocate` creates.
public struct AllocationSpec: Sendable {
    public var type: String
    /// Bytes the object accounts for; nil: the length of its encoded data (0 without data).
    public var size: UInt64?
    /// The object's data as encoded JSON text (opaque to the collector).
    public var data: [UInt8]?
    /// Strong references, in the order given (which is the first-use order of new field names).
    public var fields: [(name: String, target: ObjectID)]
    public var finalizer: Bool
    /// Where the client allocated it (`file:line`, a function name): see `AllocationOrigin`.
    public var site: String?

    public init(
        type: String, size: UInt64? = nil, data: [UInt8]? = nil,
        fields: [(name: String, target: ObjectID)] = [], finalizer: Bool = false, site: String? = nil
    ) {
        self.site = site
        self.type = type
        self.size = size
        self.data = data
        self.fields = fields
        self.finalizer = finalizer
    }
}

/// One object as `get` shows it.
public struct ObjectSnapshot: Sendable, Equatable {
    public var id: ObjectID
    public var type: String
    public var size: UInt64
    public var data: [UInt8]?
    /// In key (release) order.
    public var fields: [Field]
    public var refcount: Int
    public var isWeakref: Bool
    public var hasCallback: Bool
    /// For a weakref: its referent, nil once it died.
    public var referent: ObjectID?
    public var finalizer: Bool

    public struct Field: Sendable, Equatable {
        public var name: String
        public var target: ObjectID
    }
}

extension Heap {
    public static let weakrefType = "weakref"

    /// Creates an object with refcount 1, held by `session` (in its innermost scope).
    public mutating func allocate(
        _ spec: AllocationSpec, session: SessionID,
        events: inout HeapEvents
    ) throws(HeapError) -> ObjectID {
        try checkSession(session)
        guard !spec.type.isEmpty else { throw .emptyTypeName }
        guard spec.type != Self.weakrefType else {
            throw .weakrefTypeReserved
        }
        // One class per (type, finalizer): `__del__` belongs to the class in CPython.
        let existing = types.lookup(spec.type, finalizer: spec.finalizer)
        let targets = try resolveFieldTargets(spec.fields)
        if let t = existing { try checkKeyRoom(t, names: spec.fields.lazy.map(\.name)) }
        let size = spec.size ?? UInt64(spec.data?.count ?? 0)
        try HeapLimits.checkSize(size)
        try checkQuota(adding: size)
        // The targets are held while the allocation runs, as the creating frame holds them in
        // CPython; the references become the fields' own below.
        for t in targets { incref(t) }
        trackAllocation(&events)
        let type = types.intern(spec.type, finalizer: spec.finalizer)
        let slot = makeObject(
            type: type, size: size, explicitSize: spec.size != nil,
            data: spec.data, finalizer: spec.finalizer)
        types.instanceCreated(type)
        recordOrigin(slot, site: spec.site, session: session)
        for (f, t) in zip(spec.fields, targets) {
            if let replaced = setField(slot, name: f.name, target: t) { decref(replaced, &events) }
        }
        sessions[session]!.take(slot)
        return table.id(of: slot)
    }

    /// Creates a weakref object to `id` (never shared: each call makes a new one, as for a
    /// `weakref.ref` subclass), held by `session`.
    public mutating func weakref(
        to id: ObjectID, callback: Bool,
        fields: [(name: String, target: ObjectID)] = [],
        session: SessionID, events: inout HeapEvents
    ) throws(HeapError) -> ObjectID {
        try checkSession(session)
        let referent = try resolveLive(id)
        let targets = try resolveFieldTargets(fields)
        try checkKeyRoom(TypeRegistry.permanent, names: fields.lazy.map(\.name))
        try checkQuota(adding: 0)
        incref(referent)
        for t in targets { incref(t) }
        trackAllocation(&events)
        let slot = makeObject(
            type: types.intern(Self.weakrefType), size: 0, explicitSize: false,
            data: nil, finalizer: false)
        recordOrigin(slot, site: nil, session: session)
        table.records[Int(slot)].flags.insert(.isWeakref)
        if callback { table.records[Int(slot)].flags.insert(.weakrefHasCallback) }
        for (f, t) in zip(fields, targets) {
            if let replaced = setField(slot, name: f.name, target: t) { decref(replaced, &events) }
        }
        sessions[session]!.take(slot)
        // The referent may have been collected by the allocation's automatic collection only if
        // nothing held it; our temporary hold prevents that, and dropping it cannot free it
        // unless it had no other holder, in which case the weakref dies at once, as in CPython.
        table.weakrefs.attach(slot, to: referent)
        table.records[Int(referent)].flags.insert(.hasWeakrefs)
        decref(referent, &events)
        return table.id(of: slot)
    }

    /// Takes one more reference for `session`. Returns the new refcount.
    public mutating func ref(_ id: ObjectID, session: SessionID) throws(HeapError) -> Int {
        let holder = try sessionIndex(session)
        let slot = try resolveLive(id)
        try checkRefcountRoom(slot, id)
        incref(slot)
        sessions.values[holder].take(slot)
        return Int(table.records[Int(slot)].refcount)
    }

    /// Drops one reference `session` holds. Returns the refcount after (0: freed).
    public mutating func unref(
        _ id: ObjectID, session: SessionID,
        events: inout HeapEvents
    ) throws(HeapError) -> Int {
        let holder = try sessionIndex(session)
        let slot = try resolveLive(id)
        guard sessions.values[holder].drop(slot) else { throw .referenceNotHeld(id) }
        let after = Int(table.records[Int(slot)].refcount) - 1
        decref(slot, &events)
        return after
    }

    /// Sets or deletes (nil target) fields in the order given, then replaces data and size if
    /// given (`data: .some(nil)` removes the data). Returns the refcount after (0: the object
    /// died because a field it cleared held the last path to it).
    ///
    /// Deleting a field the object does not have throws `noSuchField` for the first such name,
    /// and then the request changes no field, data or size: only the key-table effect of
    /// CPython 3.11's failed `del obj.name` is kept (the name is interned in the shared keys,
    /// or the object gets its own dict when it does not fit), as if that `del` ran alone.
    /// CPython would have applied the setattrs before it, but a refused request changes
    /// nothing else (SPEC §2.2), and the dry run and journal need one all-or-nothing rule; the
    /// interning is kept because later field orders depend on it (issue #14 item 5). The
    /// journal records it as `HeapOperation.failedDelete`.
    @discardableResult
    public mutating func set(
        _ id: ObjectID, fields: [(name: String, target: ObjectID?)],
        data: [UInt8]?? = nil, size: UInt64? = nil,
        events: inout HeapEvents
    ) throws(HeapError) -> Int {
        let slot = try resolveLive(id)
        var targets: [Slot?] = []
        for f in fields {
            try HeapLimits.checkFieldName(f.name)
            if let t = f.target {
                let s = try resolveLive(t)
                // Each field's target is held twice while the call runs (as the caller's
                // argument and as the field), whatever the fields it replaces.
                try checkRefcountRoom(s, t, adding: 2 * fields.count)
                targets.append(s)
            } else {
                targets.append(nil)
            }
        }
        if table.records[Int(slot)].fieldCount == UInt16(FieldPool.maxFields) {
            throw .fieldLimit(id)
        }
        try checkKeyRoom(table.records[Int(slot)].type, names: fields.lazy.map(\.name), id: id)
        let newSize: UInt64? =
            size
            ?? (table.records[Int(slot)].flags.contains(.explicitSize)
                ? nil : data.map { UInt64($0?.count ?? 0) })
        if let newSize { try HeapLimits.checkSize(newSize) }
        if let newSize, newSize > table.size(slot) {
            try checkQuota(adding: newSize - table.size(slot), newObject: false)
        }

        // Last of the checks, so that a request refused for another reason has no effect at all.
        if let absent = firstAbsentDelete(slot, fields) {
            _ = deleteField(slot, name: absent)
            failedDeletes += 1
            throw .noSuchField(id, field: absent)
        }

        // Held for the duration, as the caller's frame would hold them in Python.
        incref(slot)
        for case let t? in targets { incref(t) }
        for (f, t) in zip(fields, targets) {
            if let t {
                incref(t)
                if let old = setField(slot, name: f.name, target: t) { decref(old, &events) }
            } else if let old = deleteField(slot, name: f.name) {
                decref(old, &events)
            }
        }
        if let data { setData(slot, data) }
        if let newSize {
            if size != nil { table.records[Int(slot)].flags.insert(.explicitSize) }
            resize(slot, to: newSize)
        }
        for case let t? in targets { decref(t, &events) }
        let after = Int(table.records[Int(slot)].refcount) - 1
        decref(slot, &events)
        return after
    }

    /// The object as `get` shows it.
    public func snapshot(_ id: ObjectID) throws(HeapError) -> ObjectSnapshot {
        let slot = try resolveLive(id)
        let r = table.records[Int(slot)]
        return ObjectSnapshot(
            id: id, type: typeName(slot), size: table.size(slot),
            data: r.flags.contains(.hasData) ? table.data[slot] : nil,
            fields: namedFields(slot).map { .init(name: $0.0, target: table.id(of: $0.1)) },
            refcount: Int(r.refcount),
            isWeakref: r.flags.contains(.isWeakref),
            hasCallback: r.flags.contains(.weakrefHasCallback),
            referent: table.weakReferent[slot].map { table.id(of: $0) },
            finalizer: r.flags.contains(.hasFinalizer))
    }

    /// The side effect of a refused `set` whose delete of `field` failed (`noSuchField`), for
    /// journal replay: the same interning, or own dict, as the refused request made.
    public mutating func replayFailedDelete(_ id: ObjectID, field: String) throws(HeapError) {
        let slot = try resolveLive(id)
        guard fieldTarget(slot, named: field) == nil else { return }
        _ = deleteField(slot, name: field)
    }

    // MARK: helpers

    /// The first name that `fields` deletes (nil target) while the object does not have it,
    /// counting the names the request sets before it.
    func firstAbsentDelete(_ slot: Slot, _ fields: [(name: String, target: ObjectID?)]) -> String? {
        // Most requests delete nothing: no set of names to hash (it was a fair part of `set`).
        guard fields.contains(where: { $0.target == nil }) else { return nil }
        var setBefore = Set<String>()
        for f in fields {
            if f.target != nil {
                setBefore.insert(f.name)
            } else if !setBefore.contains(f.name) && fieldTarget(slot, named: f.name) == nil {
                return f.name
            } else {
                setBefore.remove(f.name)
            }
        }
        return nil
    }

    /// A type's key indexes have 26 bits (`FieldPool.keyMask`): a name that would need one more
    /// is refused as the object's field limit (tens of millions of names on one type).
    func checkKeyRoom(_ type: TypeID, names: some Sequence<String>, id: ObjectID? = nil) throws(HeapError) {
        var count = types.entries[Int(type)].keys.count
        guard count + FieldPool.maxFields >= Int(FieldPool.keyMask) else { return }
        for n in names where types.key(n, of: type) == nil {
            count += 1
            if count > Int(FieldPool.keyMask) {
                if let id { throw .fieldLimit(id) }
                throw .tooManyFields(limit: FieldPool.maxFields)
            }
        }
    }

    func resolveFieldTargets(_ fields: [(name: String, target: ObjectID)]) throws(HeapError) -> [Slot] {
        guard fields.count <= FieldPool.maxFields else {
            throw .tooManyFields(limit: FieldPool.maxFields)
        }
        var slots: [Slot] = []
        slots.reserveCapacity(fields.count)
        for f in fields {
            try HeapLimits.checkFieldName(f.name)
            let s = try resolveLive(f.target)
            try checkRefcountRoom(s, f.target, adding: fields.count)
            slots.append(s)
        }
        return slots
    }

    func checkQuota(adding bytes: UInt64, newObject: Bool = true) throws(HeapError) {
        try limits.check(objects: table.liveCount, total: totalBytes, adding: bytes, newObject: newObject)
    }

    /// A new live object, tracked at the tail of generation 0 (`_PyObject_GC_TRACK`), refcount 1.
    mutating func makeObject(
        type: TypeID, size: UInt64, explicitSize: Bool, data: [UInt8]?,
        finalizer: Bool
    ) -> Slot {
        let slot = table.allocateSlot()
        table.records[Int(slot)].type = type
        table.records[Int(slot)].refcount = 1
        var flags: ObjectFlags = [.live]
        if finalizer { flags.insert(.hasFinalizer) }
        if explicitSize { flags.insert(.explicitSize) }
        table.records[Int(slot)].flags = flags
        table.setSize(slot, size)
        if let data {
            table.data[slot] = data
            table.records[Int(slot)].flags.insert(.hasData)
        }
        table.enterGeneration(slot, 0)
        types.add(type, size: size)
        totalBytes += size
        return slot
    }

    mutating func setData(_ slot: Slot, _ data: [UInt8]?) {
        table.data[slot] = data
        if data == nil {
            table.records[Int(slot)].flags.remove(.hasData)
        } else {
            table.records[Int(slot)].flags.insert(.hasData)
        }
    }

    mutating func resize(_ slot: Slot, to size: UInt64) {
        let old = table.size(slot)
        table.setSize(slot, size)
        let type = table.records[Int(slot)].type
        types.resize(type, from: old, to: size)
        if table.generation(of: slot) == 3 { types.resizeFrozen(type, from: old, to: size) }
        totalBytes = totalBytes - old + size
    }
}
