import Synchronization

/// What a path search on a graph keeps for the next one (``HeapGraph/shortestPathsFromTarget(to:limit:bottomUpRatio:heldShortcut:heldCheckWork:)``):
/// which holders hold which slots, indexed once per graph, and the per-slot distance array,
/// handed back with every entry at -1 again. At ten million objects the array is 40 MB that
/// each search would otherwise allocate and fault in; a graph's successor takes it over
/// (``GraphBuffers``), so a search after a change does not fault it in either.
final class PathSearchScratch: Sendable {
    /// Which holders hold which slots: a bit per slot, and the held slots ascending with, for
    /// each, the index of a holder holding it (a slot held by several holders appears once per
    /// holder).
    struct HolderIndex: Sendable {
        let isHeld: [UInt64]
        let slots: [Slot]
        let holders: [Int32]
        /// The held objects, each once, ascending.
        let objects: [Slot]
        /// Their fields: what checking them all at once reads.
        let fieldCount: Int

        init(_ holders: [(holder: RootHolder, slots: [Slot])], of graph: HeapGraph) {
            let slotCount = graph.slotCount
            var isHeld = [UInt64](repeating: 0, count: (slotCount + 63) / 64)
            var pairs: [(slot: Slot, holder: Int32)] = []
            for (h, entry) in holders.enumerated() {
                for s in entry.slots {
                    isHeld[Int(s) >> 6] |= 1 << (UInt64(s) & 63)
                    pairs.append((s, Int32(h)))
                }
            }
            pairs.sort { $0.slot != $1.slot ? $0.slot < $1.slot : $0.holder < $1.holder }
            (self.isHeld, self.slots, self.holders) = (isHeld, pairs.map(\.slot), pairs.map(\.holder))
            let held = pairs.enumerated().filter { i, p in i == 0 || pairs[i - 1].slot != p.slot }.map(\.element.slot)
            (objects, fieldCount) = (held, held.reduce(0) { $0 + graph.edges($1).count })
        }

        /// Calls `body` with each holder of `s` (none for most slots: one bit read).
        @inline(__always)
        func forEachHolder(of s: Slot, _ body: (Int32) -> Void) {
            guard isHeld[Int(s) >> 6] & (1 << (UInt64(s) & 63)) != 0 else { return }
            var lo = 0
            var hi = slots.count
            while lo < hi {
                let mid = (lo + hi) / 2
                if slots[mid] < s { lo = mid + 1 } else { hi = mid }
            }
            while lo < slots.count && slots[lo] == s {
                body(holders[lo])
                lo += 1
            }
        }
    }

    private let index = Mutex<HolderIndex?>(nil)
    private let spareDistances: Mutex<[Int32]?>

    /// `distances`: a dropped graph's array to reuse (every entry -1), if any.
    init(distances: [Int32]? = nil) { spareDistances = Mutex(distances) }

    /// The graph's holder index, built by the first caller.
    func holderIndex(_ make: () -> HolderIndex) -> HolderIndex {
        index.withLock { built in
            if let built { return built }
            let made = make()
            built = made
            return made
        }
    }

    /// A distance per slot, every one -1. Give it back, reset, with `giveBack`.
    func takeDistances(count: Int) -> [Int32] {
        var d = spareDistances.withLock { $0.take() } ?? []
        if d.count > count {
            d.removeLast(d.count - count)
        } else if d.count < count {
            d.append(contentsOf: repeatElement(-1, count: count - d.count))
        }
        return d
    }

    /// `d` with every entry at -1 again, for the next search (or the next graph).
    func giveBack(_ d: consuming [Int32]) {
        let d = consume d
        spareDistances.withLock { spare in if spare == nil { spare = d } }
    }

    /// The spare distance array, for the next graph's searches (``GraphBuffers``).
    /// Nothing while a search is taking or handing it back (called inside the heap's lock).
    func spare() -> [Int32]? { spareDistances.withLockIfAvailable { $0 } ?? nil }
}
