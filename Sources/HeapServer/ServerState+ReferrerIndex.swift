import Dispatch
import HeapCore
import HeapProtocol

/// `referrers` and `inspect` on a big heap without a pass over every object: the daemon keeps a
/// ``ReferrerIndex`` (the reverse edges of the last graph it captured a slice at a time, read
/// with the heap's changes since), built in the background after the first holder list a heap
/// of more than one capture slice needed a pass for, and after path, cycles and dominators
/// captured a graph anyway. It retires when another capture begins, after more changes than
/// ``ReferrerIndex`` allows, or after a minute unused; answers are exact either way (the pass
/// answers meanwhile), and the same list in the same order.
extension ServerState {
    /// How long an unused index is kept: its reverse edges are about 120 MB at ten million objects.
    static let referrerIndexLifetime: Duration = .seconds(60)
    /// The least time between the starts of two background builds: a heap changing faster than
    /// an index can follow gets the pass, not a capture after every answer.
    static let referrerIndexRebuildInterval: Duration = .seconds(10)
    /// Holder lists up to this long are put in order inside the lock; longer ones after it, on
    /// the connection's event loop (a million holders took 49 ms to sort).
    static let holdersSortedInside = 4096

    /// A holder list's answer, put in order now or, when it is long and the request can finish
    /// after the lock (not in a batch), then.
    static func orderHolders(
        of count: Int, _ request: RequestContext, _ inOrder: @escaping @Sendable () -> any HeapResult
    ) -> any HeapResult {
        count > holdersSortedInside && request.heapAccess != nil ? PendingResult(finish: inOrder) : inOrder()
    }

    /// The holder lists' index if it still answers for the heap; a retired one is let go.
    mutating func currentReferrerIndex() -> ReferrerIndex? {
        guard let index = referrerIndex else { return nil }
        guard heap.isCurrent(index) else {
            retireReferrerIndex()
            return nil
        }
        referrerIndexUsed = .now
        return index
    }

    /// A holder list (`referrers`, `inspect`), from the index when one is current, else by a
    /// pass over the objects, which on a big heap may start building an index in the background.
    mutating func answerHolderList<R>(
        _ request: RequestContext, _ answer: (borrowing Heap, ReferrerIndex?) throws -> R
    ) rethrows -> R {
        let index = currentReferrerIndex()
        let result = try answer(heap, index)
        if countHolderList(indexed: index != nil) { request.heapAccess?.buildReferrerIndex() }
        return result
    }

    /// Counts a holder list: by the index, or by a pass; true when the pass should start a build.
    private mutating func countHolderList(indexed: Bool) -> Bool {
        if indexed {
            holderListsIndexed &+= 1
            return false
        }
        holderListsScanned &+= 1
        guard heap.slotCount > graphSliceSlots, graphCapture == nil, !graphAssembling else { return false }
        if let started = referrerIndexBuildStarted, started.duration(to: .now) < Self.referrerIndexRebuildInterval {
            return false
        }
        referrerIndexBuildStarted = .now
        return true
    }

    /// An index made from a finished capture's graph, outside the lock: kept if it is current
    /// (the heap may have changed since the capture, within what the index follows).
    mutating func storeReferrerIndex(_ computed: ReferrerIndex?, token: UInt64) {
        referrerIndexComputations[token] = nil
        guard let index = computed else { return }  // cancelled
        guard heap.isCurrent(index) else {
            heap.stopNotingChanges(since: index.token)  // past its limit already: notes for nothing
            return Self.releaseLater(index)
        }
        if let old = referrerIndex.take() { Self.releaseLater(old) }
        referrerIndex = index
        referrerIndexUsed = .now
        referrerIndexesBuilt &+= 1
    }

    /// Lets the index go (on another thread: it may hold the only reference to its arrays) and
    /// stops the heap noting changes for it. Its reverse edges are usually also the spare arrays
    /// the next capture writes into (a dropped graph's); when the spare arrays have none (the
    /// graph was dropped while the index was computing them), they take the index's.
    mutating func retireReferrerIndex() {
        guard let index = referrerIndex.take() else { return }
        heap.stopNotingChanges(since: index.token)
        if spareGraphBuffers?.derived.hasReverseEdges == false {
            spareGraphBuffers!.takeReverseEdges(of: index)
        } else {
            Self.releaseLater(index)
        }
    }

    /// The daemon's tick: an index retired, or unused for ``referrerIndexLifetime``, goes. An
    /// unused one stays while the graph it came from is cached (it shares that graph's arrays,
    /// and a capture for a new one would find the cached graph and make none).
    mutating func releaseIdleReferrerIndex(now: ContinuousClock.Instant) {
        guard let index = referrerIndex else { return }
        let idle = referrerIndexUsed.duration(to: now) > Self.referrerIndexLifetime
        if !heap.isCurrent(index) || (idle && cachedGraph?.version != heapVersion) {
            retireReferrerIndex()
        }
    }
}

extension HeapAccess {
    /// Captures the heap's graph in slices (shared with any graph request under way); the graph
    /// is cached and its referrer index kept, as after `path`.
    func buildReferrerIndex() {
        DispatchQueue.global(qos: .utility).async { _ = try? inspectionGraph { _ in () } }
    }
}
