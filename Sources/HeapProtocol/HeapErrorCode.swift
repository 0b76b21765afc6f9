import JSONRPC

/// heapd's own error codes, in the range JSON-RPC 2.0 reserves for implementation-defined
/// server errors (-32000 … -32099). Stable: clients match on them. Each is documented in the
/// OpenRPC document's `components.errors`.
extension RPCErrorCode {
    /// The object id does not exist (never existed or was collected).
    public static let noSuchObject = RPCErrorCode(rawValue: -32001)
    /// The session tried to use or release a reference it does not hold.
    public static let referenceNotHeld = RPCErrorCode(rawValue: -32002)
    /// A limit (objects, bytes, sessions) would be exceeded.
    public static let quotaExceeded = RPCErrorCode(rawValue: -32003)
    /// The session is already attached elsewhere or in a conflicting state.
    public static let sessionConflict = RPCErrorCode(rawValue: -32004)
    /// The message exceeded the connection's maximum message size and was skipped.
    public static let requestTooLarge = RPCErrorCode(rawValue: -32005)
    /// The daemon is shutting down and accepts no new work.
    public static let shuttingDown = RPCErrorCode(rawValue: -32006)
    public static let noSuchSession = RPCErrorCode(rawValue: -32007)
    /// An operation referred to something outside the caller's scope.
    public static let scopeError = RPCErrorCode(rawValue: -32008)
    public static let noSuchRoot = RPCErrorCode(rawValue: -32009)
    /// The daemon serves its maximum number of clients; the connection is closed.
    public static let tooManyClients = RPCErrorCode(rawValue: -32010)
    /// The peer's credentials (SO_PEERCRED) are not admitted; the connection is closed.
    public static let accessDenied = RPCErrorCode(rawValue: -32011)
    /// The change was refused, unapplied, because the data directory's disk has no room for its
    /// journal record (or the journal cannot be written); reads still work, and changes are
    /// accepted again by themselves once space returns.
    public static let diskFull = RPCErrorCode(rawValue: -32012)
    /// No snapshot (`snapshot.save`) of that name.
    public static let noSuchSnapshot = RPCErrorCode(rawValue: -32013)
    /// `graph` with format "svg": Graphviz's `dot` is not installed where the daemon runs,
    /// failed, or ran too long; `data.reason` says which. The DOT format always works.
    public static let rendererUnavailable = RPCErrorCode(rawValue: -32014)
    /// `set` deleted a field the object does not have; data {id, field}. Nothing else of the
    /// request was applied; the name was interned as CPython 3.11's failed `del` interns it.
    public static let noSuchField = RPCErrorCode(rawValue: -32015)
}
