/// Storage for every object's fields in one flat array, so an object with fields costs no
/// allocation of its own.
///
/// An entry packs `(rank << 58) | (key index << 32) | target slot`. The rank (6 bits, used by
/// objects on shared keys only, whose keys are < 30) is the field's place in the object's own
/// insertion order, which CPython 3.11 keeps beside inline values and uses when it
/// materialises a dict; key indexes get 26 bits. An object's entries form one block whose
/// capacity is the power of two at or above its field count; freed blocks are kept on a free list
/// per size class and reused first. Entries of a block are sorted by key index (the type's
/// first-use order), which is also the order CPython 3.11 releases attributes in.
struct FieldPool: Sendable {
    typealias Entry = UInt64

    private(set) var entries: [Entry] = []
    /// Heads of the free lists, one per size class (capacity 1 << class). A free block stores
    /// the next free block's offset in its first entry; UInt32.max ends a list.
    private var freeHeads: [UInt32] = Array(repeating: .max, count: 17)

    var freeListHeads: [UInt32] { freeHeads }

    /// From a snapshot; the blocks and free lists are checked by `Heap.validateRestored`.
    mutating func restore(entries: [Entry], freeHeads: [UInt32]) throws(Heap.SnapshotError) {
        guard freeHeads.count == self.freeHeads.count else {
            throw Heap.SnapshotError(
                reason: "snapshot has \(freeHeads.count) field pool free lists, not \(self.freeHeads.count)")
        }
        self.entries = entries
        self.freeHeads = freeHeads
    }

    static func pack(key: UInt32, target: Slot, rank: UInt32 = 0) -> Entry {
        (UInt64(rank) << 58) | (UInt64(key) << 32) | UInt64(target)
    }
    static func key(_ e: Entry) -> UInt32 { UInt32(truncatingIfNeeded: e >> 32) & keyMask }
    static func rank(_ e: Entry) -> UInt32 { UInt32(truncatingIfNeeded: e >> 58) }
    static func withRank(_ e: Entry, _ rank: UInt32) -> Entry { (e & ~(UInt64(0x3F) << 58)) | (UInt64(rank) << 58) }
    /// Key indexes per type (a type with this many field names refuses more: `fieldLimit`).
    static let keyMask: UInt32 = (1 << 26) - 1
    static func target(_ e: Entry) -> Slot { UInt32(truncatingIfNeeded: e) }

    static let maxFields = 1 << 16 - 1

    static func sizeClass(forCount count: Int) -> Int {
        count <= 1 ? 0 : (Int.bitWidth - (count - 1).leadingZeroBitCount)
    }

    /// A block able to hold `count` entries (count ≥ 1).
    mutating func allocateBlock(count: Int) -> UInt32 {
        let cls = Self.sizeClass(forCount: count)
        let head = freeHeads[cls]
        if head != .max {
            freeHeads[cls] = UInt32(truncatingIfNeeded: entries[Int(head)])
            return head
        }
        let at = UInt32(entries.count)
        entries.append(contentsOf: repeatElement(0, count: 1 << cls))
        return at
    }

    mutating func freeBlock(at: UInt32, count: Int) {
        guard count > 0 else { return }
        let cls = Self.sizeClass(forCount: count)
        entries[Int(at)] = UInt64(freeHeads[cls])
        freeHeads[cls] = at
    }

    /// Raw entries and free-list heads, for a sweep that frees blocks as `freeBlock` does.
    mutating func withRawBlocks<R>(_ body: (UnsafeMutablePointer<Entry>, UnsafeMutablePointer<UInt32>) -> R) -> R {
        entries.withUnsafeMutableBufferPointer { e in
            freeHeads.withUnsafeMutableBufferPointer { h in
                body(e.baseAddress ?? UnsafeMutablePointer(bitPattern: 8)!, h.baseAddress!)
            }
        }
    }

    subscript(i: UInt32) -> Entry {
        get { entries[Int(i)] }
        set { entries[Int(i)] = newValue }
    }

    /// Bytes the pool occupies (for stats).
    var byteCount: Int { entries.capacity * MemoryLayout<Entry>.stride }

    /// ``Heap/adoptStorage(_:)``: the entries move into `larger`; returns the bytes copied.
    mutating func adoptStorage(_ larger: inout [Entry], sameSizeToo: Bool) -> Int {
        entries.moveStorage(into: &larger, sameSizeToo: sameSizeToo) ? larger.count * MemoryLayout<Entry>.stride : 0
    }
}
