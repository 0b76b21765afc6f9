import Glibc
import HeapCore
import HeapProtocol
import JSONRPC

/// Everything the heap's single owner guards: the heap, and which connection holds which session
/// and wants which events. Only touched inside `HeapService`'s lock, and it holds no channel:
/// what must happen on a connection afterwards is returned as a `DeliveryAction`.
struct ServerState: Sendable {
    struct Connection: Sendable {
        var session: SessionID
        var subscriptions: Set<EventKind> = []
        var framing: Framing
        let outbox: Outbox
    }

    var heap: Heap
    var connections: [ConnectionID: Connection] = [:]
    /// Named sessions currently attached to a connection (one connection per session).
    var attached: [SessionID: ConnectionID] = [:]
    var nextConnection: UInt64 = 1
    var shuttingDown = false
    /// Named sessions closed by the current request, with the connection they were attached to
    /// (it gets `session.closed` whether subscribed or not).
    var closedSessions: [(name: String, holder: ConnectionID?)] = []
    /// When each leased session expires unless a request renews it.
    var leaseDeadlines: [SessionID: ContinuousClock.Instant] = [:]
    /// Requests answered since start, and the time spent running them under the lock (stats).
    var requestsServed: UInt64 = 0
    var serialNanoseconds: UInt64 = 0
    /// The longest single hold of the heap's lock so far (`stats.serial.longest_ns`).
    var longestHoldNanoseconds: UInt64 = 0
    /// Whether anyone subscribed to `freed` (then cascades keep every freed id). Asked before
    /// every request, so kept rather than derived: `changeSubscriptions` and `disconnect` keep
    /// it true.
    private(set) var wantsFreedIDs = false
    /// Whether anyone subscribed to `monitor` (then every request is reported).
    private(set) var wantsMonitor = false

    /// Where applied operations are recorded (nil: memory only).
    var journal: (any OperationJournal)?
    /// Counts changes of the heap (every change goes through `change` or `applyBatch`), so
    /// inspection can tell whether what it cached still describes the heap.
    private(set) var heapVersion: UInt64 = 0
    /// The dominator tree of the heap at `heapVersion` (`dominators`), dropped by the next change.
    let dominatorCache = DominatorCache()
    /// Whether a tree was asked for since the last change (then a change must drop it): one
    /// branch per change instead of a lock.
    var dominatorsAsked = false
    /// The graph methods' graph of the heap at `heapVersion` (``InspectionGraph``).
    var cachedGraph: InspectionGraph?
    /// The graph capture under way, between slices (``HeapAccess/inspectionGraph()``).
    var graphCapture: GraphCapture?
    /// Whether a request is assembling the last capture, outside the lock.
    var graphAssembling = false
    /// A dropped graph's arrays, for the next capture to write into (``GraphBuffers``), and when
    /// they were dropped.
    var spareGraphBuffers: GraphBuffers?
    var spareGraphBuffersSince = ContinuousClock.now
    /// A request is making resident arrays for the next capture (``HeapAccess``): others wait
    /// for them rather than make their own.
    var graphBuffersBeingMade = false
    /// Slots per slice of a graph capture (``defaultGraphSliceSlots``).
    var graphSliceSlots = ServerState.defaultGraphSliceSlots
    /// Slices taken by graph captures, and slots taken again at their finish (`stats.graph`).
    var graphSlices: UInt64 = 0
    var graphRetaken: UInt64 = 0
    /// The referrer index kept for `referrers` and `inspect` (``ServerState+ReferrerIndex``),
    /// when it was last used, and whether one is being built in the background (since when).
    var referrerIndex: ReferrerIndex?
    var referrerIndexUsed = ContinuousClock.now
    var referrerIndexBuildStarted: ContinuousClock.Instant?
    /// Indexes whose reverse edges are being computed from an assembled graph, outside the lock,
    /// by capture token. A new capture makes them useless: it cancels them and waits until they
    /// stop, since they read the arrays it would write into (without them it would fault in new
    /// ones a slice at a time, inside the lock).
    var referrerIndexComputations: [UInt64: CancellationFlag] = [:]
    /// Indexes built; holder lists answered from one, and by a pass over the objects (`stats.graph`).
    var referrerIndexesBuilt: UInt64 = 0
    var holderListsIndexed: UInt64 = 0
    var holderListsScanned: UInt64 = 0
    /// Arrays this big or bigger are grown ahead of need (``defaultGrowAheadMinimumBytes``).
    var growAheadMinimumBytes = ServerState.defaultGrowAheadMinimumBytes
    /// Storage for the heap's arrays is being made outside the lock (``StorageGrowth``).
    var storageGrowthBeingMade = false
    /// Storage for the heap to move into when the journal is compacted is being made.
    var compactionStorageBeingMade = false
    /// Times the heap's arrays moved into storage grown ahead, and the bytes copied (`stats.storage`).
    var storageGrownAhead: UInt64 = 0
    var storageCopiedBytes: UInt64 = 0
    /// Compactions whose snapshot kept the heap's storage while the heap moved into new storage.
    var storageMovedForSnapshots: UInt64 = 0

    init(heap: Heap) { self.heap = heap }

    /// Adds the time since `started` to the time spent inside the heap's lock (`stats.serial`).
    mutating func countSerial(since started: ContinuousClock.Instant) {
        let elapsed = started.duration(to: .now).components
        let held = UInt64(elapsed.seconds) &* 1_000_000_000 &+ UInt64(elapsed.attoseconds / 1_000_000_000)
        serialNanoseconds &+= held
        longestHoldNanoseconds = max(longestHoldNanoseconds, held)
    }

    /// Marks the heap changed (drops what inspection cached); `change` and `apply` call it.
    mutating func heapChanged() {
        if dominatorsAsked {
            if let stale = dominatorCache.invalidate(through: heapVersion) { Self.releaseLater(stale) }
            dominatorsAsked = false
        }
        dropInspectionGraph()
        heapVersion &+= 1
    }

    /// Changes what a connection subscribed to; returns its subscriptions after.
    mutating func changeSubscriptions(
        of connection: ConnectionID,
        _ change: (inout Set<EventKind>) -> Void
    ) -> Set<EventKind> {
        guard connections[connection] != nil else { return [] }
        change(&connections[connection]!.subscriptions)
        refreshWantsFreedIDs()
        return connections[connection]!.subscriptions
    }

    mutating func refreshWantsFreedIDs() {
        wantsFreedIDs = connections.values.contains { $0.subscriptions.contains(.freed) }
        wantsMonitor = connections.values.contains { $0.subscriptions.contains(.monitor) }
    }

    /// The connections subscribed to anything, in connection order.
    var subscribers: [(ConnectionID, Connection)] {
        connections.filter { !$0.value.subscriptions.isEmpty }.sorted { $0.key.raw < $1.key.raw }
    }

    /// Reserves journal space for `op` ahead of a sequence of changes that must not stop halfway
    /// (nothing is applied; a full disk refuses here, before the first change).
    func reserveJournal(for op: HeapOperation) throws {
        try journal?.reserve(for: op)
    }

    /// Sets the heap's clock (what allocations record as their time) to the wall clock's second,
    /// journaled as a `tick` before the change, so replay gives objects the same times. At most
    /// one tick a second; on a full disk the tick is skipped (times stay a little stale).
    private mutating func advanceClock() {
        let now = UInt32(clamping: time(nil))
        guard now != heap.clock else { return }
        guard let journal else { return heap.setClock(now) }
        let tick = HeapOperation.tick(now)
        guard (try? journal.reserve(for: tick)) != nil else { return }
        heap.setClock(now)
        journal.record(tick)
    }

    /// Runs one change of the heap and, once it succeeded, records it for persistence: every
    /// change goes through here. Room for the record is reserved first (a full disk refuses the
    /// change before it is applied: once others saw it, it could not be taken back). `op` is
    /// only built when there is a journal. `keepsGraph`: the change cannot alter what inspection
    /// sees (a session that holds nothing opening or closing, as every connection's anonymous
    /// session does), so what it cached stays valid.
    mutating func change<R, E: Error>(
        _ op: @autoclosure () -> HeapOperation, keepsGraph: Bool = false,
        _ body: (inout Heap) throws(E) -> R
    ) throws -> R {
        defer { heap.endOperation() }  // as `Heap.apply` ends one, so replay matches
        if !keepsGraph { heapChanged() }
        advanceClock()
        guard let journal else { return try body(&heap) }
        let operation = op()
        try journal.reserve(for: operation)
        let result = try body(&heap)
        journal.record(operation)
        return result
    }
}
