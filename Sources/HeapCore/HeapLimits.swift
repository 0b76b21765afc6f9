/// Limits a heap enforces on allocation (nothing referenced is ever evicted).
public struct HeapLimits: Sendable, Equatable {
    public var maxObjects: Int
    public var maxBytes: UInt64
    /// Largest `size` of one object: the integers JSON carries exactly (as ids), so every
    /// size, and every sum of sizes up to the heap's UInt64 total, can be reported.
    public static let maxObjectSize: UInt64 = 1 << 53 - 1

    public init(maxObjects: Int = .max, maxBytes: UInt64 = .max) {
        self.maxObjects = maxObjects
        self.maxBytes = maxBytes
    }

    /// Whether `bytes` more (and, for a new object, one more object) fit a heap that holds
    /// `objects` objects of `total` bytes. Shared by the heap and `apply`'s dry run, so both
    /// refuse with the same error. Every byte count of the heap (per type, per session, the
    /// total) is a sum of live sizes, so keeping the total within UInt64 keeps them all.
    func check(objects: Int, total: UInt64, adding bytes: UInt64, newObject: Bool) throws(HeapError) {
        if newObject && objects >= maxObjects { throw .objectQuota(limit: maxObjects, live: objects) }
        if bytes > UInt64.max - total { throw .bytesUnrepresentable(total: total, adding: bytes) }
        if total + bytes > maxBytes { throw .byteQuota(limit: maxBytes, total: total, adding: bytes) }
    }

    /// A size one object may have.
    static func checkSize(_ size: UInt64) throws(HeapError) {
        guard size <= maxObjectSize else { throw .sizeUnrepresentable(size) }
    }
}
