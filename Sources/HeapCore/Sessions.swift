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
/// holds one (the most recently taken of them), and leaving a scope drops what that scope still
/// holds in the order the references were taken, as a Python frame clears its locals in slot
/// order (the order of first assignment) when it returns.
struct SessionRefs: Sendable {
    var name: String?
    /// Per scope: how many references to each object it holds (the lookups of ref/unref).
    private(set) var frames: [[Slot: UInt32]] = [[:]]
    /// Per scope: the references it holds, in the order they were taken (the release order).
    private(set) var orders: [[Slot]] = [[]]
    /// Seconds of inactivity after which the daemon closes the session (as Java RMI's DGC
    /// leases); nil: it lives until closed.
    var leaseSeconds: Double?

    func count(_ slot: Slot) -> UInt32 {
        frames.reduce(0) { $0 + ($1[slot] ?? 0) }
    }

    var totalReferences: Int { frames.reduce(0) { $0 + $1.values.reduce(0) { $0 + Int($1) } } }

    mutating func take(_ slot: Slot) {
        frames[frames.count - 1][slot, default: 0] += 1
        orders[orders.count - 1].append(slot)
    }

    /// Drops one reference from the innermost scope holding `slot`; false if none holds it.
    /// The most recent reference to it goes: found from the end, where it usually is.
    mutating func drop(_ slot: Slot) -> Bool {
        for f in frames.indices.reversed() {
            if let n = frames[f][slot] {
                frames[f][slot] = n == 1 ? nil : n - 1
                if let i = orders[f].lastIndex(of: slot) { orders[f].remove(at: i) }
                return true
            }
        }
        return false
    }

    mutating func enterScope() {
        frames.append([:])
        orders.append([])
    }

    /// Leaves the innermost scope: its references, in the order they were taken.
    mutating func exitScope() -> [Slot] {
        frames.removeLast()
        return orders.removeLast()
    }

    /// Forgets every reference (they moved elsewhere).
    mutating func removeAll() {
        frames = [[:]]
        orders = [[]]
    }

    /// Each scope's references in the order taken, for snapshots.
    var scopes: [[Slot]] { orders }

    /// A session restored from a snapshot's scopes (references in the order taken).
    mutating func restore(scopes: [[Slot]]) {
        let scopes = scopes.isEmpty ? [[]] : scopes
        orders = scopes
        frames = scopes.map { refs in refs.reduce(into: [:]) { $0[$1, default: 0] += 1 } }
    }

    /// Every slot held in any scope with its count (a slot held in two scopes appears twice).
    var allHeld: [(Slot, UInt32)] { frames.flatMap { $0.map { ($0.key, $0.value) } } }
}
