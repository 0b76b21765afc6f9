/// One operation of an `apply` batch: the compact forms of allocate, ref, unref, set and
/// weakref (one field at a time, no data), whose object arguments may name an earlier op's
/// result instead of an id.
public enum BatchOp: Sendable, Equatable {
    /// `site`: where the client allocated it (see `AllocationOrigin`).
    case alloc(type: String, size: UInt64?, site: String? = nil)
    case ref(BatchTarget)
    case unref(BatchTarget)
    /// A nil target deletes the field.
    case set(BatchTarget, field: String, target: BatchTarget?)
    case weakref(BatchTarget, callback: Bool)

    /// The op's name on the wire (`["unref", 7]`).
    public var name: String {
        switch self {
        case .alloc: return "alloc"
        case .ref: return "ref"
        case .unref: return "unref"
        case .set: return "set"
        case .weakref: return "weakref"
        }
    }

    /// Whether the op's result is an object id (what `$k` may name).
    public var producesID: Bool {
        switch self {
        case .alloc, .weakref: return true
        case .ref, .unref, .set: return false
        }
    }
}

/// An object argument of a batch op: an id, or `$k`, the id op `k` of the same batch produced.
/// `$k` stays unresolved in the journal: replay resolves it the same way.
public enum BatchTarget: Sendable, Equatable {
    case id(ObjectID)
    case result(Int)
}

/// What one op of a batch did.
public enum BatchOpOutcome: Sendable, Equatable {
    case object(ObjectID)
    case refcount(Int)
    case failed(HeapError)

    public var succeeded: Bool {
        if case .failed = self { return false }
        return true
    }
}

/// What a whole batch did.
public struct BatchOutcome: Sendable, Equatable {
    /// One per op, in order (an atomic batch stopped by a broken prediction has fewer).
    public var results: [BatchOpOutcome] = []
    /// Objects the ops freed, with what automatic collections inside a plain batch freed (an
    /// atomic batch's deferred collection, after its last op, reports its own).
    public var freed = 0
    /// An atomic batch whose dry run predicted success but whose op failed for real: a bug in
    /// the simulation. The ops before it stay applied (each op is atomic, so the heap is
    /// consistent) and the batch is journaled as run, so replay repeats exactly this.
    public var brokenPrediction: BrokenPrediction?

    public struct BrokenPrediction: Sendable, Equatable {
        public var op: Int
        public var error: HeapError
    }

    public var failures: Int { results.count { !$0.succeeded } }
    public var successes: Int { results.count - failures }

    public init() {}
}
