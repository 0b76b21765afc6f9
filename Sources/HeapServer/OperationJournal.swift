import HeapCore
import HeapStore

/// Receives every heap operation that succeeded, in the order applied (under the heap's lock).
protocol OperationJournal: Sendable {
    /// Before `op` is applied: throws if its record could not be made durable (then `op` must
    /// not be applied).
    func reserve(for op: HeapOperation) throws(HeapStore.DiskFull)
    func record(_ op: HeapOperation)
}

extension HeapStore: OperationJournal {
    func record(_ op: HeapOperation) { _ = (record(op) as UInt64) }
}
