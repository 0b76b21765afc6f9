/// `snapshot.diff`: what was allocated and what was freed between two censuses, exactly (ids
/// are never reused, so an id present on one side only is an object created or freed between
/// them). One linear pass over both slot streams.
public struct CensusDiff: Sendable {
    /// One side of the difference: every count and byte total is exact; `ids` holds the
    /// smallest `idLimit` ids, ascending.
    public struct Part: Sendable, Equatable {
        public var count = 0
        public var bytes: UInt64 = 0
        public var ids: [ObjectID] = []
        public var truncated = false
    }

    /// Per type name: objects new and freed, and their bytes (each at the side where it exists).
    public struct TypeDelta: Sendable, Equatable {
        public var type: String
        public var new = 0
        public var freed = 0
        public var newBytes: UInt64 = 0
        public var freedBytes: UInt64 = 0

        public var countDelta: Int { new - freed }
        /// New bytes minus freed bytes, clamped to Int64 (the wire's integers).
        public var bytesDelta: Int64 {
            newBytes >= freedBytes
                ? Int64(clamping: newBytes - freedBytes) : -Int64(clamping: freedBytes - newBytes)
        }
    }

    public var new = Part()
    public var freed = Part()
    /// Types with anything new or freed: most bytes gained first, then most objects gained, then
    /// by name (so what grows is on top, what shrank at the bottom).
    public var byType: [TypeDelta] = []

    public init(from old: HeapCensus, to now: HeapCensus, idLimit: Int = 1000) {
        var newIDs = SmallestIDs(limit: idLimit)
        var freedIDs = SmallestIDs(limit: idLimit)
        var rows: [String: TypeDelta] = [:]
        func row(_ name: String) -> TypeDelta { rows[name] ?? TypeDelta(type: name) }
        HeapCensus.zip(old, now) { before, after in
            if before.id == after.id { return }
            if before.id != 0 {
                freedIDs.add(before.id)
                freed.bytes = freed.bytes.saturatingAdd(before.size)
                let name = old.typeNames[Int(before.type)]
                var r = row(name)
                r.freed += 1
                r.freedBytes = r.freedBytes.saturatingAdd(before.size)
                rows[name] = r
            }
            if after.id != 0 {
                newIDs.add(after.id)
                new.bytes = new.bytes.saturatingAdd(after.size)
                let name = now.typeNames[Int(after.type)]
                var r = row(name)
                r.new += 1
                r.newBytes = r.newBytes.saturatingAdd(after.size)
                rows[name] = r
            }
        }
        (new.ids, new.truncated) = newIDs.result()
        new.count = newIDs.seen
        (freed.ids, freed.truncated) = freedIDs.result()
        freed.count = freedIDs.seen
        byType = rows.values.sorted {
            if $0.bytesDelta != $1.bytesDelta { return $0.bytesDelta > $1.bytesDelta }
            if $0.countDelta != $1.countDelta { return $0.countDelta > $1.countDelta }
            return $0.type < $1.type
        }
    }
}

/// `snapshot.leaks`: the objects allocated between a first and a second census that are still
/// alive at a third (DevTools' "objects allocated between snapshots"), grouped by type.
public struct CensusLeaks: Sendable {
    public var leaked = CensusDiff.Part()
    /// Per type: count and bytes, most bytes first, then most objects, then by name.
    public var byType: [TypeCount] = []

    public init(first: HeapCensus, second: HeapCensus, third: HeapCensus, idLimit: Int = 1000) {
        var ids = SmallestIDs(limit: idLimit)
        var rows: [String: TypeCount] = [:]
        HeapCensus.zip3(first, second, third) { a, b, c in
            guard b.id != 0, b.id != a.id, c.id == b.id else { return }
            ids.add(c.id)
            leaked.bytes = leaked.bytes.saturatingAdd(c.size)
            let name = third.typeNames[Int(c.type)]
            var r = rows[name] ?? TypeCount(type: name, count: 0, bytes: 0)
            r.count += 1
            r.bytes = r.bytes.saturatingAdd(c.size)
            rows[name] = r
        }
        (leaked.ids, leaked.truncated) = ids.result()
        leaked.count = ids.seen
        byType = rows.values.sorted {
            if $0.bytes != $1.bytes { return $0.bytes > $1.bytes }
            if $0.count != $1.count { return $0.count > $1.count }
            return $0.type < $1.type
        }
    }
}

extension HeapCensus {
    /// Walks two censuses slot by slot (the shorter one reads as empty past its end).
    static func zip(_ a: HeapCensus, _ b: HeapCensus, _ body: (Entry, Entry) -> Void) {
        a.slots.withUnsafeBytes { ab in
            b.slots.withUnsafeBytes { bb in
                var ca = Cursor(ab)
                var cb = Cursor(bb)
                for _ in 0..<max(a.slotCount, b.slotCount) { body(ca.next(), cb.next()) }
            }
        }
    }

    static func zip3(_ a: HeapCensus, _ b: HeapCensus, _ c: HeapCensus, _ body: (Entry, Entry, Entry) -> Void) {
        a.slots.withUnsafeBytes { ab in
            b.slots.withUnsafeBytes { bb in
                c.slots.withUnsafeBytes { cb in
                    var ca = Cursor(ab)
                    var cursorB = Cursor(bb)
                    var cc = Cursor(cb)
                    for _ in 0..<max(a.slotCount, b.slotCount, c.slotCount) {
                        body(ca.next(), cursorB.next(), cc.next())
                    }
                }
            }
        }
    }
}
