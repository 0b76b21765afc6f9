import CHeapdSystem

/// CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), checked against the standard test
/// vectors in `HeapStoreTests`. With the CPU's CRC-32C instruction where there is one (x86-64
/// SSE4.2: about 10x the table's speed, which at ten million objects made checking a snapshot's
/// 560 MB cost half a second of recovery); table-driven otherwise, a byte at a time.
public enum CRC32C {
    static let table: [UInt32] = (0..<256).map { i in
        var c = UInt32(i)
        for _ in 0..<8 { c = c & 1 != 0 ? (c >> 1) ^ 0x82F6_3B78 : c >> 1 }
        return c
    }

    static let hardware = heapd_crc32c_hardware() != 0

    public static func checksum(_ bytes: UnsafeRawBufferPointer, seed: UInt32 = 0) -> UInt32 {
        guard hardware, let base = bytes.baseAddress else { return software(bytes, seed: seed) }
        return ~heapd_crc32c_update(~seed, base, bytes.count)
    }

    /// The table-driven computation (the fallback, and the hardware path's reference in tests).
    static func software(_ bytes: UnsafeRawBufferPointer, seed: UInt32 = 0) -> UInt32 {
        var crc = ~seed
        table.withUnsafeBufferPointer { t in
            for b in bytes { crc = t[Int((crc ^ UInt32(b)) & 0xFF)] ^ (crc >> 8) }
        }
        return ~crc
    }

    public static func checksum(_ bytes: [UInt8]) -> UInt32 {
        bytes.withUnsafeBytes { checksum($0) }
    }
}
