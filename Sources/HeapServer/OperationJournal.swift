import HeapCore
import HeapStore

/// Receives every heap operation that succeeded, in the order applied (under the heap's lock).
protocol OperationJournal: Sendable {
    func record(_ op: HeapOperation)
}

extension HeapStore: OperationJournal {
    func record(_ op: HeapOperation) { _ = (record(op) as UInt64) }
}
