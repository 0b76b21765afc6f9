import Dispatch
import HeapCore

extension Heap {
    /// `BothAtOnce` on two of Dispatch's threads: recovery's snapshot check, and the arrays the
    /// server makes for a graph's first capture.
    public static let onTwoThreads: BothAtOnce = { first, second in
        DispatchQueue.concurrentPerform(iterations: 2) { $0 == 0 ? first() : second() }
    }
}
