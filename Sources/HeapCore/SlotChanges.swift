/// The slots whose graph-visible state (liveness, id, size, fields) changed below a cursor: the
/// write barrier of a graph capture that runs a slice at a time (``GraphCapture``). Slots at or
/// above the cursor are not captured yet, so a change there needs no note: the capture reads
/// them later. A slot is noted once (a bitset), so the list is bounded by the table's slots.
struct SlotChanges: Sendable {
    /// Which capture this belongs to; a capture that finds another token (or none) restarts.
    let token: UInt64
    /// Slots below this are captured.
    var below: Int = 0
    private var noted: [UInt64] = []
    private(set) var slots: [Slot] = []

    init(token: UInt64) { self.token = token }

    @inline(__always)
    mutating func note(_ slot: Slot) {
        let s = Int(slot)
        guard s < below else { return }
        let bit = UInt64(1) << UInt64(s & 63)
        if noted[s >> 6] & bit == 0 {
            noted[s >> 6] |= bit
            slots.append(slot)
        }
    }

    /// The cursor moves up to `slot`: the bitset grows to cover it.
    mutating func capturedBelow(_ slot: Int) {
        below = slot
        let words = (slot + 63) >> 6
        if noted.count < words { noted.append(contentsOf: repeatElement(0, count: words - noted.count)) }
    }
}
