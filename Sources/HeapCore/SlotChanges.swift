/// The slots whose graph-visible state (liveness, id, size or fields) changed below a cursor: the
/// write barrier of a graph capture that runs a slice at a time (``GraphCapture``), and, once the
/// capture is finished, of the ``ReferrerIndex`` made from its graph. Slots at or above the
/// cursor are not captured yet (or were added since), so a change there needs no note: readers
/// take them whole. A slot is noted once (a bitset), so the list is bounded by the table's slots;
/// after a finished capture it is bounded by `limit` too, past which it stops (`overflowed`) and
/// the index it serves is no use.
struct SlotChanges: Sendable {
    /// Which capture this belongs to; a capture that finds another token (or none) restarts.
    let token: UInt64
    /// Slots below this are captured.
    private(set) var below: Int = 0
    /// Noted slots past which the list stops.
    let limit: Int
    /// More than `limit` slots changed: the list is incomplete.
    private(set) var overflowed = false
    private var noted: [UInt64] = []
    private(set) var slots: [Slot] = []

    init(token: UInt64, limit: Int = .max) { (self.token, self.limit) = (token, limit) }

    /// Notes changes from a finished capture of `slotCount` slots on.
    init(following token: UInt64, slotCount: Int, limit: Int) {
        self.init(token: token, limit: limit)
        capturedBelow(slotCount)
    }

    @inline(__always)
    mutating func note(_ slot: Slot) {
        let s = Int(slot)
        guard s < below else { return }
        let bit = UInt64(1) << UInt64(s & 63)
        if noted[s >> 6] & bit == 0 {
            noted[s >> 6] |= bit
            if slots.count < limit { slots.append(slot) } else { overflowed = true }
        }
    }

    /// Whether `slot` (below the cursor) changed since it was captured.
    @inline(__always)
    func contains(_ slot: Slot) -> Bool {
        noted[Int(slot) >> 6] & (UInt64(1) << UInt64(slot & 63)) != 0
    }

    /// The cursor moves up to `slot`: the bitset grows to cover it.
    mutating func capturedBelow(_ slot: Int) {
        below = slot
        let words = (slot + 63) >> 6
        if noted.count < words { noted.append(contentsOf: repeatElement(0, count: words - noted.count)) }
    }
}
