/// Why is it alive, searched from the holders' side: the same answer as the search backwards
/// from the target (``HeapGraph/shortestPathsFromTarget(to:limit:bottomUpRatio:heldShortcut:heldCheckWork:)``),
/// found without the graph's reverse edges. On a big heap the reverse edges cost more than most
/// searches: a counting sort of every edge, hundreds of megabytes at ten million objects, while
/// an object is often a few steps from a root whose descendants within those steps are few.
extension HeapGraph {
    /// How many edges and objects a search from the holders reads before it gives up for the
    /// search backwards: a small share of the graph, so giving up costs little beside that search.
    static func holderSideBudget(slots: Int, edges: Int) -> Int { max(1 << 16, (slots + edges) / 32) }

    /// The budget once the reverse edges are computed: objects near a holder are still found
    /// here, in well under a millisecond, the others from the target's side.
    static let holderSideGlance = 1 << 16

    /// `shortestPathsFromTarget`'s answer, or nil when finding it here would read more than
    /// `budget` edges and objects (checked before each object is expanded and before each look
    /// at the region, so a held object with millions of fields gives up at once).
    ///
    /// A breadth-first search forwards from every held object at once finds the region of
    /// objects within `radius` steps of one. The distances to the target within that region
    /// (a breadth-first search backwards over its own edges) are the true ones for every held
    /// object at most `radius` from the target, and for every object on its shortest paths:
    /// each of those is itself within `radius` of that held object, and so is any object a step
    /// off such a path that is one step nearer the target. So every holder that reaches the
    /// target in at most `radius` steps is known exactly, and every other one needs more; once
    /// `limit` holders are known (or the region is closed: nothing more is reachable), they are
    /// the answer, each path chosen by the same rule on the same distances (see the search
    /// from the target). `regionSize` (tests) gets how many objects it found.
    func shortestPathsFromHolders(
        to target: Slot, limit: Int, budget: Int, regionSize: UnsafeMutablePointer<Int>? = nil
    ) -> [HolderPath]? {
        let wanted = min(limit, holders.count)
        guard wanted > 0 else { return [] }
        var work = holders.reduce(0) { $0 + $1.slots.count }
        guard work <= budget else { return nil }
        var place = SlotPlaces()  // region index of each object found
        var region: [Slot] = []
        defer { regionSize?.pointee = region.count }
        for (_, slots) in holders {
            for s in slots where place.insert(s, at: Int32(region.count)) { region.append(s) }
        }
        var level = 0..<region.count
        var radius = 0
        var lastChecked = 0
        while true {
            let closed = level.isEmpty
            // Checked when the target is first found, then each time the region doubles: the
            // checks cost O(region) together.
            if place[target] != nil && (closed || lastChecked == 0 || region.count >= 2 * lastChecked) {
                // The look reads the edges of the level not yet expanded too.
                work += level.reduce(0) { $0 + edges(region[$1]).count }
                guard work <= budget else { return nil }
                lastChecked = region.count
                if let found = answerWithin(
                    region, place, target: target, radius: closed ? nil : radius, wanted: wanted)
                {
                    return Array(found.prefix(limit))
                }
            }
            if closed { return [] }
            for i in level {
                let out = edges(region[i])
                work += 1 + out.count
                guard work <= budget else { return nil }
                for e in out {
                    let t = successors[e]
                    if place.insert(t, at: Int32(region.count)) { region.append(t) }
                }
            }
            level = level.upperBound..<region.count
            radius += 1
        }
    }

    /// The holders' paths from distances to the target within the region, when they decide the
    /// answer: `radius` nil (the region is closed) or at least `wanted` holders within `radius`.
    private func answerWithin(
        _ region: [Slot], _ place: SlotPlaces, target: Slot, radius: Int?, wanted: Int
    ) -> [HolderPath]? {
        // The region's reverse edges, in CSR, and distances to the target over them.
        var start = [Int32](repeating: 0, count: region.count + 1)
        var pairs: [(to: Int32, from: Int32)] = []
        for (i, s) in region.enumerated() {
            for e in edges(s) {
                if let j = place[successors[e]] {
                    pairs.append((j, Int32(i)))
                    start[Int(j) + 1] += 1
                }
            }
        }
        for i in 0..<region.count { start[i + 1] += start[i] }
        var cursor = start
        var from = [Int32](repeating: 0, count: pairs.count)
        for p in pairs {
            from[Int(cursor[Int(p.to)])] = p.from
            cursor[Int(p.to)] += 1
        }
        var distance = [Int32](repeating: -1, count: region.count)
        var queue = [place[target]!]
        distance[Int(queue[0])] = 0
        var head = 0
        while head < queue.count {
            let v = Int(queue[head])
            head += 1
            for k in Int(start[v])..<Int(start[v + 1]) where distance[Int(from[k])] < 0 {
                distance[Int(from[k])] = distance[v] + 1
                queue.append(from[k])
            }
        }
        func distanceToTarget(_ s: Slot) -> Int32 {
            guard let i = place[s] else { return -1 }
            return distance[Int(i)]
        }
        let found = holderPaths(known: radius.map(Int32.init) ?? .max, distanceToTarget: distanceToTarget)
        guard radius == nil || found.count >= wanted else { return nil }
        return found
    }
}
