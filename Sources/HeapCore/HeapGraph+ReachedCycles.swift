/// Reference cycles near some objects, without a pass over the whole heap.
extension HeapGraph {
    /// The strongly connected components with more than one object or a self-edge among what
    /// `starts` reach (each as its slots). A component lies within what any of its members
    /// reaches, so every component holding one of `starts` is found, and complete. Tarjan's
    /// algorithm as in ``cycleComponents()``, only rooted at `starts`: O(slots) to set up
    /// (the index arrays), then O(objects and fields reached from `starts`).
    func cycleComponents(reachedFrom starts: [Slot]) -> [[Slot]] {
        let unvisited = Int32(-1)
        var index = [Int32](repeating: unvisited, count: slotCount)
        var low = [Int32](repeating: 0, count: slotCount)
        var onStack = [Bool](repeating: false, count: slotCount)
        var stack: [Slot] = []
        var frames: [(node: Slot, edge: Int)] = []
        var counter: Int32 = 0
        var components: [[Slot]] = []

        func visit(_ v: Slot) {
            index[Int(v)] = counter
            low[Int(v)] = counter
            counter += 1
            stack.append(v)
            onStack[Int(v)] = true
            frames.append((v, Int(successorStart[Int(v)])))
        }

        for root in starts where isLive(root) && index[Int(root)] == unvisited {
            visit(root)
            while let (v, e) = frames.last {
                if e < Int(successorStart[Int(v) + 1]) {
                    frames[frames.count - 1].edge = e + 1
                    let w = successors[e]
                    if index[Int(w)] == unvisited {
                        visit(w)
                    } else if onStack[Int(w)] {
                        low[Int(v)] = min(low[Int(v)], index[Int(w)])
                    }
                    continue
                }
                frames.removeLast()
                if let parent = frames.last?.node { low[Int(parent)] = min(low[Int(parent)], low[Int(v)]) }
                guard low[Int(v)] == index[Int(v)] else { continue }
                var members: [Slot] = []
                while true {
                    let w = stack.removeLast()
                    onStack[Int(w)] = false
                    members.append(w)
                    if w == v { break }
                }
                if members.count > 1 || successors[edges(v)].contains(v) { components.append(members) }
            }
        }
        return components
    }
}
