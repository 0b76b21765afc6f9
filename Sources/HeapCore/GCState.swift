/// The `gc` module's state (gcmodule.c's `struct _gc_runtime_state`), less the lists themselves,
/// which live in the object table.
public struct GCState: Sendable, Equatable {
    public struct DebugFlags: OptionSet, Sendable, Hashable {
        public let rawValue: Int
        public init(rawValue: Int) { self.rawValue = rawValue }
        public static let stats = DebugFlags(rawValue: 1)
        public static let collectable = DebugFlags(rawValue: 2)
        public static let uncollectable = DebugFlags(rawValue: 4)
        public static let saveAll = DebugFlags(rawValue: 32)
        public static let leak: DebugFlags = [.collectable, .uncollectable, .saveAll]

        public static let byName: [(String, DebugFlags)] = [
            ("STATS", .stats), ("COLLECTABLE", .collectable), ("UNCOLLECTABLE", .uncollectable),
            ("SAVEALL", .saveAll), ("LEAK", .leak),
        ]
        public var names: [String] {
            Self.byName.filter { $0.0 != "LEAK" && contains($0.1) }.map(\.0)
        }
    }

    public struct GenerationStats: Sendable, Equatable {
        public var collections = 0
        public var collected = 0
        public var uncollectable = 0
    }

    public var enabled = true
    public var thresholds = [700, 10, 10]
    /// count0: allocations minus deallocations since gen 0 was collected; count1/count2:
    /// collections of the next younger generation since this one was collected.
    public var counts = [0, 0, 0]
    public var debug: DebugFlags = []
    public var stats = [GenerationStats](repeating: .init(), count: 3)
    /// Survivors of the last full collection, and objects promoted to gen 2 since (the 25% rule).
    public var longLivedTotal = 0
    public var longLivedPending = 0
    var collecting = false
    /// Set while an atomic `apply` batch runs: a collection that falls due waits for its end,
    /// so no collection frees what the batch's dry run did not predict.
    var deferringCollection = false
    var collectionDeferred = false

    public init() {}
}
