import HeapCore

/// A journal file is a sequence of records: `[length: u32 LE][crc32c(payload): u32 LE][payload]`,
/// each payload one `HeapOperation` in its binary form.
public enum JournalFormat {
    public static let headerSize = 8
    /// No operation encodes larger than this (a message is at most 16 MiB by default).
    public static let maximumPayload = 1 << 30

    /// One record: the payload with its header in front.
    public static func record(encoding op: HeapOperation) -> [UInt8] {
        // Encoded after room for the header, which is then filled in: the record is built in
        // one array, with no copy of the payload (this runs under the heap's lock).
        var w = BinaryWriter()
        w.u64(0)
        op.encode(into: &w)
        var record = w.takeBytes()
        record.withUnsafeMutableBytes { r in
            let payload = UnsafeRawBufferPointer(rebasing: r[headerSize...])
            r.storeBytes(of: UInt32(payload.count).littleEndian, toByteOffset: 0, as: UInt32.self)
            r.storeBytes(of: CRC32C.checksum(payload).littleEndian, toByteOffset: 4, as: UInt32.self)
        }
        return record
    }

    /// How a scan of a journal ended.
    public enum Ending: Equatable, Sendable {
        /// Every byte belongs to a good record.
        case clean
        /// The last record is incomplete or fails its checksum and nothing follows it: a write
        /// cut short by a crash. Recovery drops it.
        case tornTail(offset: Int)
        /// A record fails its checksum (or is implausible) and more data follows: damage in the
        /// middle, which recovery refuses to guess about.
        case corrupt(offset: Int, reason: String)
    }

    /// Walks the records of `bytes`, calling `body` with each good payload and its offset.
    public static func scan(_ bytes: UnsafeRawBufferPointer,
                            _ body: (UnsafeRawBufferPointer, Int) throws -> Void) rethrows -> (ending: Ending, goodLength: Int) {
        var offset = 0
        while offset < bytes.count {
            guard bytes.count - offset >= headerSize else { return (.tornTail(offset: offset), offset) }
            let length = Int(UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: UInt32.self)))
            let crc = UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: offset + 4, as: UInt32.self))
            let end = offset + headerSize + length
            guard length <= maximumPayload else {
                return (.corrupt(offset: offset, reason: "implausible record length \(length)"), offset)
            }
            guard end <= bytes.count else { return (.tornTail(offset: offset), offset) }
            let payload = UnsafeRawBufferPointer(rebasing: bytes[(offset + headerSize)..<end])
            guard CRC32C.checksum(payload) == crc else {
                if end == bytes.count { return (.tornTail(offset: offset), offset) }
                return (.corrupt(offset: offset, reason: "checksum mismatch"), offset)
            }
            try body(payload, offset)
            offset = end
        }
        return (.clean, offset)
    }
}
