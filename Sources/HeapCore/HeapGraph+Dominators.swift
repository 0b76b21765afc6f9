/// SEMI-NCA over the heap graph (see ``DominatorTree``).
extension HeapGraph {
    public func dominatorTree() -> DominatorTree {
        let held = heldSlots()
        // 1. Depth-first preorder from the virtual root (number 0), whose successors are the
        //    held objects ascending by id; `parent` is each vertex's DFS-tree parent.
        var preorder = [Int32](repeating: -1, count: slotCount)
        var vertex: [Slot] = [0]
        var parent: [Int32] = [0]
        var frames: [(v: Int32, edge: Int)] = []
        for h in held where preorder[Int(h)] < 0 {
            preorder[Int(h)] = Int32(vertex.count)
            frames.append((Int32(vertex.count), Int(successorStart[Int(h)])))
            vertex.append(h)
            parent.append(0)
            while let (v, e) = frames.last {
                let s = vertex[Int(v)]
                guard e < Int(successorStart[Int(s) + 1]) else {
                    frames.removeLast()
                    continue
                }
                frames[frames.count - 1].edge = e + 1
                let w = successors[e]
                if preorder[Int(w)] < 0 {
                    let n = Int32(vertex.count)
                    preorder[Int(w)] = n
                    vertex.append(w)
                    parent.append(v)
                    frames.append((n, Int(successorStart[Int(w)])))
                }
            }
        }
        let n = vertex.count
        var isHeld = [Bool](repeating: false, count: n)
        for h in held { isHeld[Int(preorder[Int(h)])] = true }

        // 2. Semidominators in reverse preorder, with path-compressed EVAL over the forest of
        //    vertices already processed (`ancestor` -1: a forest root). Compression walks up
        //    with an explicit stack.
        let (predStart, preds) = predecessors()
        var semi = (0..<n).map { Int32($0) }
        var label = semi
        var ancestor = [Int32](repeating: -1, count: n)
        var path: [Int32] = []
        func eval(_ v: Int32) -> Int32 {
            if ancestor[Int(v)] < 0 { return v }
            var x = v
            while ancestor[Int(ancestor[Int(x)])] >= 0 {
                path.append(x)
                x = ancestor[Int(x)]
            }
            while let y = path.popLast() {
                let a = ancestor[Int(y)]
                if semi[Int(label[Int(a)])] < semi[Int(label[Int(y)])] { label[Int(y)] = label[Int(a)] }
                ancestor[Int(y)] = ancestor[Int(a)]
            }
            return label[Int(v)]
        }
        for w in stride(from: n - 1, to: 0, by: -1) {
            if isHeld[w] { semi[w] = 0 }
            let s = vertex[w]
            for i in Int(predStart[Int(s)])..<Int(predStart[Int(s) + 1]) {
                let v = preorder[Int(preds[i])]
                guard v > 0 else { continue }  // unreachable sources are outside the tree
                let u = eval(v)
                if semi[Int(u)] < semi[w] { semi[w] = semi[Int(u)] }
            }
            label[w] = Int32(w)
            ancestor[w] = parent[w]
        }

        // 3. Immediate dominators: the nearest ancestor (in the DFS tree, walking the idoms
        //    already known) at or above the semidominator. Preorder puts ancestors first.
        var idom = parent
        for w in 1..<max(1, n) {
            while idom[w] > semi[w] { idom[w] = idom[Int(idom[w])] }
        }

        // 4. Retained sets, bottom-up: a vertex's totals go to its idom, whose number is smaller.
        var count = [Int](repeating: 1, count: n)
        var bytes = vertex.map { sizes[Int($0)] }
        for w in stride(from: n - 1, to: 0, by: -1) where idom[w] > 0 {
            count[Int(idom[w])] += count[w]
            bytes[Int(idom[w])] += bytes[w]
        }
        return DominatorTree(
            graph: self, preorder: preorder, vertex: vertex, idom: idom,
            retainedCount: count, retainedBytes: bytes)
    }
}
