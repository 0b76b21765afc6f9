/// What was alive at one moment (`snapshot.save`, SPEC §5): for every slot of the object table,
/// the id of its live object (if any), its type and its size. Not a copy of the heap: no fields,
/// no data, no collector state.
///
/// Ids are never reused and an id names its slot, so two censuses compare slot by slot in one
/// linear pass, with no sorting and no hash set: the same id at a slot is the same object; a
/// different one means the older object was freed and the newer one allocated.
///
/// Encoded form (kept in memory, and the payload of a snapshot file): per slot in slot order,
/// `varint(reuse + 1)` for a live object, then `varint(type index)` and `varint(size)`, or a
/// single `0` byte for a slot with no live object. About 3 bytes per live object with small
/// sizes and fewer than 128 types, 1 per free slot.
public struct HeapCensus: Sendable, Equatable {
    /// The names of the types the census's objects have, indexed by the encoding's type index.
    public let typeNames: [String]
    /// The per-slot stream described above.
    public let slots: [UInt8]
    /// Slots the stream describes.
    public let slotCount: Int
    /// Live objects and the sum of their sizes.
    public let objects: Int
    public let bytes: UInt64

    public init(typeNames: [String], slots: [UInt8], slotCount: Int, objects: Int, bytes: UInt64) {
        self.typeNames = typeNames
        self.slots = slots
        self.slotCount = slotCount
        self.objects = objects
        self.bytes = bytes
    }

    /// One slot as the census saw it (`id` 0: no live object).
    struct Entry {
        var id: UInt64 = 0
        var type: UInt32 = 0
        var size: UInt64 = 0
    }

    /// The id a census entry at slot position `index` (0-based) with reuse count `reuse` names.
    static func id(index: Int, reuse: UInt64) -> UInt64 { (reuse << 32) | UInt64(index + 1) }

    /// Reads the slots in order. The stream was checked when the census was made or loaded.
    struct Cursor {
        private var reader: BinaryReader
        private var index = 0

        init(_ bytes: UnsafeRawBufferPointer) { reader = BinaryReader(bytes) }

        /// The next slot's entry; past the end, an empty one.
        mutating func next() -> Entry {
            defer { index += 1 }
            guard !reader.isAtEnd, let mark = try? reader.varint(), mark != 0 else { return Entry() }
            let type = (try? reader.varint()) ?? 0
            let size = (try? reader.varint()) ?? 0
            let id = HeapCensus.id(index: index, reuse: mark - 1)
            return Entry(id: id, type: UInt32(truncatingIfNeeded: type), size: size)
        }
    }

    /// What is wrong with an encoded census, if anything: the stream must describe exactly
    /// `slotCount` slots, type indexes must name a type, and the totals must add up.
    public func problem() -> String? {
        slots.withUnsafeBytes { bytes -> String? in
            var reader = BinaryReader(bytes)
            var objects = 0
            var total: UInt64 = 0
            for index in 0..<slotCount {
                do {
                    let mark = try reader.varint()
                    if mark == 0 { continue }
                    guard mark - 1 <= UInt64(ObjectID.maxReuse) else { return "slot \(index): reuse out of range" }
                    let type = try reader.varint()
                    guard type < UInt64(typeNames.count) else { return "slot \(index): no type \(type)" }
                    total = total.saturatingAdd(try reader.varint())
                    objects += 1
                } catch {
                    return "slot \(index): \(error)"
                }
            }
            guard reader.isAtEnd else { return "data after slot \(slotCount)" }
            guard objects == self.objects, total == self.bytes else { return "totals do not match the slots" }
            return nil
        }
    }
}

extension UInt64 {
    /// Byte totals stop at the largest value instead of trapping (sizes are the client's).
    func saturatingAdd(_ other: UInt64) -> UInt64 {
        let (sum, overflow) = addingReportingOverflow(other)
        return overflow ? .max : sum
    }
}
