/// Where and when an object was allocated: the client's `site` string (tracemalloc's traceback
/// frame: `file:line` or a function name), the session whose request allocated it, and the
/// wall-clock second (`Heap.clock`).
public struct AllocationOrigin: Sendable, Equatable {
    public var site: String?
    public var session: SessionID
    /// The session's name when it allocated (nil: anonymous).
    public var sessionName: String?
    /// Seconds since 1970 (UTC); 0: not recorded (an object from before origins were kept).
    public var time: UInt32
}

/// Every live object's origin, at 4 bytes per object: an index into a table of births, one per
/// (site, session, second) that has live objects, each 12 bytes and pointing into a table of
/// interned (site, session) pairs. Objects allocated at one site in one second share a birth, so
/// a busy heap pays 4 bytes per object; a site allocating at most one object a second pays 16.
/// Every entry is forgotten with its last object, so a client sending a new site per object costs
/// what its objects cost. (A second per object was 8 bytes per object everywhere.)
struct AllocationOrigins: Sendable {
    struct Entry: Sendable {
        var site: String?
        var session: SessionID
        var sessionName: String?
        /// Births of this (site, session) that have live objects.
        var live: Int
        /// The birth its latest allocation joined (0: none live), which the next allocation
        /// joins too if it comes in the same second: no lookup by second is needed.
        var newest: UInt32 = 0
    }
    /// Objects allocated at one (site, session) in one second.
    struct Birth: Sendable {
        var entry: UInt32
        var second: UInt32
        var live: UInt32
    }
    private struct Key: Hashable {
        var site: String?
        var session: UInt64
    }

    /// Index 0 is "unknown" (never used by an object with an origin).
    private(set) var entries: [Entry] = [Entry(site: nil, session: SessionID(raw: 0), sessionName: nil, live: 0)]
    private var index: [Key: UInt32] = [:]
    private var free: [UInt32] = []
    /// Index 0 is "unknown", as in `entries`.
    private(set) var births: [Birth] = [Birth(entry: 0, second: 0, live: 0)]
    private var freeBirths: [UInt32] = []
    /// Per slot: the object's birth (0: unknown).
    private(set) var birthOf: [UInt32] = []

    var liveOriginCount: Int { index.count }
    var liveBirthCount: Int { births.count - 1 - freeBirths.count }

    mutating func record(_ slot: Slot, site: String?, session: SessionID, sessionName: String?, time: UInt32) {
        let key = Key(site: site, session: session.raw)
        let e: UInt32
        if let known = index[key] {
            e = known
        } else {
            let entry = Entry(site: site, session: session, sessionName: sessionName, live: 0)
            if let reused = free.popLast() {
                e = reused
                entries[Int(e)] = entry
            } else {
                e = UInt32(entries.count)
                entries.append(entry)
            }
            index[key] = e
        }
        var b = entries[Int(e)].newest
        if b == 0 || births[Int(b)].second != time {
            b = newBirth(Birth(entry: e, second: time, live: 0))
            entries[Int(e)].newest = b
            entries[Int(e)].live += 1
        }
        births[Int(b)].live += 1
        if Int(slot) >= birthOf.count {
            birthOf.append(contentsOf: repeatElement(0, count: Int(slot) + 1 - birthOf.count))
        }
        birthOf[Int(slot)] = b
    }

    private mutating func newBirth(_ birth: Birth) -> UInt32 {
        if let reused = freeBirths.popLast() {
            births[Int(reused)] = birth
            return reused
        }
        births.append(birth)
        return UInt32(births.count - 1)
    }

    /// The object in `slot` died.
    @inline(__always)
    mutating func forget(_ slot: Slot) {
        guard Int(slot) < birthOf.count else { return }
        let b = birthOf[Int(slot)]
        birthOf[Int(slot)] = 0
        guard b != 0 else { return }
        births[Int(b)].live -= 1
        if births[Int(b)].live == 0 { forgetBirth(b) }
    }

    /// The last object of birth `b` died.
    mutating func forgetBirth(_ b: UInt32) {
        let e = births[Int(b)].entry
        births[Int(b)] = births[0]
        freeBirths.append(b)
        if entries[Int(e)].newest == b { entries[Int(e)].newest = 0 }
        entries[Int(e)].live -= 1
        if entries[Int(e)].live == 0 { forgetEntry(e) }
    }

    /// The last birth of entry `e` was forgotten.
    private mutating func forgetEntry(_ e: UInt32) {
        index[Key(site: entries[Int(e)].site, session: entries[Int(e)].session.raw)] = nil
        entries[Int(e)] = entries[0]
        free.append(e)
    }

    /// Raw per-slot births (`birthOf`, with its count) and the births, for a sweep that does
    /// what `forget` does and calls `forgetBirth` afterwards for each emptied birth.
    mutating func withRawCounts<R>(
        _ body: (UnsafeMutablePointer<UInt32>, Int, UnsafeMutablePointer<Birth>) -> R
    ) -> R {
        birthOf.withUnsafeMutableBufferPointer { of in
            births.withUnsafeMutableBufferPointer { b in
                body(of.baseAddress ?? UnsafeMutablePointer(bitPattern: 8)!, of.count, b.baseAddress!)
            }
        }
    }

    func origin(of slot: Slot) -> AllocationOrigin? {
        guard Int(slot) < birthOf.count, birthOf[Int(slot)] != 0 else { return nil }
        let b = births[Int(birthOf[Int(slot)])]
        let e = entries[Int(b.entry)]
        return AllocationOrigin(site: e.site, session: e.session, sessionName: e.sessionName, time: b.second)
    }

    func site(of slot: Slot) -> String? {
        guard Int(slot) < birthOf.count else { return nil }
        return entries[Int(births[Int(birthOf[Int(slot)])].entry)].site
    }

    var byteCount: Int {
        birthOf.capacity * 4 + births.capacity * MemoryLayout<Birth>.stride + entries.capacity
            * MemoryLayout<Entry>.stride
    }

    /// ``Heap/adoptStorage(_:)``: the per-slot array moves into a larger one; returns the bytes copied.
    mutating func adoptStorage(_ birthOf: inout [UInt32], sameSizeToo: Bool) -> Int {
        self.birthOf.moveStorage(into: &birthOf, sameSizeToo: sameSizeToo) ? birthOf.count * 4 : 0
    }

    // MARK: snapshots

    /// The format keeps an entry and a second per slot (version 3), as the table once did: a
    /// snapshot of today's table reads back into yesterday's, and the births are rebuilt on load.
    func encode(into w: inout BinaryWriter) {
        w.varint(UInt64(entries.count))
        for e in entries {
            w.optional(e.site) { $0.string($1) }
            w.varint(e.session.raw)
            w.optional(e.sessionName) { $0.string($1) }
        }
        w.raw(count: birthOf.count) { births[Int(birthOf[$0])].entry }
        w.raw(count: birthOf.count) { births[Int(birthOf[$0])].second }
    }

    /// From a snapshot; `isLive` tells which slots hold objects. Refused (nil) if an index is out
    /// of range or a live count would not match.
    static func decode(
        _ r: inout BinaryReader, slotCount: Int, isLive: (Slot) -> Bool
    ) throws(BinaryReader.Truncated) -> AllocationOrigins? {
        var o = AllocationOrigins()
        o.entries = []
        for _ in 0..<(try r.varint()) {
            let site = try r.optional { r throws(BinaryReader.Truncated) in try r.string() }
            let session = SessionID(raw: try r.varint())
            let name = try r.optional { r throws(BinaryReader.Truncated) in try r.string() }
            o.entries.append(Entry(site: site, session: session, sessionName: name, live: 0))
            if o.entries.count > slotCount + 1 { return nil }
        }
        // Entry 0 is "unknown": with a site it would lend it to every object of unknown origin.
        guard let unknown = o.entries.first, unknown.site == nil, unknown.sessionName == nil, unknown.session.raw == 0
        else { return nil }
        let originOf = try r.raw(UInt32.self)
        let bornAt = try r.raw(UInt32.self)
        guard originOf.count == bornAt.count, originOf.count <= slotCount else { return nil }
        o.birthOf = Array(repeating: 0, count: originOf.count)
        // Neighbouring slots mostly share a birth: the last one found is tried before the table.
        var birthIndex: [UInt64: UInt32] = [:]
        var last: (key: UInt64, birth: UInt32) = (.max, 0)
        for (slot, e) in originOf.enumerated() where e != 0 {
            guard Int(e) < o.entries.count, isLive(Slot(slot)) else { return nil }
            let key = UInt64(e) << 32 | UInt64(bornAt[slot])
            if key != last.key {
                if let known = birthIndex[key] {
                    last = (key, known)
                } else {
                    o.births.append(Birth(entry: e, second: bornAt[slot], live: 0))
                    o.entries[Int(e)].live += 1
                    last = (key, UInt32(o.births.count - 1))
                    birthIndex[key] = last.birth
                }
            }
            o.births[Int(last.birth)].live += 1
            o.birthOf[slot] = last.birth
        }
        for i in 1..<o.entries.count {
            if o.entries[i].live == 0 {
                o.entries[i] = o.entries[0]
                o.free.append(UInt32(i))
            } else {
                let key = Key(site: o.entries[i].site, session: o.entries[i].session.raw)
                guard o.index.updateValue(UInt32(i), forKey: key) == nil else { return nil }
            }
        }
        return o
    }
}
