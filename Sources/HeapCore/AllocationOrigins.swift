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

/// Every live object's origin, at 8 bytes per object: an index into a table of interned
/// (site, session) pairs, shared by every object allocated there and forgotten with its last
/// object (so a client sending a new site per object costs what its objects cost), and the
/// second it was allocated in.
struct AllocationOrigins: Sendable {
    struct Entry: Sendable {
        var site: String?
        var session: SessionID
        var sessionName: String?
        var live: Int
    }
    private struct Key: Hashable {
        var site: String?
        var session: UInt64
    }

    /// Index 0 is "unknown" (never used by an object with an origin).
    private(set) var entries: [Entry] = [Entry(site: nil, session: SessionID(raw: 0), sessionName: nil, live: 0)]
    private var index: [Key: UInt32] = [:]
    private var free: [UInt32] = []
    /// Per slot: the object's entry (0: unknown) and its allocation second.
    private(set) var originOf: [UInt32] = []
    private(set) var bornAt: [UInt32] = []

    var liveOriginCount: Int { index.count }

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
        entries[Int(e)].live += 1
        if Int(slot) >= originOf.count {
            originOf.append(contentsOf: repeatElement(0, count: Int(slot) + 1 - originOf.count))
            bornAt.append(contentsOf: repeatElement(0, count: Int(slot) + 1 - bornAt.count))
        }
        originOf[Int(slot)] = e
        bornAt[Int(slot)] = time
    }

    /// The object in `slot` died.
    @inline(__always)
    mutating func forget(_ slot: Slot) {
        guard Int(slot) < originOf.count else { return }
        let e = originOf[Int(slot)]
        originOf[Int(slot)] = 0
        guard e != 0 else { return }
        entries[Int(e)].live -= 1
        if entries[Int(e)].live == 0 { forgetEntry(e) }
    }

    /// The last object of entry `e` died.
    mutating func forgetEntry(_ e: UInt32) {
        index[Key(site: entries[Int(e)].site, session: entries[Int(e)].session.raw)] = nil
        entries[Int(e)] = entries[0]
        free.append(e)
    }

    /// Raw per-slot entries (`originOf`, with its count) and per-entry live counts, for a sweep
    /// that does what `forget` does and calls `forgetEntry` afterwards for each emptied entry.
    mutating func withRawCounts<R>(
        _ body: (UnsafeMutablePointer<UInt32>, Int, UnsafeMutablePointer<Entry>) -> R
    ) -> R {
        originOf.withUnsafeMutableBufferPointer { of in
            entries.withUnsafeMutableBufferPointer { e in
                body(of.baseAddress ?? UnsafeMutablePointer(bitPattern: 8)!, of.count, e.baseAddress!)
            }
        }
    }

    func origin(of slot: Slot) -> AllocationOrigin? {
        guard Int(slot) < originOf.count, originOf[Int(slot)] != 0 else { return nil }
        let e = entries[Int(originOf[Int(slot)])]
        return AllocationOrigin(site: e.site, session: e.session, sessionName: e.sessionName, time: bornAt[Int(slot)])
    }

    func site(of slot: Slot) -> String? {
        guard Int(slot) < originOf.count else { return nil }
        return entries[Int(originOf[Int(slot)])].site
    }

    var byteCount: Int {
        originOf.capacity * 4 + bornAt.capacity * 4 + entries.capacity * MemoryLayout<Entry>.stride
    }

    /// ``Heap/adoptStorage(_:)``: the per-slot arrays move into larger ones; returns the bytes copied.
    mutating func adoptStorage(_ originOf: inout [UInt32], _ bornAt: inout [UInt32], sameSizeToo: Bool) -> Int {
        var copied = 0
        if self.originOf.moveStorage(into: &originOf, sameSizeToo: sameSizeToo) { copied += originOf.count * 4 }
        if self.bornAt.moveStorage(into: &bornAt, sameSizeToo: sameSizeToo) { copied += bornAt.count * 4 }
        return copied
    }

    // MARK: snapshots

    func encode(into w: inout BinaryWriter) {
        w.varint(UInt64(entries.count))
        for e in entries {
            w.optional(e.site) { $0.string($1) }
            w.varint(e.session.raw)
            w.optional(e.sessionName) { $0.string($1) }
        }
        w.raw(originOf)
        w.raw(bornAt)
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
        guard !o.entries.isEmpty else { return nil }
        o.originOf = try r.raw(UInt32.self)
        o.bornAt = try r.raw(UInt32.self)
        guard o.originOf.count == o.bornAt.count, o.originOf.count <= slotCount else { return nil }
        for (slot, e) in o.originOf.enumerated() where e != 0 {
            guard Int(e) < o.entries.count, isLive(Slot(slot)) else { return nil }
            o.entries[Int(e)].live += 1
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
