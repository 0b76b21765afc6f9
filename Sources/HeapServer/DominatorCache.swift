import HeapCore
import Synchronization

/// The dominator tree of one version of the heap (`dominators`), kept until the heap changes.
/// Built after the heap's lock is released, so it has a lock of its own: the heap's owner checks
/// the version and drops it on a change; the thread that built it stores it, unless the heap
/// changed meanwhile (then it would only hold memory that no answer can use).
final class DominatorCache: Sendable {
    struct Tree: Sendable {
        let version: UInt64
        let tree: DominatorTree
        let types: SlotTypes
    }

    private struct State {
        var tree: Tree?
        /// Trees of versions up to this one are stale (the heap changed after them).
        var staleThrough: UInt64?
    }

    private let state = Mutex(State())

    /// The tree of `version`, if it was built.
    func tree(for version: UInt64) -> Tree? {
        state.withLock { $0.tree?.version == version ? $0.tree : nil }
    }

    func store(_ tree: Tree) {
        state.withLock { s in
            if s.staleThrough.map({ tree.version > $0 }) ?? true { s.tree = tree }
        }
    }

    /// The heap changed: versions up to `version` are stale. Returns the tree dropped, for the
    /// caller to free outside the heap's lock.
    func invalidate(through version: UInt64) -> Tree? {
        state.withLock { s in
            s.staleThrough = max(s.staleThrough ?? 0, version)
            guard let t = s.tree, t.version <= version else { return nil }
            s.tree = nil
            return t
        }
    }
}
