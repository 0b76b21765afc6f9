/// Which generation each object is in, without storing the generation in the object.
///
/// gcmodule.c moves a whole generation with `gc_list_merge` in O(1): `gc.freeze()` merges every
/// generation into the permanent one, `gc.unfreeze()` the permanent one into the oldest, and no
/// object is visited. heapd also answers "which generation is this object in" (`inspect`,
/// `objects`) in O(1), so each object carries a 4-bit list code and this table says which
/// generation a code stands for. A merge re-labels the codes of the list it empties (16 entries,
/// not millions of objects) and gives that list a fresh code. Each code also counts its objects,
/// so generation sizes (`stats`, `gc.get_freeze_count()`) are sums of 16 counters, not list walks.
///
/// Codes run out only when many merges leave objects under many codes (a code is free again when
/// its last object leaves): about five `gc.freeze()` calls with no full collection between
/// them, since a full collection re-labels every survivor. Then `ObjectTable.relabelLists`
/// walks the lists once (O(objects)), so freeze and unfreeze stay O(1) amortised.
struct GenerationCodes: Sendable {
    static let codeCount = 16
    /// `generation[c]`: the generation (0, 1, 2, 3 = permanent) the objects under code c are in.
    private(set) var generation: [UInt8]
    /// Objects under each code.
    var members: [Int]
    /// The code that objects entering generation g get.
    private(set) var current: [UInt8]
    /// How often the codes ran out and every list was relabelled (for tests and `stats`' cost).
    private(set) var relabellings = 0

    /// Codes 0-3 for generations 0-3: the identity, as a heap restored from a snapshot starts.
    init() {
        generation = (0..<UInt8(Self.codeCount)).map { min($0, 3) }
        members = Array(repeating: 0, count: Self.codeCount)
        current = [0, 1, 2, 3]
    }

    /// Whether every object's code is its generation (as after `init` or `relabelLists`).
    var isIdentity: Bool {
        (0..<Self.codeCount).allSatisfy { c in c < 4 ? generation[c] == UInt8(c) : members[c] == 0 }
    }

    func size(ofGeneration g: Int) -> Int {
        var n = 0
        for c in 0..<Self.codeCount where Int(generation[c]) == g { n += members[c] }
        return n
    }

    /// The codes of generations `0...g`, one bit each, and how many objects they hold.
    func codes(upTo g: Int) -> (mask: UInt16, members: Int) {
        var mask: UInt16 = 0
        var n = 0
        for c in 0..<Self.codeCount where Int(generation[c]) <= g {
            mask |= 1 << c
            n += members[c]
        }
        return (mask, n)
    }

    /// Every code of generation `from` now stands for `into`; `from` gets a free code (nil when
    /// none is free: the caller re-labels every list).
    mutating func relabel(_ from: Int, into: Int) -> Bool {
        for c in 0..<Self.codeCount where Int(generation[c]) == from { generation[c] = UInt8(into) }
        guard let fresh = freeCode() else { return false }
        generation[Int(fresh)] = UInt8(from)
        current[from] = fresh
        return true
    }

    /// A code with no objects that no generation hands out.
    private func freeCode() -> UInt8? {
        (0..<UInt8(Self.codeCount)).first { members[Int($0)] == 0 && !current.contains($0) }
    }

    /// Back to the identity, with the given generation sizes (after every object was re-labelled).
    mutating func reset(sizes: [Int]) {
        let relabellings = self.relabellings + 1
        self = GenerationCodes()
        self.relabellings = relabellings
        for g in 0...3 { members[g] = sizes[g] }
    }
}
