/// Reference cycles: the graph's strongly connected components.
extension HeapGraph {
    /// Every strongly connected component with more than one object or a self-edge (each as
    /// its slots), garbage included. Tarjan's algorithm with an explicit stack of frames, so a
    /// cycle of any length runs in constant call depth. O(slots + edges).
    func cycleComponents() -> [[Slot]] { cycleComponents(reachedFrom: 0..<Slot(slotCount)) }

    /// The components among what `starts` reach. A component lies within what any of its
    /// members reaches, so every component holding one of `starts` is found, and complete:
    /// O(slots) to set up the index arrays, then O(objects and fields reached from `starts`).
    func cycleComponents(reachedFrom starts: some Sequence<Slot>) -> [[Slot]] {
        let unvisited = Int32(-1)
        var index = [Int32](repeating: unvisited, count: slotCount)
        var low = [Int32](repeating: 0, count: slotCount)
        var onStack = [Bool](repeating: false, count: slotCount)
        var stack: [Slot] = []
        // Each frame: a node and the next of its edges to look at.
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
