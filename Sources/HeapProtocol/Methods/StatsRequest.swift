import HeapCore
import JSONRPC

/// `stats` → the heap at a glance, as Redis's INFO: objects, bytes, per-generation counts and
/// thresholds and collector statistics, the permanent generation, gc.garbage, the biggest types,
/// roots, sessions, connections, subscribers, requests served, `serial` (requests run and time
/// spent holding the heap's lock: what bounds throughput on a machine with more cores), uptime,
/// table bytes, the persistence state, the inspection graph (`graph`: whether one is cached,
/// how many slices graph captures took, and how many slots they took again because the slot
/// changed after its slice; the referrer index: kept or not, built, holder lists it answered and
/// lists found by a pass over the objects), and `storage` (how often the heap's arrays were grown ahead of
/// need, outside the lock; how often they moved into new storage so that a compaction's snapshot
/// could keep the old; and the bytes copied inside the lock doing both).
public struct StatsRequest: ParameterlessHeapMethod {
    public static let name = "stats"
    public init() {}

    public struct Result: HeapResult {
        public struct Generation: Sendable {
            public var objects: Int
            public var threshold: Int
            public var count: Int
            public var stats: GCState.GenerationStats
        }

        public var objects: Int
        public var bytes: UInt64
        public var generations: [Generation]
        public var permanent: Int
        public var garbage: Int
        public var gcEnabled: Bool
        public var debug: [String]
        public var types: [TypeTotal]
        public var roots: Int
        public var sessions: Int
        public var connections: Int
        public var subscribers: Int
        public var requests: UInt64
        public var serialRequests: UInt64
        public var serialNanoseconds: UInt64
        public var uptimeSeconds: Double
        public var tableBytes: Int
        public var persistence: JSONValue
        public var graph = GraphStats()
        /// The longest single hold of the heap's lock since the daemon started.
        public var longestHoldNanoseconds: UInt64 = 0
        /// The heap's arrays grown ahead of need: how often, and the bytes copied doing it.
        public var storage = StorageStats()

        public struct StorageStats: Sendable {
            public var grownAhead: UInt64 = 0
            public var movedForSnapshots: UInt64 = 0
            public var copiedBytes: UInt64 = 0

            public init(grownAhead: UInt64 = 0, movedForSnapshots: UInt64 = 0, copiedBytes: UInt64 = 0) {
                (self.grownAhead, self.movedForSnapshots, self.copiedBytes) = (
                    grownAhead, movedForSnapshots, copiedBytes
                )
            }
        }

        /// The inspection graph: cached or not, and what capturing it in slices took so far.
        public struct GraphStats: Sendable {
            public var cached = false
            public var slices: UInt64 = 0
            public var retaken: UInt64 = 0
            /// Holder lists (`referrers`, `inspect`) answered from the referrer index, by a pass
            /// over the objects, and indexes built; whether one is kept now.
            public var indexed: UInt64 = 0
            public var scanned: UInt64 = 0
            public var indexesBuilt: UInt64 = 0
            public var indexKept = false

            public init(cached: Bool = false, slices: UInt64 = 0, retaken: UInt64 = 0) {
                (self.cached, self.slices, self.retaken) = (cached, slices, retaken)
            }
        }

        public init(
            heap: Heap, connections: Int, subscribers: Int, requests: UInt64, serialRequests: UInt64,
            serialNanoseconds: UInt64, uptimeSeconds: Double, persistence: JSONValue
        ) {
            let sizes = heap.generationSizes
            let g = heap.gc
            objects = heap.objectCount
            bytes = heap.totalBytes
            generations = (0...2).map {
                Generation(objects: sizes[$0], threshold: g.thresholds[$0], count: g.counts[$0], stats: g.stats[$0])
            }
            permanent = sizes[3]
            garbage = heap.garbageCount
            gcEnabled = g.enabled
            debug = g.debug.names
            types = heap.histogram().prefix(20).map { TypeTotal(type: $0.type, count: $0.count, bytes: $0.bytes) }
            roots = heap.rootCount
            sessions = heap.sessionCount
            self.connections = connections
            self.subscribers = subscribers
            self.requests = requests
            self.serialRequests = serialRequests
            self.serialNanoseconds = serialNanoseconds
            self.uptimeSeconds = uptimeSeconds
            tableBytes = heap.tableBytes
            self.persistence = persistence
        }

        public func write(to o: JSONObjectWriter) {
            o.set("objects", objects)
            o.set("bytes", bytes)
            o.array("generations") { a in
                for g in generations {
                    a.appendObject { m in
                        m.set("objects", g.objects)
                        m.set("threshold", g.threshold)
                        m.set("count", g.count)
                        m.set("collections", g.stats.collections)
                        m.set("collected", g.stats.collected)
                        m.set("uncollectable", g.stats.uncollectable)
                    }
                }
            }
            o.set("permanent", permanent)
            o.set("garbage", garbage)
            o.object("gc") { m in
                m.set("enabled", gcEnabled)
                m.array("debug", strings: debug)
            }
            o.array("types") { a in for t in types { a.appendObject { t.write(to: $0) } } }
            o.set("roots", roots)
            o.set("sessions", sessions)
            o.set("connections", connections)
            o.set("subscribers", subscribers)
            o.set("requests", requests)
            o.object("serial") { m in
                m.set("requests", serialRequests)
                m.set("ns", serialNanoseconds)
                m.set("longest_ns", longestHoldNanoseconds)
                m.set(
                    "ns_per_request",
                    serialRequests == 0 ? 0 : Double.binaryRounded(Double(serialNanoseconds) / Double(serialRequests)))
            }
            o.set("uptime_s", uptimeSeconds)
            o.set("table_bytes", tableBytes)
            o.set("persistence", persistence)
            o.object("graph") { m in
                m.set("cached", graph.cached)
                m.set("slices", graph.slices)
                m.set("retaken", graph.retaken)
                m.object("referrer_index") { r in
                    r.set("kept", graph.indexKept)
                    r.set("built", graph.indexesBuilt)
                    r.set("indexed", graph.indexed)
                    r.set("scanned", graph.scanned)
                }
            }
            o.object("storage") { m in
                m.set("grown_ahead", storage.grownAhead)
                m.set("moved_for_snapshots", storage.movedForSnapshots)
                m.set("copied_bytes", storage.copiedBytes)
            }
        }
    }
}

/// One row of a by-type table: `{type, count, bytes}`.
public struct TypeTotal: Sendable {
    public var type: String
    public var count: Int
    public var bytes: UInt64

    public init(type: String, count: Int, bytes: UInt64) {
        self.type = type
        self.count = count
        self.bytes = bytes
    }

    public func write(to o: JSONObjectWriter) {
        o.set("type", type)
        o.set("count", count)
        o.set("bytes", bytes)
    }
}
