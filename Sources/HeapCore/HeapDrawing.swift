/// A picture of part of the heap (SPEC §5 `graph`) as data: which nodes and edges to draw and
/// what each one says, not how it looks (the DOT writer decides that). Made by
/// ``Heap/drawing(around:depth:maxNodes:)``; a value, so it can leave the heap's lock.
public struct HeapDrawing: Sendable, Equatable {
    /// A live object as the picture labels it.
    public struct Object: Sendable, Equatable {
        public var id: ObjectID
        public var type: String
        public var refcount: Int
        public var size: UInt64
        /// The type has `__del__`.
        public var finalizer: Bool
        public var isWeakref: Bool
        /// Which of the picture's reference cycles holds it (numbered 0, 1, … in drawing
        /// order); nil: in no cycle.
        public var cycle: Int?
    }

    public enum Node: Sendable, Equatable {
        case object(Object)
        /// A session, named root, the permanent generation or `gc.garbage`.
        case holder(RootHolder)
        /// `count` distinct neighbours of one drawn node that `max_nodes` left out: its
        /// referrers (`referrers`), else its referents.
        case more(count: Int, referrers: Bool)
    }

    public enum EdgeKind: Sendable, Equatable {
        /// A strong reference: the field's name.
        case field(String)
        /// A weakref object to its referent (not a reference: it does not count).
        case weak
        /// A root holder to an object it holds.
        case held
        /// Between a node and its "N more" node.
        case more
    }

    public struct Edge: Sendable, Equatable {
        /// Indexes into `nodes`.
        public var from: Int
        public var to: Int
        public var kind: EdgeKind
        /// A strong edge between two members of the same cycle.
        public var inCycle: Bool
    }

    /// Objects first reached first: the object asked about is node 0.
    public var nodes: [Node]
    public var edges: [Edge]
    /// Whether `max_nodes` (or the edge bound) left something out.
    public var truncated: Bool
    /// The node of the object the picture is around (nil: the whole heap).
    public var focus: Int?
}
