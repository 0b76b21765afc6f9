/// The object records, their slots, and the side tables for what few objects have.
///
/// Slots `0..<reservedSlots` are sentinels of intrusive lists (generations and the collector's
/// working lists), as `PyGC_Head` list heads are in gcmodule.c. Object slots follow; a freed
/// slot goes on a free stack and is reused once enough have piled up, so small heaps hand out
/// ids 1, 2, 3... while a heap with churn does not grow its table forever.
struct ObjectTable: Sendable {
    static let reservedSlots: Slot = 8
    /// Free slots are reused only once this many are waiting (keeps demo ids small and ordered).
    static let reuseThreshold = 1024

    /// The collector keeps its `gc_refs` in each record's `gcPrev` (`ObjectFlags.collecting`).
    var records: [ObjectRecord]
    private var freeTop: Slot = 0  // 0: empty (slot 0 is a sentinel, never free)
    private(set) var freeCount = 0
    private(set) var liveCount = 0

    /// Encoded JSON of objects that have `data` (a `SlotMap`: no pause when it grows or after a
    /// compaction's copy shares it).
    var data = SlotMap<[UInt8]>()
    /// Sizes that do not fit the record's 32 bits.
    var bigSizes = SlotMap<UInt64>()
    /// Weakrefs, their referents, and each referent's list of weakrefs.
    var weakrefs = WeakrefLists()
    /// Weakref object → its referent (absent once cleared).
    var weakReferent: [Slot: Slot] { weakrefs.referent }
    /// Which generation each object's list code stands for, and the generations' sizes.
    var codes = GenerationCodes()
    /// While a graph capture is under way: the captured slots that changed since.
    var changes: SlotChanges?

    init() {
        records = (0..<Self.reservedSlots).map { s in
            var r = ObjectRecord()
            r.gcPrev = s
            r.gcNext = s
            return r
        }
    }

    // MARK: snapshots

    var freeListState: (top: Slot, count: Int, live: Int) { (freeTop, freeCount, liveCount) }

    /// After `PlainGarbageSweep` released slots as `releaseSlot` does.
    mutating func setFreeListState(_ state: (top: Slot, count: Int, live: Int)) {
        (freeTop, freeCount, liveCount) = state
    }

    mutating func restore(records: [ObjectRecord], freeTop: Slot, freeCount: Int, liveCount: Int) {
        self.records = records
        changes = nil  // every slot changed: a capture under way starts again
        self.freeTop = freeTop
        self.freeCount = freeCount
        self.liveCount = liveCount
    }

    // MARK: ids

    func id(of slot: Slot) -> ObjectID { id(of: slot, records[Int(slot)]) }

    /// The id of the object in `slot` whose record `r` the caller has already read.
    @inline(__always)
    func id(of slot: Slot, _ r: ObjectRecord) -> ObjectID {
        ObjectID(slotOrdinal: slot - Self.reservedSlots + 1, reuse: r.reuse)
    }

    enum Resolution { case live(Slot), freed, neverExisted }

    func resolve(_ id: ObjectID) -> Resolution {
        guard id.isWellFormed else { return .neverExisted }
        let (slot, overflow) = (id.slotOrdinal - 1).addingReportingOverflow(Self.reservedSlots)
        guard !overflow, Int(slot) < records.count else { return .neverExisted }
        let r = records[Int(slot)]
        let reuse = UInt64(r.reuse)
        if id.reuse == reuse { return r.flags.contains(.live) ? .live(slot) : .freed }
        return id.reuse < reuse ? .freed : .neverExisted
    }

    // MARK: slots

    mutating func allocateSlot() -> Slot {
        liveCount += 1
        if freeCount >= Self.reuseThreshold {
            let slot = freeTop
            freeTop = records[Int(slot)].gcNext
            freeCount -= 1
            let reuse = records[Int(slot)].reuse + 1
            noteChange(slot)
            records[Int(slot)] = ObjectRecord()
            records[Int(slot)].reuse = reuse
            return slot
        }
        precondition(records.count < Int(UInt32.max - 16), "object table full")
        records.append(ObjectRecord())
        return Slot(records.count - 1)
    }

    /// Ends a slot's object (a collection may be running: the record is reset whole). The slot
    /// keeps its reuse count (so its last id reads as freed, and higher ones as never issued); a
    /// slot that ran out of reuse counts is retired for good.
    mutating func releaseSlot(_ slot: Slot) {
        liveCount -= 1
        noteChange(slot)
        if Self.reset(&records[Int(slot)], linkingTo: freeTop) {
            freeTop = slot
            freeCount += 1
        }
    }

    /// A dead object's record becomes a free slot's: empty but for its reuse count, linked in
    /// front of `freeTop`. False when the slot ran out of reuse counts (retired, not linked).
    @inline(__always)
    static func reset(_ r: inout ObjectRecord, linkingTo freeTop: Slot) -> Bool {
        let reuse = r.reuse
        r = ObjectRecord()
        r.reuse = reuse
        guard reuse < ObjectID.maxReuse else { return false }
        r.gcNext = freeTop
        return true
    }

    /// Bytes of the record table.
    var byteCount: Int { records.capacity * MemoryLayout<ObjectRecord>.stride }

    var objectSlots: Range<Slot> { Self.reservedSlots..<Slot(records.count) }

    func isLive(_ slot: Slot) -> Bool { records[Int(slot)].flags.contains(.live) }

    /// The slot's liveness, id, size or fields change (the graph capture's write barrier).
    @inline(__always)
    mutating func noteChange(_ slot: Slot) {
        if changes != nil { changes!.note(slot) }
    }

    // MARK: sizes

    func size(_ slot: Slot) -> UInt64 {
        size(slot, records[Int(slot)])
    }

    /// The size of the object in `slot` whose record `r` the caller has already read.
    @inline(__always)
    func size(_ slot: Slot, _ r: ObjectRecord) -> UInt64 {
        r.flags.contains(.bigSize) ? bigSizes[slot, default: 0] : UInt64(r.size)
    }

    mutating func setSize(_ slot: Slot, _ size: UInt64) {
        noteChange(slot)
        if size < UInt64(UInt32.max) {
            records[Int(slot)].size = UInt32(size)
            if records[Int(slot)].flags.contains(.bigSize) {
                records[Int(slot)].flags.remove(.bigSize)
                bigSizes[slot] = nil
            }
        } else {
            records[Int(slot)].size = .max
            records[Int(slot)].flags.insert(.bigSize)
            bigSizes[slot] = size
        }
    }

    // MARK: intrusive lists (gc_list_* of gcmodule.c)

    mutating func listAppend(_ node: Slot, to head: Slot) {
        let last = records[Int(head)].gcPrev
        records[Int(node)].gcPrev = last
        records[Int(node)].gcNext = head
        records[Int(last)].gcNext = node
        records[Int(head)].gcPrev = node
    }

    mutating func listRemove(_ node: Slot) {
        let prev = records[Int(node)].gcPrev
        let next = records[Int(node)].gcNext
        records[Int(prev)].gcNext = next
        records[Int(next)].gcPrev = prev
    }

    mutating func listMove(_ node: Slot, to head: Slot) {
        listRemove(node)
        listAppend(node, to: head)
    }

    /// Appends every node of `from` to the tail of `to`; `from` ends empty. O(1).
    mutating func listMerge(_ from: Slot, into to: Slot) {
        guard !listIsEmpty(from) else { return }
        let first = records[Int(from)].gcNext
        let last = records[Int(from)].gcPrev
        let toLast = records[Int(to)].gcPrev
        records[Int(toLast)].gcNext = first
        records[Int(first)].gcPrev = toLast
        records[Int(last)].gcNext = to
        records[Int(to)].gcPrev = last
        records[Int(from)].gcNext = from
        records[Int(from)].gcPrev = from
    }

    func listIsEmpty(_ head: Slot) -> Bool { records[Int(head)].gcNext == head }

    func listFirst(_ head: Slot) -> Slot? {
        let n = records[Int(head)].gcNext
        return n == head ? nil : n
    }

    func listCount(_ head: Slot) -> Int {
        var n = 0
        var s = records[Int(head)].gcNext
        while s != head { n += 1; s = records[Int(s)].gcNext }
        return n
    }

    func listSlots(_ head: Slot) -> [Slot] {
        var out: [Slot] = []
        var s = records[Int(head)].gcNext
        while s != head { out.append(s); s = records[Int(s)].gcNext }
        return out
    }
}
