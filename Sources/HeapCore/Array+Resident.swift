extension Array where Element: BitwiseCopyable {
    /// An empty array with room for `capacity` elements whose pages are faulted in: one write per
    /// page (the kernel hands out zeroed pages; filling them again would double the cost). Made
    /// outside the heap's lock, it takes the page faults that would otherwise happen inside it
    /// (on this project's VM about 5 µs per 4 KiB page: seconds for a few gigabytes).
    static func resident(capacity: Int) -> [Element] {
        [Element](unsafeUninitializedCapacity: capacity) { buffer, count in
            let raw = UnsafeMutableRawBufferPointer(buffer)
            for i in stride(from: 0, to: raw.count, by: 4096) { raw[i] = 0 }
            count = 0
        }
    }

    /// Moves the elements into `larger` (empty, with more room), whose storage this array then
    /// uses; `larger` is left holding the old storage, for the caller to free outside the lock.
    /// One copy of the elements, into pages already faulted in. False (nothing moved) when
    /// `larger` is not empty or has no more room than this array.
    mutating func moveStorage(into larger: inout [Element]) -> Bool {
        guard larger.isEmpty, larger.capacity > capacity, larger.capacity >= count else { return false }
        larger.append(contentsOf: self)
        swap(&self, &larger)
        return true
    }
}
