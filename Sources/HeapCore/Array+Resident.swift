extension Array where Element: BitwiseCopyable {
    /// An empty array with room for `capacity` elements whose pages are faulted in, those of the
    /// first `faulted` elements only when given: one write per page (the kernel hands out zeroed
    /// pages; filling them again would double the cost). Made outside the heap's lock, it takes
    /// the page faults that would otherwise happen inside it (on this project's VM about 5 µs per
    /// 4 KiB page: seconds for a few gigabytes).
    static func resident(capacity: Int, faulted: Int? = nil) -> [Element] {
        [Element](unsafeUninitializedCapacity: capacity) { buffer, count in
            let raw = UnsafeMutableRawBufferPointer(buffer)
            let end = Swift.min(raw.count, (faulted ?? capacity) * MemoryLayout<Element>.stride)
            for i in stride(from: 0, to: end, by: 4096) { raw[i] = 0 }
            count = 0
        }
    }

    /// Moves the elements into `larger` (empty, with more room, or as much with `sameSizeToo`),
    /// whose storage this array then uses; `larger` is left holding the old storage, for the
    /// caller to free outside the lock. One copy of the elements, into pages already faulted in.
    /// False (nothing moved) when `larger` is not empty or has too little room.
    mutating func moveStorage(into larger: inout [Element], sameSizeToo: Bool = false) -> Bool {
        guard larger.isEmpty, larger.capacity >= count,
            larger.capacity > capacity || (sameSizeToo && larger.capacity == capacity)
        else { return false }
        larger.append(contentsOf: self)
        swap(&self, &larger)
        return true
    }
}
