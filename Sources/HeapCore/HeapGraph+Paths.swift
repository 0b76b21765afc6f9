/// Why is it alive: shortest paths from the root holders to one object.
extension HeapGraph {
    /// A BFS level is expanded bottom up once this many times its size reaches the objects not yet
    /// reached: each bottom-up pass then costs a bounded multiple of the level it expands.
    static let bottomUpRatio = 16

    /// A shortest path from one holder: the slots from an object it holds to the target (both
    /// included) and, per step, the index of the field (in field order) that makes it.
    struct HolderPath {
        var holder: RootHolder
        var slots: [Slot]
        var fieldIndices: [Int]
    }

    /// For each holder that reaches `target`, one shortest path from it; sorted by length, then
    /// holder (SPEC §5), the first `limit`. Searched from the holders' side while that reads at
    /// most `holderSideBudget` edges and objects (``shortestPathsFromHolders(to:limit:budget:)``),
    /// else from the target's. Both sides give the same answer; which is cheaper depends on the
    /// heap (an old object with many referrers: the holders'; an object far from them whose
    /// referrers are few: the target's), but only the target's side needs the reverse edges. So
    /// while they are not computed the holders' side has a share of the graph to find the answer
    /// in (``holderSideBudget(slots:edges:)``), and once they are, a few thousand objects.
    func shortestPaths(to target: Slot, limit: Int, holderSideBudget budget: Int? = nil) -> [HolderPath] {
        let budget =
            budget
            ?? (hasPredecessors
                ? Self.holderSideGlance : Self.holderSideBudget(slots: slotCount, edges: successors.count))
        return shortestPathsFromHolders(to: target, limit: limit, budget: budget)
            ?? shortestPathsFromTarget(to: target, limit: limit)
    }

    /// ``shortestPaths(to:limit:holderSideBudget:)`` searched from the target's side. A
    /// breadth-first search backwards from the target
    /// gives objects' distances to it, level by level; it stops after the level at which
    /// `limit` holders have been reached (every holder not reached by then is farther, so sorts
    /// after them). Each holder's start is its held object nearest the target (the smaller id on
    /// a tie), and the path follows, from there, the first field (in field order) that leads one
    /// step closer. O(slots + edges) at worst (an unreachable target explores all its ancestors).
    /// `heldCheckWork` (tests) adds up what the checks among the held objects read.
    func shortestPathsFromTarget(
        to target: Slot, limit: Int, bottomUpRatio: Int = Self.bottomUpRatio, heldShortcut: Bool = true,
        heldCheckWork: UnsafeMutablePointer<Int>? = nil
    ) -> [HolderPath] {
        let (predStart, preds) = predecessors()
        let held = searchScratch.holderIndex { PathSearchScratch.HolderIndex(holders, of: self) }
        var reached = [Bool](repeating: false, count: holders.count)
        var reachedCount = 0
        func discover(_ s: Slot) {
            held.forEachHolder(of: s) { x in
                if !reached[Int(x)] {
                    reached[Int(x)] = true
                    reachedCount += 1
                }
            }
        }
        var distance = searchScratch.takeDistances(count: slotCount)
        // Level-synchronous, as Beamer's direction-optimizing BFS: a small level expands
        // through its objects' referrers ("top down"); a large one is found from the other side
        // ("bottom up"): every object not yet reached, in memory order, joins the next level if
        // one of its fields points into this level. Bottom-up reads the forward edges in order
        // and two bitsets that stay in cache, instead of scattered reads over the whole heap.
        // Both give each object the same distance, and the levels are the same sets, so the
        // holders found per level and the stopping point do not depend on the direction.
        let words = (slotCount + 63) / 64
        var visited = [UInt64](repeating: 0, count: words)
        var inLevel = [UInt64](repeating: 0, count: words)
        var level: [Slot] = [target]
        distance[Int(target)] = 0
        visited[Int(target) >> 6] |= 1 << (UInt64(target) & 63)
        discover(target)
        var d: Int32 = 0
        var reachedSlots = 1
        let wanted = min(limit, holders.count)
        while !level.isEmpty && reachedCount < wanted {
            d += 1
            // The last level need not be found whole: only its held objects can start a path.
            // When the held objects and their fields are fewer than this level's objects, they
            // are checked directly; if those one step beyond this level bring enough holders,
            // they are given their distance and the search ends (at ten million objects the last
            // level is often the largest). Bounded by the level, a check that fails costs no more
            // than expanding it, so the search stays O(slots + edges): a registry of n fields
            // holding the head of an n-long list would otherwise be checked at each of n levels.
            let checkHeld = heldShortcut && held.slots.count <= level.count && held.fieldCount <= level.count
            let bottomUp = level.count * bottomUpRatio >= slotCount - reachedSlots
            // Both read the level as a bitset: set once, cleared after the level is expanded.
            if checkHeld || bottomUp { for v in level { inLevel[Int(v) >> 6] |= 1 << (UInt64(v) & 63) } }
            if checkHeld {
                heldCheckWork?.pointee += level.count + held.fieldCount
                var last: [Slot] = []
                for s in held.objects where visited[Int(s) >> 6] & (1 << (UInt64(s) & 63)) == 0 {
                    if edges(s).contains(where: { e in
                        let t = successors[e]
                        return inLevel[Int(t) >> 6] & (1 << (UInt64(t) & 63)) != 0
                    }) {
                        last.append(s)
                    }
                }
                var holdersThen = Set<Int32>()
                for s in last { held.forEachHolder(of: s) { x in if !reached[Int(x)] { holdersThen.insert(x) } } }
                if reachedCount + holdersThen.count >= wanted {
                    for s in last {
                        distance[Int(s)] = d
                        visited[Int(s) >> 6] |= 1 << (UInt64(s) & 63)
                        discover(s)
                    }
                    break
                }
            }
            var next: [Slot] = []
            if bottomUp {
                successorStart.withUnsafeBufferPointer { starts in
                    successors.withUnsafeBufferPointer { succ in
                        for w in 0..<words where visited[w] != .max {
                            var unseen = ~visited[w]
                            while unseen != 0 {
                                let u = w << 6 | unseen.trailingZeroBitCount
                                unseen &= unseen - 1
                                guard u < slotCount else { break }
                                for e in Int(starts[u])..<Int(starts[u + 1]) {
                                    let t = Int(succ[e])
                                    if inLevel[t >> 6] & (1 << (UInt64(t) & 63)) != 0 {
                                        next.append(Slot(u))
                                        break
                                    }
                                }
                            }
                        }
                    }
                }
                for u in next { visited[Int(u) >> 6] |= 1 << (UInt64(u) & 63) }
            } else {
                predStart.withUnsafeBufferPointer { starts in
                    preds.withUnsafeBufferPointer { sources in
                        for v in level {
                            for i in Int(starts[Int(v)])..<Int(starts[Int(v) + 1]) {
                                let u = Int(sources[i])
                                if visited[u >> 6] & (1 << (UInt64(u) & 63)) == 0 {
                                    visited[u >> 6] |= 1 << (UInt64(u) & 63)
                                    next.append(Slot(u))
                                }
                            }
                        }
                    }
                }
            }
            if checkHeld || bottomUp { for v in level { inLevel[Int(v) >> 6] = 0 } }
            reachedSlots += next.count
            for u in next {
                distance[Int(u)] = d
                discover(u)
            }
            level = next
        }
        let found = holderPaths { distance[Int($0)] }
        // Every distance set is a visited slot's: back to -1 for the next search.
        for w in 0..<words where visited[w] != 0 {
            var bits = visited[w]
            while bits != 0 {
                distance[w << 6 | bits.trailingZeroBitCount] = -1
                bits &= bits - 1
            }
        }
        searchScratch.giveBack(distance)
        return Array(found.prefix(limit))
    }

    /// The path rule both searches share, from distances to the target (-1: not known; only
    /// those at most `known` count): each holder's start is its held object nearest the target
    /// (`slots` ascend by id, so the first at the least distance is the smallest id), then each
    /// step the first field (in field order) one step nearer. Holders that reach it, shortest
    /// path first, then in holder order.
    func holderPaths(known: Int32 = .max, distanceToTarget: (Slot) -> Int32) -> [HolderPath] {
        var found: [HolderPath] = []
        for (holder, slots) in holders {
            var best: (slot: Slot, distance: Int32)?
            for s in slots {
                let d = distanceToTarget(s)
                if d >= 0 && d <= known && (best == nil || d < best!.distance) { best = (s, d) }
            }
            guard let start = best else { continue }
            var path = HolderPath(holder: holder, slots: [start.slot], fieldIndices: [])
            var (v, d) = start
            while d > 0 {
                let r = edges(v)
                let e = r.first { distanceToTarget(successors[$0]) == d - 1 }!
                path.fieldIndices.append(e - r.lowerBound)
                (v, d) = (successors[e], d - 1)
                path.slots.append(v)
            }
            found.append(path)
        }
        // Holders are already in holder order; a stable sort by length keeps it among equals.
        return found.enumerated().sorted {
            $0.element.slots.count != $1.element.slots.count
                ? $0.element.slots.count < $1.element.slots.count : $0.offset < $1.offset
        }.map(\.element)
    }
}
