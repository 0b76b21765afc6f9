/// Why is it alive: shortest paths from the root holders to one object.
extension HeapGraph {
    /// A shortest path from one holder: the slots from an object it holds to the target (both
    /// included) and, per step, the index of the field (in field order) that makes it.
    struct HolderPath {
        var holder: RootHolder
        var slots: [Slot]
        var fieldIndices: [Int]
    }

    /// For each holder that reaches `target`, one shortest path from it; sorted by length, then
    /// holder (SPEC §5), the first `limit`. A breadth-first search backwards from the target
    /// gives objects' distances to it, level by level; it stops after the level at which
    /// `limit` holders have been reached (every holder not reached by then is farther, so sorts
    /// after them). Each holder's start is its held object nearest the target (the smaller id on
    /// a tie), and the path follows, from there, the first field (in field order) that leads one
    /// step closer. O(slots + edges) at worst (an unreachable target explores all its ancestors).
    func shortestPaths(to target: Slot, limit: Int) -> [HolderPath] {
        let (predStart, preds) = predecessors()
        // Which holders hold each slot: the first in `firstHolder`, any others in `moreHolders`.
        var firstHolder = [Int32](repeating: -1, count: slotCount)
        var moreHolders: [Slot: [Int32]] = [:]
        for (h, entry) in holders.enumerated() {
            for s in entry.slots {
                if firstHolder[Int(s)] < 0 {
                    firstHolder[Int(s)] = Int32(h)
                } else {
                    moreHolders[s, default: []].append(Int32(h))
                }
            }
        }
        var reached = [Bool](repeating: false, count: holders.count)
        var reachedCount = 0
        func discover(_ s: Slot) {
            let h = firstHolder[Int(s)]
            guard h >= 0 else { return }
            for x in [h] + (moreHolders[s] ?? []) where !reached[Int(x)] {
                reached[Int(x)] = true
                reachedCount += 1
            }
        }
        var distance = [Int32](repeating: -1, count: slotCount)
        distance[Int(target)] = 0
        discover(target)
        var queue: [Slot] = [target]
        var levelStart = 0
        distance.withUnsafeMutableBufferPointer { dist in
            predStart.withUnsafeBufferPointer { starts in
                preds.withUnsafeBufferPointer { sources in
                    while levelStart < queue.count && reachedCount < min(limit, holders.count) {
                        let levelEnd = queue.count
                        for q in levelStart..<levelEnd {
                            let v = Int(queue[q])
                            let d = dist[v] + 1
                            for i in Int(starts[v])..<Int(starts[v + 1]) {
                                let u = sources[i]
                                if dist[Int(u)] < 0 {
                                    dist[Int(u)] = d
                                    queue.append(u)
                                    if firstHolder[Int(u)] >= 0 { discover(u) }
                                }
                            }
                        }
                        levelStart = levelEnd
                    }
                }
            }
        }
        var found: [HolderPath] = []
        for (holder, slots) in holders {
            // `slots` ascend by id, so the first at the least distance is the smallest id.
            var best: Slot?
            for s in slots where distance[Int(s)] >= 0 {
                if best == nil || distance[Int(s)] < distance[Int(best!)] { best = s }
            }
            guard let start = best else { continue }
            var path = HolderPath(holder: holder, slots: [start], fieldIndices: [])
            var v = start
            while v != target {
                let want = distance[Int(v)] - 1
                let r = edges(v)
                let e = r.first { distance[Int(successors[$0])] == want }!
                path.fieldIndices.append(e - r.lowerBound)
                v = successors[e]
                path.slots.append(v)
            }
            found.append(path)
        }
        // Holders are already in holder order; a stable sort by length keeps it among equals.
        let ordered = found.enumerated().sorted {
            $0.element.slots.count != $1.element.slots.count
                ? $0.element.slots.count < $1.element.slots.count : $0.offset < $1.offset
        }
        return ordered.prefix(limit).map(\.element)
    }
}
