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
    /// One scope's references to one object: how many, and where the latest of them sits in
    /// the scope's `orders` (each entry of `orders` links to the previous one of the same object
    /// through `previous`), so that `unref` finds and drops the latest in O(1).
    struct Held: Sendable, Equatable {
        var count: UInt32
        var latest: UInt32
    }

    var name: String?
    /// Per scope: the references to each object it holds (the lookups of ref/unref).
    private(set) var frames: [[Slot: Held]] = [[:]]
    /// Per scope: the references it holds, in the order they were taken (the release order);
    /// a dropped reference leaves a 0 (slot 0 is a list sentinel, never an object) until the
    /// holes outnumber the references and the scope is compacted (amortised O(1) per drop).
    private var orders: [[Slot]] = [[]]
    /// Per scope, parallel to `orders`: the index of the previous reference to the same object
    /// in that scope (UInt32.max: none).
    private var previous: [[UInt32]] = [[]]
    private var holes: [Int] = [0]
    /// Seconds of inactivity after which the daemon closes the session (as Java RMI's DGC
    /// leases); nil: it lives until closed.
    var leaseSeconds: Double?

    init(name: String?) { self.name = name }

    func count(_ slot: Slot) -> UInt32 {
        frames.reduce(0) { $0 + ($1[slot]?.count ?? 0) }
    }

    var totalReferences: Int { frames.reduce(0) { $0 + $1.values.reduce(0) { $0 + Int($1.count) } } }

    mutating func take(_ slot: Slot) {
        let f = frames.count - 1
        let at = UInt32(orders[f].count)
        let held = frames[f][slot]
        previous[f].append(held?.latest ?? .max)
        orders[f].append(slot)
        frames[f][slot] = Held(count: (held?.count ?? 0) + 1, latest: at)
    }

    /// Drops one reference from the innermost scope holding `slot`; false if none holds it.
    /// The most recent reference to it goes. O(1) amortised.
    mutating func drop(_ slot: Slot) -> Bool {
        for f in frames.indices.reversed() {
            guard let held = frames[f][slot] else { continue }
            let at = Int(held.latest)
            orders[f][at] = 0
            frames[f][slot] = held.count == 1 ? nil : Held(count: held.count - 1, latest: previous[f][at])
            holes[f] += 1
            if holes[f] > 64 && holes[f] * 2 > orders[f].count { compact(f) }
            return true
        }
        return false
    }

    /// Removes the holes of scope `f` and renumbers its links.
    private mutating func compact(_ f: Int) {
        let refs = orders[f].filter { $0 != 0 }
        orders[f] = []
        previous[f] = []
        holes[f] = 0
        frames[f] = [:]
        orders[f].reserveCapacity(refs.count)
        previous[f].reserveCapacity(refs.count)
        for slot in refs {
            let at = UInt32(orders[f].count)
            let held = frames[f][slot]
            previous[f].append(held?.latest ?? .max)
            orders[f].append(slot)
            frames[f][slot] = Held(count: (held?.count ?? 0) + 1, latest: at)
        }
    }

    mutating func enterScope() {
        frames.append([:])
        orders.append([])
        previous.append([])
        holes.append(0)
    }

    /// Leaves the innermost scope: its references, in the order they were taken.
    mutating func exitScope() -> [Slot] {
        frames.removeLast()
        previous.removeLast()
        holes.removeLast()
        return orders.removeLast().filter { $0 != 0 }
    }

    /// Forgets every reference (they moved elsewhere).
    mutating func removeAll() {
        frames = [[:]]
        orders = [[]]
        previous = [[]]
        holes = [0]
    }

    /// Each scope's references in the order taken, for snapshots.
    var scopes: [[Slot]] { orders.map { $0.filter { $0 != 0 } } }

    /// A session restored from a snapshot's scopes (references in the order taken).
    mutating func restore(scopes: [[Slot]]) {
        let scopes = scopes.isEmpty ? [[]] : scopes
        removeAll()
        for (i, refs) in scopes.enumerated() {
            if i > 0 { enterScope() }
            for slot in refs { take(slot) }
        }
    }

    /// Every slot held in any scope with its count (a slot held in two scopes appears twice).
    var allHeld: [(Slot, UInt32)] { frames.flatMap { $0.map { ($0.key, $0.value.count) } } }
}
