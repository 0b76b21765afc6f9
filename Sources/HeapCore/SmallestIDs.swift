/// The `limit` smallest ids of a stream, ascending, in O(n log limit) time and O(limit) memory
/// (a bounded max-heap): a diff of 10M objects lists its first 1000 ids without sorting 10M.
struct SmallestIDs {
    let limit: Int
    private var heap: [UInt64] = []  // a max-heap: heap[0] is the largest kept
    private(set) var seen = 0

    init(limit: Int) { self.limit = max(0, limit) }

    mutating func add(_ id: UInt64) {
        seen += 1
        if heap.count < limit {
            heap.append(id)
            siftUp(heap.count - 1)
        } else if limit > 0, id < heap[0] {
            heap[0] = id
            siftDown(0)
        }
    }

    /// The kept ids, ascending, and whether some were left out.
    func result() -> (ids: [ObjectID], truncated: Bool) {
        (heap.sorted().map(ObjectID.init(raw:)), seen > heap.count)
    }

    private mutating func siftUp(_ i: Int) {
        var i = i
        while i > 0 {
            let parent = (i - 1) / 2
            guard heap[parent] < heap[i] else { return }
            heap.swapAt(parent, i)
            i = parent
        }
    }

    private mutating func siftDown(_ i: Int) {
        var i = i
        while true {
            let l = 2 * i + 1
            let r = l + 1
            var largest = i
            if l < heap.count && heap[l] > heap[largest] { largest = l }
            if r < heap.count && heap[r] > heap[largest] { largest = r }
            if largest == i { return }
            heap.swapAt(i, largest)
            i = largest
        }
    }
}
