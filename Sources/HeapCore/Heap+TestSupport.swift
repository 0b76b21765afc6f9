/// Entry points for tests only (internal: reachable through `@testable import`), for states
/// that would take billions of operations to build for real.
extension Heap {
    /// Sets an object's refcount as if `refcount - holders` invisible external holders existed
    /// (a C extension's references, in CPython terms). Returns the previous refcount, which the
    /// test must restore before the heap's invariants are checked.
    mutating func forgeRefcount(of id: ObjectID, to refcount: UInt32) throws(HeapError) -> UInt32 {
        let slot = try resolveLive(id)
        let old = table.records[Int(slot)].refcount
        table.records[Int(slot)].refcount = refcount
        return old
    }
}
