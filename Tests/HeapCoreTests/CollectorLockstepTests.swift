import XCTest

@testable import HeapCore

/// The collector's fast paths against its general ones, in lockstep: four heaps run the same
/// random operations (``RandomHeapOperations``): 0 with `PlainGarbageSweep` and the
/// memory-order passes, 1 without the sweep, 2 without the memory order, 3 without either.
/// After every operation the results, events, freed ids and snapshot bytes must agree, every
/// live object's gc_refs must be back at its marker, and the invariants must hold.
final class CollectorLockstepTests: XCTestCase {
    func runSeed(_ seed: UInt64, steps: Int, stats: inout [String: Int]) {
        var base = Heap()
        var ops = RandomHeapOperations(seed: seed, heap: &base)
        var heaps = [base, base, base, base]
        heaps[1].plainGarbageSweepEnabled = false
        heaps[3].plainGarbageSweepEnabled = false
        heaps[2].memoryOrderPassesEnabled = false
        heaps[3].memoryOrderPassesEnabled = false
        for step in 0..<steps {
            guard let (kind, op) = ops.next(on: heaps[0]) else { continue }
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
                    heaps[i].table.objectSlots.allSatisfy {
                        !heaps[i].table.records[Int($0)].flags.contains(.collecting)
                    }, "seed \(seed) step \(step) \(kind) heap \(i): left collecting")
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
        stats["sweeps0"] = (stats["sweeps0"] ?? 0) + heaps[0].fastPathRuns.plainSweeps
        stats["sweeps2"] = (stats["sweeps2"] ?? 0) + heaps[2].fastPathRuns.plainSweeps
        stats["onePass0"] = (stats["onePass0"] ?? 0) + heaps[0].fastPathRuns.onePassRefCounts
        stats["onePass1"] = (stats["onePass1"] ?? 0) + heaps[1].fastPathRuns.onePassRefCounts
        stats["wholeYoung0"] = (stats["wholeYoung0"] ?? 0) + heaps[0].fastPathRuns.wholeYoungGarbage
        stats["wholeYoung1"] = (stats["wholeYoung1"] ?? 0) + heaps[1].fastPathRuns.wholeYoungGarbage
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
        // Both memory-order variants ran: the one pass (nothing frozen) and the two.
        XCTAssertGreaterThan(stats["onePass0"] ?? 0, 100, "the one-pass gc_refs must have run")
        XCTAssertEqual(stats["onePass1"] ?? 0, stats["onePass0"] ?? 0)
        // Collections that found every young object garbage, without `move_unreachable` (rare
        // here: sessions hold most objects; 7 in the default run); never without the sweep.
        XCTAssertGreaterThan(stats["wholeYoung0"] ?? 0, 0, "the whole young list taken as garbage")
        XCTAssertEqual(stats["wholeYoung1"] ?? 0, 0)
        XCTAssertGreaterThan(stats["collections"] ?? 0, (stats["onePass0"] ?? 0) + 100, "and the other passes")
    }
}
