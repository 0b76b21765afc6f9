import HeapProtocol
import JSONRPC

/// Why the server (not the heap) refused a request: session attachment and shutdown.
enum ServerError: Error, RPCErrorConvertible {
    case sessionAttachedElsewhere(String)
    case noSessionNamed(String)
    case notInNamedSession
    case notNamed
    case shuttingDown
    case connectionClosed

    var rpcError: RPCError {
        switch self {
        case .sessionAttachedElsewhere(let name):
            return RPCError(
                code: .sessionConflict, message: "session '\(name)' is attached to another connection",
                data: ["name": .string(name)])
        case .noSessionNamed(let name):
            return RPCError(code: .noSuchSession, message: "no session named '\(name)'")
        case .notInNamedSession:
            return RPCError(
                code: .noSuchSession, message: "this connection is not in a named session; pass params.name")
        case .notNamed:
            return RPCError(code: .noSuchSession, message: "the session is not a named session")
        case .shuttingDown:
            return RPCError(code: .shuttingDown, message: "the daemon is shutting down")
        case .connectionClosed:
            return .internalError("connection is closed")
        }
    }
}
