import ArgumentParser
import Foundation
import HeapCore
import HeapServer
import HeapStore

/// The collector benchmark: the same graphs built in heapd's core and in CPython 3.11
/// (`Benchmarks/gc_cpython.py`, `__slots__` objects), one full collection each, reported as ns
/// per object side by side, with resident bytes per object. Run it on a release build.
struct GCBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "heapd-gcbench",
        abstract: "Full-collection time and memory per object: heapd's core versus CPython's gc.collect().")

    @Option(parsing: .upToNextOption, help: "Heap sizes in objects.") var sizes: [Int] = [1_000_000, 4_000_000]
    @Option(help: "CPython interpreter for the comparison.") var python = "python3"
    @Option(help: "Path of gc_cpython.py.") var script = "Benchmarks/gc_cpython.py"
    @Option(help: "Random seed for the live graph's extra edges.") var seed = 42
    @Flag(help: "Skip CPython (heapd numbers only).") var noCPython = false
    @Option(help: .hidden) var single: String?
    @Flag(help: "Measure persistence instead: snapshot write, recovery time and the copy-on-write pause.")
    var recovery = false
    @Flag(help: "Time the operations that must not be O(n) (freeze, stats, inspect, ...) in the core.")
    var coreOps = false

    func run() throws {
        if coreOps {
            print("operation                              " + sizes.map { "\(String($0).leftPad(9)) objects" }.joined())
            let columns = try sizes.map { try CoreOpsBench(n: $0, seed: UInt64(seed)).run() }
            for (i, (name, _)) in columns[0].enumerated() {
                print(
                    name.padding(toLength: 38, withPad: " ", startingAt: 0)
                        + columns.map { (String(format: "%.3f", $0[i].1) + " ms").leftPad(17) }.joined())
            }
            return
        }
        if recovery {
            print("objects     snapshot MB  write s  recover s  first-write pause ms")
            for n in sizes { try measureRecovery(n) }
            return
        }
        if let single {
            // One measurement in a fresh process, so resident-memory deltas are not blurred by
            // memory an earlier measurement freed.
            let parts = single.split(separator: ":")
            let m = measure(String(parts[0]), Int(parts[1])!)
            print("\(m.collectNs) \(m.rssBytes) \(m.unreachable)")
            return
        }
        print(
            "graph      objects   heapd ns/obj  CPython ns/obj  speedup   heapd B/obj  CPython B/obj  (unreachable h/c)"
        )
        // `held`: the cycles and one object a session holds, so that not every object collected
        // is garbage (a collection that finds no outside reference at all skips
        // `move_unreachable`).
        for kind in ["live", "cycles", "held"] {
            for n in sizes {
                let ours = measureInChild(kind, n)
                let theirs = noCPython ? nil : cpython(kind, n)
                let ns = Double(ours.collectNs) / Double(n)
                let b = Double(ours.rssBytes) / Double(n)
                var line =
                    "\(kind.padding(toLength: 8, withPad: " ", startingAt: 0)) \(String(n).leftPad(9))  "
                    + "\(fmt(ns).leftPad(12))"
                if let theirs {
                    let cns = Double(theirs.collectNs) / Double(n)
                    let cb = Double(theirs.rssBytes) / Double(n)
                    line +=
                        "  \(fmt(cns).leftPad(14))  \((fmt(cns / ns) + "x").leftPad(7))   \(fmt(b).leftPad(11)) "
                        + " \(fmt(cb).leftPad(13))  (\(ours.unreachable)/\(theirs.unreachable))"
                } else {
                    line +=
                        "  \("-".leftPad(14))  \("-".leftPad(7))   \(fmt(b).leftPad(11))  \("-".leftPad(13))  "
                        + "(\(ours.unreachable))"
                }
                print(line)
            }
        }
    }

    struct Measurement { var collectNs: UInt64; var rssBytes: Int; var unreachable: Int }

    func measure(_ kind: String, _ n: Int) -> Measurement {
        var heap = Heap()
        heap.setEnabled(false)
        let session = try! heap.openSession()
        var events = HeapEvents(freedIDLimit: 0)
        // The ids, to pick random older nodes: made resident before measuring, so not counted.
        var created = [ObjectID](repeating: ObjectID(raw: 0), count: kind == "live" ? n : 0)
        created.removeAll(keepingCapacity: true)
        let before = residentBytes()
        var head: ObjectID?
        if kind == "live" {
            head = try! buildLiveChain(
                &heap, n, seed: UInt64(seed), session: session, events: &events, created: &created)
        } else {
            if kind == "held" {
                head = try! heap.allocate(AllocationSpec(type: "Node"), session: session, events: &events)
            }
            for _ in 0..<(n / 2) {
                let a = try! heap.allocate(AllocationSpec(type: "Node"), session: session, events: &events)
                let b = try! heap.allocate(
                    AllocationSpec(type: "Node", fields: [("next", a)]), session: session, events: &events)
                try! heap.set(a, fields: [("next", b)], events: &events)
                _ = try! heap.unref(a, session: session, events: &events)
                _ = try! heap.unref(b, session: session, events: &events)
            }
        }
        let after = residentBytes()
        if ProcessInfo.processInfo.environment["GCBENCH_DEBUG"] != nil {
            print("debug: table+pool capacity bytes \(heap.tableBytes), rss delta \(after - before)")
        }
        let clock = ContinuousClock()
        let start = clock.now
        let result = try! heap.collect(generation: 2, events: &events)
        let d = start.duration(to: clock.now)
        _ = head
        return Measurement(
            collectNs: UInt64(d.components.seconds) * 1_000_000_000 + UInt64(d.components.attoseconds / 1_000_000_000),
            rssBytes: after - before, unreachable: result.unreachable)
    }

    func measureInChild(_ kind: String, _ n: Int) -> Measurement {
        let p = Process()
        p.executableURL = URL(
            fileURLWithPath: CommandLine.arguments[0].hasPrefix("/")
                ? CommandLine.arguments[0] : FileManager.default.currentDirectoryPath + "/" + CommandLine.arguments[0])
        p.arguments = ["--single", "\(kind):\(n)", "--seed", String(seed)]
        let out = Pipe()
        p.standardOutput = out
        try! p.run()
        let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        let f = text.split(whereSeparator: { $0 == " " || $0 == "\n" }).compactMap { Int($0) }
        return Measurement(collectNs: UInt64(f[0]), rssBytes: f[1], unreachable: f[2])
    }

    func cpython(_ kind: String, _ n: Int) -> Measurement? {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = [python, script, kind, String(n), String(seed)]
        let out = Pipe()
        p.standardOutput = out
        do { try p.run() } catch { return nil }
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        guard let obj = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
            let ns = obj["collect_ns"] as? Int, let rss = obj["rss_bytes"] as? Int,
            let unreachable = obj["unreachable"] as? Int
        else { return nil }
        return Measurement(collectNs: UInt64(ns), rssBytes: rss, unreachable: unreachable)
    }
}

extension GCBench {
    /// Builds a live heap of `n` two-field objects, snapshots it through the store (as compaction
    /// does), and times recovery from a fresh open.
    func measureRecovery(_ n: Int) throws {
        let path = NSTemporaryDirectory() + "heapd-recovery-bench-\(getpid())-\(n)"
        defer { try? FileManager.default.removeItem(atPath: path) }
        let dir = DataDirectory(path: path)
        var (store, heap) = try HeapStore.open(dir, policy: .no, limits: HeapLimits(), log: { _ in })
        let session = try heap.openSession(name: "bench")
        var events = HeapEvents(freedIDLimit: 0)
        var created: [ObjectID] = []
        created.reserveCapacity(n)
        let next = try buildLiveChain(
            &heap, n, seed: UInt64(seed), session: session, events: &events, created: &created)
        created = []
        let clock = ContinuousClock()
        // The pause a compaction costs the live heap: the first change after the O(1) copy
        // copies the tables it touches.
        let copy = heap
        let t0 = clock.now
        _ = try heap.ref(next!, session: session)
        let pause = t0.duration(to: clock.now)
        let t1 = clock.now
        store.compact(copy)
        while store.isCompacting { usleep(1000) }
        let write = t1.duration(to: clock.now)
        store.close()
        let bytes = (try? FileManager.default.attributesOfItem(atPath: path + "/snapshot")[.size] as? Int) ?? 0
        let t2 = clock.now
        let (store2, recovered) = try HeapStore.open(dir, policy: .no, limits: HeapLimits(), log: { _ in })
        let recover = t2.duration(to: clock.now)
        precondition(recovered.objectCount == heap.objectCount)
        store2.close()
        func s(_ d: Duration) -> Double { Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18 }
        print(
            "\(String(n).leftPad(9))  \(String(format: "%11.1f", Double(bytes) / 1e6))  "
                + "\(String(format: "%7.2f", s(write)))  \(String(format: "%9.2f", s(recover)))  "
                + "\(String(format: "%20.1f", s(pause) * 1000))"
        )
    }
}

/// Resident set size of this process (Linux /proc/self/statm).
func residentBytes() -> Int {
    guard let s = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) else { return 0 }
    let parts = s.split(separator: " ")
    return parts.count > 1 ? (Int(parts[1]) ?? 0) * Int(sysconf(Int32(_SC_PAGESIZE))) : 0
}

func fmt(_ x: Double) -> String { String(format: x >= 100 ? "%.0f" : "%.1f", x) }

extension String {
    func leftPad(_ n: Int) -> String { count >= n ? self : String(repeating: " ", count: n - count) + self }
}

// As heapd does: a fixed mmap threshold, so large tables freed while growing go back to the
// system instead of staying resident in the malloc heap.
MallocTuning.keepLargeBlocksOutOfTheHeap()
GCBench.main()
