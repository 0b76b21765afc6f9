import XCTest

@testable import HeapCore

/// Random operations on a heap, for tests that run them on several heaps, or between slices of
/// a graph capture: allocations with finalizers, data, big sizes and sites; rings of 2-152
/// objects, some pointing out; fields set and deleted (36 names: past the shared keys' 30, so
/// own dicts); weakrefs; roots; freeze; DEBUG_SAVEALL; scopes; slots at their last reuse;
/// automatic and explicit collections. Objects are picked from `heap`; the operation may then
/// run on copies of it.
struct RandomHeapOperations {
    typealias Op = (inout Heap, inout HeapEvents) -> String

    var rng: SplitMix64
    let sessionIDs: [SessionID]

    /// Two sessions (one named) on `heap`, random thresholds.
    init(seed: UInt64, heap: inout Heap) {
        rng = SplitMix64(seed: seed)
        try! heap.setThresholds([Int(20 + rng.next() % 200), Int(2 + rng.next() % 8), Int(2 + rng.next() % 8)])
        sessionIDs = [try! heap.openSession(), try! heap.openSession(name: "two")]
    }

    static func desc<T>(_ body: () throws(HeapError) -> T) -> String {
        do {
            let v = try body()
            if let r = v as? CollectResult { return "collected \(r.collected) gen \(r.generation)" }
            return "ok \(v)"
        } catch { return "error \(error)" }
    }

    /// Runs `count` random operations on `heap` (fewer when none is possible); counts them by kind.
    mutating func run(_ count: Int, on heap: inout Heap, kinds: inout [String: Int]) {
        for _ in 0..<count {
            guard let (kind, op) = next(on: heap) else { continue }
            kinds[kind, default: 0] += 1
            var e = HeapEvents()
            _ = op(&heap, &e)
            heap.endOperation()
        }
    }

    /// The next operation, picked on `heap` (nil: none possible this time).
    mutating func next(on heap: Heap) -> (kind: String, op: Op)? {
        let types = ["A", "B", "C", "D"]
        let names = (0..<36).map { "n\($0)" }

        func liveIDs() -> [ObjectID] { heap.allObjects() }
        func randomLive() -> ObjectID? {
            let ids = liveIDs()
            return ids.isEmpty ? nil : ids[Int(rng.next() % UInt64(ids.count))]
        }
        func randomHeld() -> (SessionID, ObjectID)? {
            let s = sessionIDs[Int(rng.next() % 2)]
            guard let held = heap.sessions[s]?.allHeld, !held.isEmpty else { return nil }
            let slot = held.map(\.0).sorted()[Int(rng.next() % UInt64(held.count))]
            return (s, heap.table.id(of: slot))
        }

        let r = rng.next() % 100
        let sess = sessionIDs[Int(rng.next() % 2)]
        var op: Op
        var kind = ""
        switch r {
        case 0..<18:
            kind = "alloc"
            let type = types[Int(rng.next() % 4)]
            let fin = rng.next() % 30 == 0
            let data: [UInt8]? = rng.next() % 30 == 0 ? Array("7".utf8) : nil
            let size: UInt64? =
                rng.next() % 50 == 0 ? 5_000_000_000 : (rng.next() % 2 == 0 ? rng.next() % 100 : nil)
            let site: String? = rng.next() % 3 == 0 ? nil : "site\(rng.next() % 5)"
            var fields: [(name: String, target: ObjectID)] = []
            for k in 0..<Int(rng.next() % 3) { if let t = randomLive() { fields.append(("n\(k)", t)) } }
            op = { h, e in
                Self.desc { () throws(HeapError) in
                    try h.allocate(
                        AllocationSpec(
                            type: type, size: size, data: data, fields: fields, finalizer: fin, site: site),
                        session: sess, events: &e)
                }
            }
        case 18..<38:
            kind = "ring"
            // A ring of k objects, dropped at once: closed garbage unless it points out.
            let k = Int(2 + rng.next() % (rng.next() % 4 == 0 ? 150 : 6))
            let type = types[Int(rng.next() % 4)]
            let out: ObjectID? = rng.next() % 4 == 0 ? randomLive() : nil
            let chords = (0..<k).map { _ in rng.next() % 3 == 0 ? Int(rng.next() % UInt64(k)) : -1 }
            let site: String? = rng.next() % 2 == 0 ? "ring\(rng.next() % 3)" : nil
            let keep = rng.next() % 5 == 0
            op = { h, e in
                Self.desc { () throws(HeapError) -> Int in
                    var ids: [ObjectID] = []
                    for _ in 0..<k {
                        ids.append(
                            try h.allocate(AllocationSpec(type: type, site: site), session: sess, events: &e))
                    }
                    for i in 0..<k {
                        var f: [(name: String, target: ObjectID?)] = [("next", ids[(i + 1) % k])]
                        if chords[i] >= 0 { f.append(("chord", ids[chords[i]])) }
                        if i == 0, let out, h.contains(out) { f.append(("out", out)) }
                        try h.set(ids[i], fields: f, events: &e)
                    }
                    if !keep { for id in ids { _ = try h.unref(id, session: sess, events: &e) } }
                    return k
                }
            }
        case 38..<50:
            kind = "set"
            guard let obj = randomLive() else { return nil }
            var f: [(name: String, target: ObjectID?)] = []
            for _ in 0..<Int(1 + rng.next() % 3) {
                f.append((names[Int(rng.next() % UInt64(names.count))], rng.next() % 5 == 0 ? nil : randomLive()))
            }
            let data: [UInt8]?? =
                rng.next() % 20 == 0 ? .some(Array("1".utf8)) : (rng.next() % 20 == 0 ? .some(nil) : nil)
            let size: UInt64? = rng.next() % 40 == 0 ? 6_000_000_000 : (rng.next() % 40 == 0 ? 3 : nil)
            op = { h, e in
                Self.desc { () throws(HeapError) in try h.set(obj, fields: f, data: data, size: size, events: &e) }
            }
        case 50..<68:
            kind = "unref"
            guard let (s, id) = randomHeld() else { return nil }
            op = { h, e in Self.desc { () throws(HeapError) in try h.unref(id, session: s, events: &e) } }
        case 68..<71:
            kind = "ref"
            guard let id = randomLive() else { return nil }
            op = { h, _ in Self.desc { () throws(HeapError) in try h.ref(id, session: sess) } }
        case 71..<76:
            kind = "weakref"
            guard let id = randomLive() else { return nil }
            let cb = rng.next() % 2 == 0
            let holder = rng.next() % 2 == 0 ? randomLive() : nil
            op = { h, e in
                Self.desc { () throws(HeapError) -> ObjectID in
                    let w = try h.weakref(to: id, callback: cb, session: sess, events: &e)
                    if let holder, h.contains(holder) { try h.set(holder, fields: [("wr", w)], events: &e) }
                    return w
                }
            }
        case 76..<79:
            kind = "root"
            let name = "r\(rng.next() % 3)"
            let id = rng.next() % 3 == 0 ? nil : randomLive()
            op = { h, e in Self.desc { () throws(HeapError) in try h.setRoot(name, to: id, events: &e) } }
        case 79..<81:
            kind = "freeze"
            op = { h, _ in
                h.freeze(); return "frozen"
            }
        case 81..<83:
            kind = "unfreeze"
            op = { h, _ in
                h.unfreeze(); return "unfrozen"
            }
        case 83..<85:
            kind = "saveall"
            let on = rng.next() % 3 == 0
            op = { h, _ in
                h.setDebug(on ? [.saveAll] : []); return "debug"
            }
        case 85..<87:
            kind = "cleargarbage"
            op = { h, e in "cleared \(h.clearGarbage(events: &e))" }
        case 87..<95:
            kind = "collect"
            let g = Int(rng.next() % 3)
            op = { h, e in Self.desc { () throws(HeapError) in try h.collect(generation: g, events: &e) } }
        case 95..<97:
            kind = "enter"
            op = { h, _ in Self.desc { () throws(HeapError) in try h.enterScope(sess) } }
        case 97..<99:
            kind = "exit"
            op = { h, e in Self.desc { () throws(HeapError) in try h.exitScope(sess, events: &e) } }
        default:
            kind = "retire"
            // The slot on top of the free stack: its next object is its last (reuse maxReuse).
            op = { h, _ in
                let top = h.table.freeListState.top
                if top != 0 { h.table.records[Int(top)].reuse = ObjectID.maxReuse - 1 }
                return "retire \(top)"
            }
        }
        return (kind, op)
    }
}
