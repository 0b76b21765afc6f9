/// Who holds each object, as a finished graph capture saw it, for `referrers` and `inspect`
/// without a pass over the heap: the graph's reverse edges, read together with the slots the
/// heap noted as changed since (``SlotChanges``, kept by the heap under the capture's token).
/// A holder the heap did not note still holds what it held then; a noted one, and any slot added
/// since, is read from the heap itself. So an answer is exact and costs O(holders then + changes
/// since), not O(objects + fields).
///
/// Memory: the graph's reverse edges (4 bytes per slot and per edge: about 120 MB at ten million
/// objects and twenty million fields), held only while the daemon keeps the index; nothing per
/// object in the heap itself, whose write barrier is one test while no index or capture is kept.
public struct ReferrerIndex: Sendable {
    /// The capture whose graph it was made from (``CapturedGraph/token``).
    public let token: UInt64
    let slotCount: Int
    let start: [UInt32]
    let sources: [Slot]

    /// From the graph of capture `token` (``CapturedGraph/token``); computes its reverse edges
    /// if nothing has yet. Nil when `cancelled` says so first (another capture began: this index
    /// could not be current any more).
    public init?(_ graph: HeapGraph, token: UInt64, unless cancelled: () -> Bool = { false }) {
        guard let reverse = graph.predecessors(unless: cancelled) else { return nil }
        (self.token, slotCount, start, sources) = (token, graph.slotCount, reverse.start, reverse.sources)
    }

    /// The changes, slots added included, past which an index is no use: each answer reads
    /// every one of them, and past a few thousand a pass over the heap costs little more.
    static func changeLimit(slots: Int) -> Int { max(4096, slots / 256) }
}

extension Heap {
    /// Whether `index` still answers for this heap: no capture began since its own, and no more
    /// changes than ``ReferrerIndex/changeLimit(slots:)`` were made since.
    public func isCurrent(_ index: ReferrerIndex) -> Bool {
        guard let changes = table.changes, changes.token == index.token, !changes.overflowed,
            changes.below == index.slotCount
        else { return false }
        let added = table.records.count - index.slotCount
        return changes.slots.count + added <= ReferrerIndex.changeLimit(slots: index.slotCount)
    }

    /// The objects whose fields hold `slot`, each once, in no particular order; nil when `index`
    /// is not current. O(holders when the index was made + changes since).
    func indexedHolders(of slot: Slot, _ index: ReferrerIndex) -> [Slot]? {
        guard isCurrent(index), let changes = table.changes else { return nil }
        var out: [Slot] = []
        if Int(slot) < index.slotCount {
            var last = Slot.max
            // A target's sources are ascending: a holder with several such fields comes in a run.
            for e in Int(index.start[Int(slot)])..<Int(index.start[Int(slot) + 1]) {
                let h = index.sources[e]
                if h != last && !changes.contains(h) { out.append(h) }
                last = h
            }
        }
        for h in changes.slots where holds(h, slot) { out.append(h) }
        for h in index.slotCount..<table.records.count where holds(Slot(h), slot) { out.append(Slot(h)) }
        return out
    }

    /// Whether the live object in `h` has a field holding `slot`.
    private func holds(_ h: Slot, _ slot: Slot) -> Bool {
        let r = table.records[Int(h)]
        guard r.flags.contains(.live) else { return false }
        let at = Int(r.fieldsAt)
        return fieldPool.entries[at..<at + Int(r.fieldCount)].contains { FieldPool.target($0) == slot }
    }
}
