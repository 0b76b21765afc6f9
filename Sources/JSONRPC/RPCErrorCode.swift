/// A JSON-RPC error code: the standard ones (-32700 … -32603) and heapd's own (-32001 …).
///
/// A struct with static members rather than an enum so clients can hold codes this version does
/// not know yet and servers can add codes without breaking exhaustive switches elsewhere.
/// The daemon range -32000 … -32099 is reserved by JSON-RPC 2.0 for implementation-defined
/// server errors.
public struct RPCErrorCode: RawRepresentable, Hashable, Sendable {
    public let rawValue: Int

    public init(rawValue: Int) {
        self.rawValue = rawValue
    }

    // MARK: JSON-RPC 2.0

    /// The text was not valid JSON (or an LSP header was unreadable).
    public static let parseError = RPCErrorCode(rawValue: -32700)
    /// Valid JSON but not a valid request object.
    public static let invalidRequest = RPCErrorCode(rawValue: -32600)
    public static let methodNotFound = RPCErrorCode(rawValue: -32601)
    public static let invalidParams = RPCErrorCode(rawValue: -32602)
    public static let internalError = RPCErrorCode(rawValue: -32603)

    // MARK: heapd

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

    /// The code's name for logs and CLI output (`"invalidParams"`), or `nil` for unknown codes.
    public var name: String? {
        Self.names[self]
    }

    private static let names: [RPCErrorCode: String] = [
        .parseError: "parseError", .invalidRequest: "invalidRequest",
        .methodNotFound: "methodNotFound", .invalidParams: "invalidParams",
        .internalError: "internalError", .noSuchObject: "noSuchObject",
        .referenceNotHeld: "referenceNotHeld", .quotaExceeded: "quotaExceeded",
        .sessionConflict: "sessionConflict", .requestTooLarge: "requestTooLarge",
        .shuttingDown: "shuttingDown", .noSuchSession: "noSuchSession",
        .scopeError: "scopeError", .noSuchRoot: "noSuchRoot", .tooManyClients: "tooManyClients",
        .accessDenied: "accessDenied", .diskFull: "diskFull",
    ]
}

extension RPCErrorCode: CustomStringConvertible {
    public var description: String {
        name.map { "\(rawValue) (\($0))" } ?? "\(rawValue)"
    }
}
