import Foundation
import HeapCore
import HeapStore
import Synchronization

/// The heap's graph as the graph methods last took it (`path`, `cycles`, `dominators`,
/// `histogram {retained}`), with its field names and slot types, kept until the heap changes: a
/// second question about an unchanged heap (an editor asking why several objects are alive)
/// takes nothing under the heap's lock. At most one graph is kept: about 32 bytes per slot and 8
/// per field (``GraphCapture``).
struct InspectionGraph: Sendable {
    let version: UInt64
    let graph: HeapGraph
    let names: FieldNames
    let types: SlotTypes

    init(version: UInt64, _ taken: (graph: HeapGraph, names: FieldNames, types: SlotTypes)) {
        (self.version, graph, names, types) = (version, taken.graph, taken.names, taken.types)
    }
}

/// What one slice of a shared graph capture left to do (``ServerState/advanceGraphCapture``),
/// with what the request took at the graph's moment (`atView`), or its error.
enum GraphCaptureStep<View: Sendable>: Sendable {
    /// The graph of the heap now, cached.
    case ready(InspectionGraph, Result<View, any Error>)
    /// Captured: assemble it outside the lock, then store it (`storeAssembled`).
    case assemble(CapturedGraph, version: UInt64, Result<View, any Error>)
    /// More slices to take.
    case more
    /// Another request is assembling the capture: ask again shortly.
    case wait
}

extension ServerState {
    /// Slots per slice of a graph capture, a few milliseconds under the lock at most:
    /// `HEAPD_GRAPH_SLICE_SLOTS` or 2^17 (tests set small slices to take small heaps in slices).
    static let defaultGraphSliceSlots =
        max(1, ProcessInfo.processInfo.environment["HEAPD_GRAPH_SLICE_SLOTS"].flatMap { Int($0) } ?? 1 << 17)

    /// Inside the lock: the graph of the heap, or how to get it after the lock. A cached graph
    /// of this version, or a heap of at most one slice (or no way to take the lock again: a
    /// batch, an in-process caller), is taken now, in one piece. Otherwise the closure takes it
    /// a slice at a time, releasing the lock between slices; its answer is then the heap as it
    /// was when the last slice was taken, after this request and before its reply (still one
    /// moment: linearizable). `atView` runs inside the lock at that moment, for what the answer
    /// needs beside the graph (the request's object checked again: it may have been freed
    /// meanwhile; a census), and its error is the request's.
    mutating func inspectionGraphLater<View: Sendable>(
        _ request: RequestContext, atView: @escaping @Sendable (inout ServerState) throws -> View
    ) throws -> @Sendable () throws -> (InspectionGraph, View) {
        if let cached = cachedGraph, cached.version == heapVersion {
            let view = try atView(&self)
            return { (cached, view) }
        }
        guard let access = request.heapAccess, heap.slotCount > graphSliceSlots else {
            let g = InspectionGraph(version: heapVersion, heap.capturedGraph())
            storeGraph(g)
            let view = try atView(&self)
            return { (g, view) }
        }
        return { try access.inspectionGraph(atView: atView) }
    }

    /// ``inspectionGraphLater(_:atView:)`` with nothing beside the graph.
    mutating func inspectionGraphLater(_ request: RequestContext) throws -> @Sendable () throws -> InspectionGraph {
        let later = try inspectionGraphLater(request) { _ in () }
        return { try later().0 }
    }

    /// One slice of the capture that every request wanting the graph shares: begun by the first,
    /// continued by whoever holds the lock, finished by the one that takes the last slice.
    mutating func advanceGraphCapture<View: Sendable>(
        atView: (inout ServerState) throws -> View
    ) -> GraphCaptureStep<View> {
        if let cached = cachedGraph, cached.version == heapVersion {
            return .ready(cached, Result { try atView(&self) })
        }
        if graphAssembling { return .wait }
        if graphCapture == nil && !referrerIndexComputations.isEmpty {
            for computation in referrerIndexComputations.values { computation.cancel() }
            return .wait
        }
        if graphCapture == nil { retireReferrerIndex() }  // the capture takes the heap's notes
        var capture = graphCapture.take() ?? heap.beginGraphCapture(reusing: spareGraphBuffers.take())
        graphSlices &+= 1
        guard heap.continueGraphCapture(&capture, slots: graphSliceSlots) else {
            graphCapture = consume capture
            return .more
        }
        graphAssembling = true
        // A dominator tree may be built from this graph, of a version later than its request's:
        // the next change must drop it.
        dominatorsAsked = true
        let captured = heap.finishGraphCapture(consume capture)
        graphRetaken &+= UInt64(captured.retakenSlots)
        return .assemble(captured, version: heapVersion, Result { try atView(&self) })
    }

    /// The assembled graph of heap version `g.version`: cached unless the heap changed since.
    /// Its referrer index, from capture `token`, is computed next, until done
    /// (``storeReferrerIndex(_:token:)``) or cancelled by the flag returned.
    mutating func storeAssembled(_ g: InspectionGraph, token: UInt64) -> CancellationFlag {
        graphAssembling = false
        if g.version == heapVersion { storeGraph(g) }
        let computation = CancellationFlag()
        referrerIndexComputations[token] = computation
        return computation
    }

    private mutating func storeGraph(_ g: InspectionGraph) {
        // A tree built from it must be dropped by the next change. (A graph cached at this
        // version was stored since the last change, which clears the flag: handing it out
        // again needs no flag of its own.)
        dominatorsAsked = true
        if let stale = graphCapture.take() {  // taken in one piece meanwhile: the slices are moot
            heap.abandonGraphCapture()
            Self.releaseLater(stale)
        }
        dropInspectionGraph()
        cachedGraph = g
    }

    /// A change of the heap drops the cached graph. Its memory (hundreds of megabytes at ten
    /// million objects) is released on another thread, not inside the heap's lock.
    mutating func dropInspectionGraph() {
        guard let stale = cachedGraph else { return }
        cachedGraph = nil
        // Its arrays are kept for the next capture (``GraphBuffers``), for a minute at most
        // (`releaseIdleGraphBuffers`); the rest (the reverse edges, the holders) goes.
        if spareGraphBuffers == nil {
            spareGraphBuffers = GraphBuffers(of: stale.graph, names: stale.names, types: stale.types)
            spareGraphBuffersSince = .now
        }
        Self.releaseLater(stale)
    }

    /// The room a capture about to begin will need, when it has no arrays to write into: the
    /// caller makes them outside the lock (``GraphBuffers/resident(for:both:)``), so their page faults
    /// do not lengthen the slices other clients wait for.
    /// The one caller it returns a size to must offer the arrays (`offerGraphBuffers`).
    mutating func graphBuffersWanted() -> Heap.GraphCaptureSize? {
        guard spareGraphBuffers == nil, graphCapture == nil, !graphAssembling, !graphBuffersBeingMade,
            cachedGraph?.version != heapVersion, heap.slotCount > graphSliceSlots
        else { return nil }
        graphBuffersBeingMade = true
        return heap.graphCaptureSize
    }

    /// Arrays made for the next capture; another request may have left some meanwhile.
    mutating func offerGraphBuffers(_ buffers: GraphBuffers) {
        graphBuffersBeingMade = false
        guard spareGraphBuffers == nil, graphCapture == nil else { return Self.releaseLater(buffers) }
        spareGraphBuffers = buffers
        spareGraphBuffersSince = .now
    }

    /// How long a dropped graph's arrays wait for the next capture before they are freed.
    static let spareGraphBuffersLifetime: Duration = .seconds(60)

    /// Frees a dropped graph's arrays that no capture took within ``spareGraphBuffersLifetime``.
    mutating func releaseIdleGraphBuffers(now: ContinuousClock.Instant) {
        guard spareGraphBuffers != nil, spareGraphBuffersSince.duration(to: now) > Self.spareGraphBuffersLifetime
        else { return }
        Self.releaseLater(spareGraphBuffers.take())
    }

    /// Frees `value` (a graph, a dominator tree) on another thread.
    static func releaseLater(_ value: some Sendable) {
        DispatchQueue.global(qos: .utility).async { withExtendedLifetime(value) {} }
    }
}

/// Lets a deferred method's slow half take the heap's lock again, a slice of work at a time.
struct HeapAccess: Sendable {
    let service: HeapService

    /// The graph of the heap, taken in slices (shared with any other request taking it), with the
    /// lock released between them so that other clients' requests run; assembled here. `atView`
    /// runs inside the lock at the graph's moment (``ServerState/inspectionGraphLater(_:atView:)``).
    func inspectionGraph<View: Sendable>(
        atView: @Sendable (inout ServerState) throws -> View
    ) throws -> (InspectionGraph, View) {
        // Arrays for the graph's reverse edges, made on the core the capture leaves idle; used
        // if ready when this request finishes the capture, else let go.
        let reverseEdgeArrays = Mutex<GraphBuffers.Derived?>(nil)
        if let size = service.withState({ $0.graphBuffersWanted() }) {
            let made = GraphBuffers.resident(for: size, both: Heap.onTwoThreads)
            service.withState { [made] in $0.offerGraphBuffers(made) }
            DispatchQueue.global(qos: .userInitiated).async {
                let arrays = GraphBuffers.Derived.reverseEdges(for: size)
                reverseEdgeArrays.withLock { $0 = arrays }
            }
        }
        while true {
            switch service.withState({ $0.advanceGraphCapture(atView: atView) }) {
            case .ready(let g, let view):
                return (g, try view.get())
            case .assemble(var captured, let version, let view):
                if let arrays = reverseEdgeArrays.withLock({ $0.take() }) { captured.adoptReverseEdgeArrays(arrays) }
                let token = captured.token
                let g = InspectionGraph(version: version, captured.assemble())
                let computation = service.withState { $0.storeAssembled(g, token: token) }  // before any error
                // The holder lists' index from the same graph, on another thread: its reverse
                // edges are computed once, by it or by a search that needs them first.
                // The graph is let go before the index is stored: a capture waiting for the index
                // then finds the graph's arrays its own to write into.
                let graph = Mutex<HeapGraph?>(g.graph)
                DispatchQueue.global(qos: .utility).async { [service] in
                    let index = ReferrerIndex(
                        graph.withLock { $0.take()! }, token: token, unless: { computation.isCancelled })
                    service.withState { $0.storeReferrerIndex(index, token: token) }
                }
                return (g, try view.get())
            case .more:
                // A futex lock is not fair: without a pause this thread would take it again
                // before a woken waiter runs.
                usleep(20)
            case .wait:
                usleep(500)
            }
        }
    }
}
