/// Limits a heap enforces on allocation (nothing referenced is ever evicted).
public struct HeapLimits: Sendable, Equatable {
    public var maxObjects: Int
    public var maxBytes: UInt64
    /// Named roots at once. Each costs its name (at most 1 KiB over the wire) and an entry.
    public var maxRoots: Int
    /// Named sessions at once (anonymous ones are one per connection, bounded by the
    /// server's client limit). Each costs its name and its reference tables.
    public var maxSessions: Int
    /// Longest field name, in UTF-8 bytes (as the wire caps type, root and session names).
    public static let maxFieldNameBytes = 1024
    /// Largest `size` of one object: the integers JSON carries exactly (as ids), so every
    /// size, and every sum of sizes up to the heap's UInt64 total, can be reported.
    public static let maxObjectSize: UInt64 = 1 << 53 - 1

    /// Defaults bound the name tables to about 100 MiB of names at worst: 100,000 roots and
    /// 10,000 named sessions of 1 KiB names.
    public init(
        maxObjects: Int = .max, maxBytes: UInt64 = .max, maxRoots: Int = 100_000,
        maxSessions: Int = 10_000
    ) {
        self.maxObjects = maxObjects
        self.maxBytes = maxBytes
        self.maxRoots = maxRoots
        self.maxSessions = maxSessions
    }

    static func checkFieldName(_ name: String) throws(HeapError) {
        guard !name.isEmpty else { throw .emptyFieldName }
        guard name.utf8.count <= maxFieldNameBytes else { throw .fieldNameTooLong(limit: maxFieldNameBytes) }
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
