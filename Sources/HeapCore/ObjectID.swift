/// The public name of an object: an integer in 1..<2^53 that is never reused within one heap.
///
/// The low 32 bits name a slot of the object table (so resolving an id is one array index),
/// the high 21 bits count how often that slot was reused. A slot whose reuse count would pass
/// 21 bits is retired instead, so an id can never come back.
public struct ObjectID: Hashable, Comparable, Sendable, CustomStringConvertible {
    public let raw: UInt64

    public init(raw: UInt64) { self.raw = raw }

    /// Largest reuse count an id can carry: 53 bits - 32 slot bits.
    static let maxReuse: UInt32 = (1 << 21) - 1

    init(slotOrdinal: UInt32, reuse: UInt32) {
        raw = (UInt64(reuse) << 32) | UInt64(slotOrdinal)
    }

    /// 1-based slot ordinal (0 never names an object).
    var slotOrdinal: UInt32 { UInt32(truncatingIfNeeded: raw) }
    var reuse: UInt64 { raw >> 32 }

    /// Whether the raw value is in the id range at all (1..<2^53).
    public var isWellFormed: Bool { raw > 0 && raw < (1 << 53) && slotOrdinal != 0 }

    public var description: String { String(raw) }
    public static func < (a: ObjectID, b: ObjectID) -> Bool { a.raw < b.raw }
}
