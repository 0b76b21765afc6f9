import Synchronization

/// Asks work running outside the heap's lock to stop: set by the lock's holder, read by the
/// work between steps (a referrer index whose reverse edges a new capture made useless).
final class CancellationFlag: Sendable {
    private let raised = Atomic<Bool>(false)

    func cancel() { raised.store(true, ordering: .relaxed) }
    var isCancelled: Bool { raised.load(ordering: .relaxed) }
}
