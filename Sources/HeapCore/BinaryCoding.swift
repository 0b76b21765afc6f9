/// Little-endian binary writing and reading for snapshots and journal records (no I/O here).
public struct BinaryWriter: Sendable {
    public private(set) var bytes: [UInt8] = []

    public init(capacity: Int = 0) { bytes.reserveCapacity(capacity) }

    /// The bytes written, handed over without a copy (the writer is left empty).
    public mutating func takeBytes() -> [UInt8] {
        defer { bytes = [] }
        return bytes
    }

    public mutating func u8(_ v: UInt8) { bytes.append(v) }

    public mutating func u32(_ v: UInt32) {
        withUnsafeBytes(of: v.littleEndian) { bytes.append(contentsOf: $0) }
    }

    public mutating func u64(_ v: UInt64) {
        withUnsafeBytes(of: v.littleEndian) { bytes.append(contentsOf: $0) }
    }

    /// Unsigned LEB128.
    public mutating func varint(_ v: UInt64) {
        var v = v
        while v >= 0x80 {
            bytes.append(UInt8(v & 0x7F) | 0x80)
            v >>= 7
        }
        bytes.append(UInt8(v))
    }

    public mutating func int(_ v: Int) { varint(UInt64(bitPattern: Int64(v))) }
    public mutating func bool(_ v: Bool) { u8(v ? 1 : 0) }

    public mutating func blob(_ b: [UInt8]) {
        varint(UInt64(b.count))
        bytes.append(contentsOf: b)
    }

    public mutating func string(_ s: String) { blob(Array(s.utf8)) }

    public mutating func optional<T>(_ v: T?, _ write: (inout BinaryWriter, T) -> Void) {
        if let v {
            u8(1)
            write(&self, v)
        } else {
            u8(0)
        }
    }

    /// The raw memory of an array of trivial values (records, field entries).
    public mutating func raw<T: BitwiseCopyable>(_ values: [T]) {
        varint(UInt64(values.count))
        values.withUnsafeBytes { bytes.append(contentsOf: $0) }
    }

    /// As `raw(_:)` for the array `(0..<count).map(element)`, without making it.
    public mutating func raw<T: BitwiseCopyable>(count: Int, _ element: (Int) -> T) {
        varint(UInt64(count))
        bytes.reserveCapacity(bytes.count + count * MemoryLayout<T>.stride)
        // A chunk at a time: appending element by element costs a call and a check each.
        var chunk: [T] = []
        chunk.reserveCapacity(min(count, 4096))
        var i = 0
        while i < count {
            let end = min(count, i + 4096)
            chunk.removeAll(keepingCapacity: true)
            for j in i..<end { chunk.append(element(j)) }
            chunk.withUnsafeBytes { bytes.append(contentsOf: $0) }
            i = end
        }
    }

    public mutating func append(_ other: [UInt8]) { bytes.append(contentsOf: other) }
}

/// Reads what `BinaryWriter` wrote; every read checks bounds and throws on truncation.
public struct BinaryReader {
    public struct Truncated: Error, CustomStringConvertible {
        public let offset: Int
        public var description: String { "data ends early at byte \(offset)" }
    }

    /// The segment being read and the position in it. Several segments read as if joined: a
    /// snapshot file's sections, where they lie in the mapped file (moving them together was a
    /// copy of the whole file into fresh memory, at ten million objects a second of recovery).
    private var bytes: UnsafeRawBufferPointer
    private var position = 0
    private let segments: [UnsafeRawBufferPointer]
    private var segment = 0
    /// Bytes of the segments before the current one, and after it.
    private var before = 0
    private var after: Int
    /// Values that straddle two segments, copied together (kept as long as the reader).
    private var straddling: StraddlingValues?

    public init(_ bytes: UnsafeRawBufferPointer) { self.init(segments: [bytes]) }

    public init(segments: [UnsafeRawBufferPointer]) {
        self.segments = segments
        bytes = segments.first ?? UnsafeRawBufferPointer(start: nil, count: 0)
        after = segments.dropFirst().reduce(0) { $0 + $1.count }
    }

    /// Bytes read so far.
    public var offset: Int { before + position }
    public var isAtEnd: Bool { remaining == 0 }
    public var remaining: Int { bytes.count - position + after }

    public mutating func take(_ n: Int) throws(Truncated) -> UnsafeRawBufferPointer {
        guard n >= 0, n <= bytes.count - position else { return try takeAcross(n) }
        defer { position += n }
        return UnsafeRawBufferPointer(rebasing: bytes[position..<position + n])
    }

    /// `take` past the current segment's end: from the next segment if the value starts there
    /// (a writer's pieces hold whole values), else copied together from both.
    private mutating func takeAcross(_ n: Int) throws(Truncated) -> UnsafeRawBufferPointer {
        guard n >= 0, n <= remaining else { throw Truncated(offset: offset) }
        while position == bytes.count && n > 0 { nextSegment() }
        if n <= bytes.count - position { return try take(n) }
        let joined = UnsafeMutableRawBufferPointer.allocate(byteCount: n, alignment: 8)
        if straddling == nil { straddling = StraddlingValues() }
        straddling!.buffers.append(joined)
        copy(n, to: joined.baseAddress!)
        return UnsafeRawBufferPointer(joined)
    }

    private mutating func nextSegment() {
        before += bytes.count
        segment += 1
        bytes = segments[segment]
        after -= bytes.count
        position = 0
    }

    /// Copies the next `n` bytes (at most `remaining`) to `destination`, segment by segment.
    private mutating func copy(_ n: Int, to destination: UnsafeMutableRawPointer) {
        var done = 0
        while done < n {
            if position == bytes.count { nextSegment() }
            let k = min(n - done, bytes.count - position)
            guard k > 0 else { continue }  // an empty segment (whose address may be nil)
            (destination + done).copyMemory(from: bytes.baseAddress! + position, byteCount: k)
            position += k
            done += k
        }
    }

    public mutating func u8() throws(Truncated) -> UInt8 { try take(1)[0] }

    public mutating func u32() throws(Truncated) -> UInt32 {
        UInt32(littleEndian: try take(4).loadUnaligned(as: UInt32.self))
    }

    public mutating func u64() throws(Truncated) -> UInt64 {
        UInt64(littleEndian: try take(8).loadUnaligned(as: UInt64.self))
    }

    public mutating func varint() throws(Truncated) -> UInt64 {
        var result: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            let b = try u8()
            guard shift < 64 else { throw Truncated(offset: offset) }
            result |= UInt64(b & 0x7F) << shift
            if b & 0x80 == 0 { return result }
            shift += 7
        }
    }

    public mutating func int() throws(Truncated) -> Int { Int(Int64(bitPattern: try varint())) }
    public mutating func bool() throws(Truncated) -> Bool { try u8() != 0 }

    public mutating func blob() throws(Truncated) -> [UInt8] {
        let n = try varint()
        guard n <= UInt64(remaining) else { throw Truncated(offset: offset) }
        return [UInt8](unsafeUninitializedCapacity: Int(n)) { buffer, count in
            if n > 0 { copy(Int(n), to: buffer.baseAddress!) }
            count = Int(n)
        }
    }

    public mutating func string() throws(Truncated) -> String { String(decoding: try blob(), as: UTF8.self) }

    public mutating func optional<T>(_ read: (inout BinaryReader) throws(Truncated) -> T) throws(Truncated) -> T? {
        try u8() == 0 ? nil : try read(&self)
    }

    public mutating func raw<T: BitwiseCopyable>(_ type: T.Type) throws(Truncated) -> [T] {
        let n = try varint()
        let size = MemoryLayout<T>.stride
        guard n <= UInt64(remaining / max(size, 1)) else { throw Truncated(offset: offset) }
        return [T](unsafeUninitializedCapacity: Int(n)) { buffer, count in
            if n > 0 && size > 0 { copy(Int(n) * size, to: UnsafeMutableRawPointer(buffer.baseAddress!)) }
            count = Int(n)
        }
    }
}

/// Owns the copies of values that straddle two segments of a `BinaryReader`.
private final class StraddlingValues {
    var buffers: [UnsafeMutableRawBufferPointer] = []
    deinit { for b in buffers { b.deallocate() } }
}
