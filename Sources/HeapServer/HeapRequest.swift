import HeapCore

/// A request decoded from JSON on the connection's thread, ready for the heap's owner.
/// Jansson trees never cross into the owner: only these values do.
enum HeapRequest: Sendable {
    case allocate(AllocationSpec)
    case ref(ObjectID)
    case unref(ObjectID)
    case set(ObjectID, fields: [(name: String, target: ObjectID?)], data: [UInt8]??, size: UInt64?)
    case get(ObjectID)
    case weakref(ObjectID, callback: Bool, fields: [(name: String, target: ObjectID)])
    case apply([BatchOp], atomic: Bool)
    case collect(generation: Int)
    case inspect(ObjectID)
    case stats
    case subscribe(Set<EventKind>)
    case unsubscribe(Set<EventKind>?)
    case rootSet(name: String, id: ObjectID?)
    case rootGet(name: String)
    case rootList
    case sessionOpen(name: String, leaseSeconds: Double?)
    case sessionClose(name: String?)
    case sessionList
    case scopeEnter
    case scopeExit
    case gcGet
    case gcSet(enabled: Bool?, threshold: [Int]?, debug: GCState.DebugFlags?)
    case gcFreeze
    case gcUnfreeze
    case gcGarbageClear
    case referrers(ObjectID)
    case referents(ObjectID)
    case objects(ObjectFilter)
    case check
    case ping
    case shutdown
    case discover
}

/// `objects` filters (gc.get_objects and more), paged by id.
struct ObjectFilter: Sendable {
    var generation: Int?
    var type: String?
    var after: ObjectID?
    var limit: Int
}

/// Kinds of notification a connection can subscribe to, in the order `subscribe` lists them
/// (the order of SPEC §2.3's example).
enum EventKind: String, Sendable, CaseIterable {
    case finalize
    case weakrefCallback = "weakref.callback"
    case freed
    case gcStart = "gc.start"
    case gcStop = "gc.stop"
    case sessionClosed = "session.closed"
}
