/// A map from slots to values kept in buckets of consecutive slots, each its own dictionary.
///
/// A `Dictionary` with millions of entries pauses whoever changes it at two moments: when it
/// grows (every entry is rehashed into storage twice as big) and on its first change after a
/// copy shares its storage (every entry is copied: a compaction's snapshot shares the heap's).
/// Both happen inside the heap's lock: with objects' data in one dictionary, a million objects
/// with data held the lock 63 ms once while built and 83 ms at the first write after a
/// compaction began; in a `SlotMap`, 35 and 57 ms (the rest is other tables). Each bucket holds at
/// most `bucketSlots` entries and grows or is copied alone, as the kernel copies a forked
/// process's memory a page at a time: a change costs at most one bucket's worth, well under a
/// millisecond.
struct SlotMap<Value: Sendable>: Sendable {
    /// Slots per bucket: a full bucket fills a dictionary of 4,096 places to its maximum load
    /// (three quarters), as one big dictionary's entries would (4,096 slots would leave every
    /// full bucket's dictionary half empty: 8 MB more at a million entries).
    static var bucketSlots: Int { 3072 }

    private var buckets: [[Slot: Value]] = []
    private(set) var count = 0

    var isEmpty: Bool { count == 0 }

    subscript(slot: Slot) -> Value? {
        get {
            let b = Int(slot) / Self.bucketSlots
            return b < buckets.count ? buckets[b][slot] : nil
        }
        set {
            let b = Int(slot) / Self.bucketSlots
            if b >= buckets.count {
                guard newValue != nil else { return }
                buckets.append(contentsOf: repeatElement([:], count: b + 1 - buckets.count))
            }
            let before = buckets[b].count
            buckets[b][slot] = newValue
            count += buckets[b].count - before
            // An emptied bucket lets go of its storage (a dictionary keeps it otherwise).
            if newValue == nil && before == 1 && buckets[b].isEmpty { buckets[b] = [:] }
        }
    }

    subscript(slot: Slot, default value: @autoclosure () -> Value) -> Value {
        get { self[slot] ?? value() }
        set { self[slot] = newValue }
    }

    /// The slots that have a value, in no particular order.
    var keys: some Sequence<Slot> { buckets.lazy.flatMap(\.keys) }

    /// Every (slot, value), in no particular order.
    var entries: some Sequence<(key: Slot, value: Value)> { buckets.joined() }

    mutating func removeAll() {
        buckets = []
        count = 0
    }
}
