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

    public mutating func append(_ other: [UInt8]) { bytes.append(contentsOf: other) }
}

/// Reads what `BinaryWriter` wrote; every read checks bounds and throws on truncation.
public struct BinaryReader {
    public struct Truncated: Error, CustomStringConvertible {
        public let offset: Int
        public var description: String { "data ends early at byte \(offset)" }
    }

    let bytes: UnsafeRawBufferPointer
    public private(set) var offset = 0

    public init(_ bytes: UnsafeRawBufferPointer) { self.bytes = bytes }

    public var isAtEnd: Bool { offset >= bytes.count }
    public var remaining: Int { bytes.count - offset }

    public mutating func take(_ n: Int) throws(Truncated) -> UnsafeRawBufferPointer {
        guard n >= 0, offset + n <= bytes.count else { throw Truncated(offset: offset) }
        defer { offset += n }
        return UnsafeRawBufferPointer(rebasing: bytes[offset..<offset + n])
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
        guard n <= UInt64(bytes.count) else { throw Truncated(offset: offset) }
        return Array(try take(Int(n)))
    }

    public mutating func string() throws(Truncated) -> String { String(decoding: try blob(), as: UTF8.self) }

    public mutating func optional<T>(_ read: (inout BinaryReader) throws(Truncated) -> T) throws(Truncated) -> T? {
        try u8() == 0 ? nil : try read(&self)
    }

    public mutating func raw<T: BitwiseCopyable>(_ type: T.Type) throws(Truncated) -> [T] {
        let n = try varint()
        let size = MemoryLayout<T>.stride
        guard n <= UInt64(bytes.count / max(size, 1)) else { throw Truncated(offset: offset) }
        let region = try take(Int(n) * size)
        return [T](unsafeUninitializedCapacity: Int(n)) { buffer, count in
            UnsafeMutableRawBufferPointer(buffer).copyMemory(from: region)
            count = Int(n)
        }
    }
}
