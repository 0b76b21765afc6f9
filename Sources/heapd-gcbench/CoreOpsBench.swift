import Foundation
import HeapCore

/// `heapd-gcbench --core-ops`: the operations issue 14 found O(n) where CPython is O(1) (or
/// O(what they return)), timed in the core (the time they hold the heap's lock) on a heap of n
/// live objects: a chain with one random older edge per node, 1% of it in the permanent
/// generation's worth of history (frozen, then unfrozen), and 10,000 weakrefs to one object.
/// Written against the public `Heap` API only, so the same file builds on older commits for a
/// before/after table.
struct CoreOpsBench {
    let n: Int
    let seed: UInt64

    private func ms(_ body: () throws -> Void) rethrows -> Double {
        let clock = ContinuousClock()
        let start = clock.now
        try body()
        let d = start.duration(to: clock.now)
        return (Double(d.components.seconds) * 1e3 + Double(d.components.attoseconds) / 1e15)
    }

    /// Operation name → milliseconds.
    func run() throws -> [(String, Double)] {
        var heap = Heap()
        heap.setEnabled(false)
        let session = try heap.openSession()
        var events = HeapEvents(freedIDLimit: 0)
        var created: [ObjectID] = []
        created.reserveCapacity(n)
        _ = try buildLiveChain(&heap, n, seed: seed, session: session, events: &events, created: &created)
        let probe = created[n / 2]
        var out: [(String, Double)] = []
        out.append(("gc.freeze", ms { heap.freeze() }))
        out.append(("gc.get (freeze_count, frozen heap)", ms { _ = heap.freezeCount }))
        out.append(("stats (generation sizes)", ms { _ = heap.generationSizes }))
        out.append(("gc.unfreeze", ms { heap.unfreeze() }))
        out.append(("inspect (one object)", try ms { _ = try heap.inspect(probe) }))
        out.append(("referrers (one object)", try ms { _ = try heap.referrers(of: probe) }))
        out.append(
            ("histogram {generation: 2} (all objects in it)", try ms { _ = try heap.typeHistogram(generation: 2) }))
        out.append(("graph in one piece (a batch's graph methods)", ms { _ = heap.graph() }))
        out.append(
            ("path to the oldest object (graph and search)", try ms { _ = try heap.retentionPaths(to: created[0]) }))
        let target = created[n / 3]
        var weakrefs: [ObjectID] = []
        for _ in 0..<10_000 {
            weakrefs.append(try heap.weakref(to: target, callback: true, session: session, events: &events))
        }
        out.append(
            (
                "drop 10,000 weakrefs to one object",
                try ms { for w in weakrefs { _ = try heap.unref(w, session: session, events: &events) } }
            ))
        return out
    }
}
