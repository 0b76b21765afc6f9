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

    /// At least the size of `op`'s record, computed without encoding it (for `reserve`).
    public static func recordBound(_ op: HeapOperation) -> Int { headerSize + op.encodedSizeBound }

    /// How a scan of a journal ended.
    ///
    /// Damage is anything that is not a good record: a header cut short, a length that is zero
    /// (no operation encodes to nothing: this is what a zero-filled tail looks like, and its
    /// checksum, CRC-32C of nothing, is 0 too) or implausible, a payload running past the end,
    /// a checksum mismatch. What decides between a torn tail and corruption is whether a good
    /// record follows the damage anywhere later in the file (`nextGoodRecord`).
    public enum Ending: Equatable, Sendable {
        /// Every byte belongs to a good record.
        case clean
        /// Damage with no good record anywhere after it: a write cut short by a crash, or the
        /// zeros or junk a file system leaves after one. Recovery cuts it off.
        case tornTail(offset: Int, reason: String)
        /// Damage followed by a good record (at `next`): something went wrong in the middle,
        /// which recovery refuses to guess about.
        case corrupt(offset: Int, reason: String, next: Int)

        /// Where the good records end (the file's length if clean).
        public var damageOffset: Int? {
            switch self {
            case .clean: return nil
            case .tornTail(let offset, _), .corrupt(let offset, _, _): return offset
            }
        }
    }

    /// Why the bytes at `offset` are not a good record, or nil if they are one (`end` set).
    static func problem(at offset: Int, in bytes: UnsafeRawBufferPointer, end: inout Int) -> String? {
        guard bytes.count - offset >= headerSize else { return "incomplete record header" }
        let length = Int(UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: UInt32.self)))
        let crc = UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: offset + 4, as: UInt32.self))
        guard length > 0 else { return "zero record length" }
        guard length <= maximumPayload else { return "implausible record length \(length)" }
        end = offset + headerSize + length
        guard end <= bytes.count else { return "incomplete record (\(length) bytes announced)" }
        let payload = UnsafeRawBufferPointer(rebasing: bytes[(offset + headerSize)..<end])
        guard CRC32C.checksum(payload) == crc else { return "checksum mismatch" }
        return nil
    }

    /// The offset of the first good record after `offset`, looking at every byte offset: a
    /// record whose header and checksum validate and whose payload decodes as one operation (so
    /// that junk matching a checksum by chance, 1 in 2^32 per offset, is not taken for data).
    /// The payload is decoded before its checksum is computed: junk fails to decode within a
    /// few bytes, while a checksum costs the whole announced length, which would make a long
    /// junk tail quadratic.
    static func nextGoodRecord(after offset: Int, in bytes: UnsafeRawBufferPointer) -> Int? {
        var at = offset + 1
        while at + headerSize < bytes.count {
            defer { at += 1 }
            let length = Int(UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: at, as: UInt32.self)))
            let end = at + headerSize + length
            guard length > 0, end <= bytes.count else { continue }
            let payload = UnsafeRawBufferPointer(rebasing: bytes[(at + headerSize)..<end])
            var r = BinaryReader(payload)
            guard (try? HeapOperation.decode(from: &r)) != nil, r.isAtEnd else { continue }
            let crc = UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: at + 4, as: UInt32.self))
            if CRC32C.checksum(payload) == crc { return at }
        }
        return nil
    }

    /// Walks the records of `bytes`, calling `body` with each good payload and its offset, up to
    /// the end or the first damage.
    public static func scan(
        _ bytes: UnsafeRawBufferPointer,
        _ body: (UnsafeRawBufferPointer, Int) throws -> Void
    ) rethrows -> (ending: Ending, goodLength: Int) {
        var offset = 0
        while offset < bytes.count {
            var end = 0
            if let reason = problem(at: offset, in: bytes, end: &end) {
                if let next = nextGoodRecord(after: offset, in: bytes) {
                    return (.corrupt(offset: offset, reason: reason, next: next), offset)
                }
                return (.tornTail(offset: offset, reason: reason), offset)
            }
            try body(UnsafeRawBufferPointer(rebasing: bytes[(offset + headerSize)..<end]), offset)
            offset = end
        }
        return (.clean, offset)
    }
}
