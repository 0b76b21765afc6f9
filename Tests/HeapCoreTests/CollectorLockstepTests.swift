import XCTest

@testable import HeapCore

/// The collector's fast paths against its general ones, in lockstep: four heaps run the same
/// random operations (allocations with finalizers, data, big sizes and sites; rings of 2-152
/// objects, some pointing out; own dicts; weakrefs; roots; freeze; DEBUG_SAVEALL; scopes; slots
/// at their last reuse; automatic and explicit collections): 0 with `PlainGarbageSweep` and the
/// memory-order passes, 1 without the sweep, 2 without the memory order, 3 without either.
/// After every operation the results, events, freed ids and snapshot bytes must agree, every
/// gc_refs must be back at its marker, and the invariants must hold.
final class CollectorLockstepTests: XCTestCase {
    typealias Op = (inout Heap, inout HeapEvents) -> String

    func desc<T>(_ body: () throws(HeapError) -> T) -> String {
        do {
            let v = try body()
            if let r = v as? CollectResult { return "collected \(r.collected) gen \(r.generation)" }
            return "ok \(v)"
        } catch { return "error \(error)" }
    }

    func runSeed(_ seed: UInt64, steps: Int, stats: inout [String: Int]) {
        var rng = SplitMix64(seed: seed)
        var base = Heap()
        try! base.setThresholds([Int(20 + rng.next() % 200), Int(2 + rng.next() % 8), Int(2 + rng.next() % 8)])
        let s1 = try! base.openSession()
        let s2 = try! base.openSession(name: "two")
        let sessionIDs = [s1, s2]
        var heaps = [base, base, base, base]
        heaps[1].plainGarbageSweepEnabled = false
        heaps[3].plainGarbageSweepEnabled = false
        heaps[2].memoryOrderPassesEnabled = false
        heaps[3].memoryOrderPassesEnabled = false
        let types = ["A", "B", "C", "D"]
        let names = (0..<36).map { "n\($0)" }

        func liveIDs() -> [ObjectID] { heaps[0].allObjects() }
        func randomLive() -> ObjectID? {
            let ids = liveIDs()
            return ids.isEmpty ? nil : ids[Int(rng.next() % UInt64(ids.count))]
        }
        func randomHeld() -> (SessionID, ObjectID)? {
            let s = sessionIDs[Int(rng.next() % 2)]
            guard let held = heaps[0].sessions[s]?.allHeld, !held.isEmpty else { return nil }
            let slot = held.map(\.0).sorted()[Int(rng.next() % UInt64(held.count))]
            return (s, heaps[0].table.id(of: slot))
        }

        for step in 0..<steps {
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
                    self.desc { () throws(HeapError) in
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
                    self.desc { () throws(HeapError) -> Int in
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
                guard let obj = randomLive() else { continue }
                var f: [(name: String, target: ObjectID?)] = []
                for _ in 0..<Int(1 + rng.next() % 3) {
                    f.append((names[Int(rng.next() % UInt64(names.count))], rng.next() % 5 == 0 ? nil : randomLive()))
                }
                let data: [UInt8]?? =
                    rng.next() % 20 == 0 ? .some(Array("1".utf8)) : (rng.next() % 20 == 0 ? .some(nil) : nil)
                let size: UInt64? = rng.next() % 40 == 0 ? 6_000_000_000 : (rng.next() % 40 == 0 ? 3 : nil)
                op = { h, e in
                    self.desc { () throws(HeapError) in try h.set(obj, fields: f, data: data, size: size, events: &e) }
                }
            case 50..<68:
                kind = "unref"
                guard let (s, id) = randomHeld() else { continue }
                op = { h, e in self.desc { () throws(HeapError) in try h.unref(id, session: s, events: &e) } }
            case 68..<71:
                kind = "ref"
                guard let id = randomLive() else { continue }
                op = { h, _ in self.desc { () throws(HeapError) in try h.ref(id, session: sess) } }
            case 71..<76:
                kind = "weakref"
                guard let id = randomLive() else { continue }
                let cb = rng.next() % 2 == 0
                let holder = rng.next() % 2 == 0 ? randomLive() : nil
                op = { h, e in
                    self.desc { () throws(HeapError) -> ObjectID in
                        let w = try h.weakref(to: id, callback: cb, session: sess, events: &e)
                        if let holder, h.contains(holder) { try h.set(holder, fields: [("wr", w)], events: &e) }
                        return w
                    }
                }
            case 76..<79:
                kind = "root"
                let name = "r\(rng.next() % 3)"
                let id = rng.next() % 3 == 0 ? nil : randomLive()
                op = { h, e in self.desc { () throws(HeapError) in try h.setRoot(name, to: id, events: &e) } }
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
                op = { h, e in self.desc { () throws(HeapError) in try h.collect(generation: g, events: &e) } }
            case 95..<97:
                kind = "enter"
                op = { h, _ in self.desc { () throws(HeapError) in try h.enterScope(sess) } }
            case 97..<99:
                kind = "exit"
                op = { h, e in self.desc { () throws(HeapError) in try h.exitScope(sess, events: &e) } }
            default:
                kind = "retire"
                // The slot on top of the free stack: its next object is its last (reuse maxReuse).
                op = { h, _ in
                    let top = h.table.freeListState.top
                    if top != 0 { h.table.records[Int(top)].reuse = ObjectID.maxReuse - 1 }
                    return "retire \(top)"
                }
            }
            stats[kind, default: 0] += 1
            var outs: [(String, [HeapEvents.Event], [ObjectID], [UInt8])] = []
            for i in 0..<4 {
                var e = HeapEvents()
                let res = op(&heaps[i], &e)
                heaps[i].endOperation()
                var bytes: [UInt8] = []
                heaps[i].writeSnapshot { bytes.append(contentsOf: $0) }
                outs.append((res, e.withoutDurations, e.freedIDs, bytes))
                XCTAssertTrue(
                    heaps[i].table.gcRefs.allSatisfy { $0 == GCRefs.notCollecting },
                    "seed \(seed) step \(step) \(kind) heap \(i): gc_refs left set")
                XCTAssertEqual(
                    heaps[i].table.codes.members.reduce(0, +), heaps[i].table.liveCount,
                    "seed \(seed) step \(step) \(kind) heap \(i): code members")
            }
            for i in 1..<4 {
                XCTAssertEqual(outs[i].0, outs[0].0, "seed \(seed) step \(step) \(kind) heap \(i): result")
                XCTAssertEqual(outs[i].1, outs[0].1, "seed \(seed) step \(step) \(kind) heap \(i): events")
                XCTAssertEqual(outs[i].2, outs[0].2, "seed \(seed) step \(step) \(kind) heap \(i): freed")
                if outs[i].3 != outs[0].3 {
                    XCTFail("seed \(seed) step \(step) \(kind) heap \(i): snapshot bytes differ")
                    return
                }
            }
            if step % 25 == 0 || kind == "collect" {
                for i in 0..<4 {
                    let p = heaps[i].checkInvariants()
                    if !p.isEmpty {
                        XCTFail("seed \(seed) step \(step) \(kind) heap \(i): \(p.prefix(3))")
                        return
                    }
                }
            }
        }
        stats["sweeps0"] = (stats["sweeps0"] ?? 0) + heaps[0].plainGarbageSweeps
        stats["sweeps2"] = (stats["sweeps2"] ?? 0) + heaps[2].plainGarbageSweeps
        stats["relabellings"] = (stats["relabellings"] ?? 0) + heaps[0].table.codes.relabellings
        stats["collections"] = (stats["collections"] ?? 0) + heaps[0].gc.stats.map(\.collections).reduce(0, +)
        stats["live"] = (stats["live"] ?? 0) + heaps[0].table.liveCount
    }

    /// `HEAPD_LOCKSTEP_SEEDS` / `HEAPD_LOCKSTEP_STEPS` run it longer (150 x 1500 found nothing).
    func testFastAndGeneralPathsLeaveTheSameHeap() {
        let env = ProcessInfo.processInfo.environment
        let seeds = UInt64(env["HEAPD_LOCKSTEP_SEEDS"].flatMap(Int.init) ?? 20)
        let steps = env["HEAPD_LOCKSTEP_STEPS"].flatMap(Int.init) ?? 400
        var stats: [String: Int] = [:]
        for seed in 0..<seeds { runSeed(seed, steps: steps, stats: &stats) }
        print("lockstep: \(stats.sorted { $0.key < $1.key })")
        XCTAssertGreaterThan(stats["sweeps0"] ?? 0, 100, "the sweep must have run")
        XCTAssertEqual(stats["sweeps2"] ?? 0, stats["sweeps0"] ?? 0)
    }
}
