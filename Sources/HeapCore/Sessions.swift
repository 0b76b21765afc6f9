/// Identifies a holder of external references (a client session) inside the heap.
public struct SessionID: Hashable, Comparable, Sendable, CustomStringConvertible {
    public let raw: UInt64
    public init(raw: UInt64) { self.raw = raw }
    public var description: String { String(raw) }
    public static func < (a: SessionID, b: SessionID) -> Bool { a.raw < b.raw }
}

/// The references one session holds, per scope (frame 0 is the session itself).
///
/// A reference is taken in the innermost scope; `unref` drops it from the innermost scope that
/// holds one, and leaving a scope drops what that scope still holds, as a function's locals go
/// when it returns.
struct SessionRefs: Sendable {
    var name: String?
    var frames: [[Slot: UInt32]] = [[:]]
    /// Seconds of inactivity after which the daemon closes the session (as Java RMI's DGC
    /// leases); nil: it lives until closed.
    var leaseSeconds: Double?

    func count(_ slot: Slot) -> UInt32 {
        frames.reduce(0) { $0 + ($1[slot] ?? 0) }
    }

    var totalReferences: Int { frames.reduce(0) { $0 + $1.values.reduce(0) { $0 + Int($1) } } }

    mutating func take(_ slot: Slot) {
        frames[frames.count - 1][slot, default: 0] += 1
    }

    /// Drops one reference from the innermost scope holding `slot`; false if none holds it.
    mutating func drop(_ slot: Slot) -> Bool {
        for f in frames.indices.reversed() {
            if let n = frames[f][slot] {
                frames[f][slot] = n == 1 ? nil : n - 1
                return true
            }
        }
        return false
    }

    /// Every slot held in any scope with its count (a slot held in two scopes appears twice).
    var allHeld: [(Slot, UInt32)] { frames.flatMap { $0.map { ($0.key, $0.value) } } }
}
