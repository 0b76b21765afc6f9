/// What one mutation caused, in the order it happened, for the layers above to notify and journal.
///
/// Freed ids are kept in one flat array and referenced by ranges, so a cascade over millions of
/// objects costs 8 bytes per id, or nothing beyond a count when no one wants the ids.
public struct HeapEvents: Sendable {
    public enum Event: Sendable, Equatable {
        case finalize(id: ObjectID, type: String)
        case weakrefCallback(weakref: ObjectID, referent: ObjectID)
        /// A run of consecutive frees: `freedIDs[range]`.
        case freed(Range<Int>)
        case gcStart(generation: Int)
        case gcStop(CollectResult)
        /// A `DEBUG_STATS` / `DEBUG_COLLECTABLE` style line for the daemon's log.
        case debug(String)
    }

    public private(set) var events: [Event] = []
    public private(set) var freedIDs: [ObjectID] = []
    /// All frees, also those whose ids were not kept.
    public private(set) var freedCount = 0
    /// How many freed ids to keep (the rest are only counted).
    public var freedIDLimit: Int

    public init(freedIDLimit: Int = .max) { self.freedIDLimit = freedIDLimit }

    public var isEmpty: Bool { events.isEmpty }

    mutating func append(_ e: Event) { events.append(e) }

    @inline(__always)
    mutating func freed(_ id: @autoclosure () -> ObjectID) {
        freedCount += 1
        guard freedIDs.count < freedIDLimit else { return }
        freedIDs.append(id())
        if case .freed(let r)? = events.last, r.upperBound == freedIDs.count - 1 {
            events[events.count - 1] = .freed(r.lowerBound..<freedIDs.count)
        } else {
            events.append(.freed(freedIDs.count - 1..<freedIDs.count))
        }
    }

    /// Whether the next `freed` keeps its id.
    var keepsFreedIDs: Bool { freedIDs.count < freedIDLimit }

    /// Frees whose ids are not kept (`keepsFreedIDs` was false), counted at once.
    mutating func freedUnkept(_ count: Int) {
        assert(!keepsFreedIDs)
        freedCount += count
    }

    public mutating func removeAll() {
        events.removeAll(keepingCapacity: true)
        freedIDs.removeAll(keepingCapacity: true)
        freedCount = 0
    }

    /// The finalize and weakref-callback events only (what CPython's differential tests compare).
    public var observable: [Event] {
        events.filter {
            switch $0 {
            case .finalize, .weakrefCallback: return true
            default: return false
            }
        }
    }
}

/// What `collect` reports, as 3.11's `gc.collect()` and `gc.callbacks` see it.
public struct CollectResult: Sendable, Equatable {
    public var generation: Int
    /// Objects freed (or saved to gc.garbage under DEBUG_SAVEALL): 3.11's `m`.
    public var collected: Int
    /// Objects kept because of legacy finalizers: always 0 for heap types (PEP 442): 3.11's `n`.
    public var uncollectable: Int
    public var durationNanoseconds: UInt64

    /// What 3.11's `gc.collect()` returns.
    public var unreachable: Int { collected + uncollectable }
}
