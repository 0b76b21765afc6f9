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
    /// holder (SPEC §5). One breadth-first search backwards from the target gives every object's
    /// distance to it, so each holder's best start is its held object nearest the target (the
    /// smaller id on a tie), and the path follows, from there, the first field (in field order)
    /// that leads one step closer. O(slots + edges).
    func shortestPaths(to target: Slot, limit: Int) -> [HolderPath] {
        let (predStart, preds) = predecessors()
        var distance = [Int32](repeating: -1, count: slotCount)
        distance[Int(target)] = 0
        var queue: [Slot] = [target]
        var head = 0
        while head < queue.count {
            let v = queue[head]
            head += 1
            let d = distance[Int(v)] + 1
            for i in Int(predStart[Int(v)])..<Int(predStart[Int(v) + 1]) {
                let u = preds[i]
                if distance[Int(u)] < 0 {
                    distance[Int(u)] = d
                    queue.append(u)
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
