import HeapProtocol
import JSONRPC

/// Why the server (not the heap) refused a request: session attachment, shutdown, rendering.
enum ServerError: Error, RPCErrorConvertible {
    case sessionAttachedElsewhere(String)
    case noSessionNamed(String)
    case notInNamedSession
    case notNamed
    case shuttingDown
    case connectionClosed
    /// `graph`'s SVG: Graphviz's `dot` is not installed, failed or took too long.
    case rendererUnavailable(GraphvizRenderer.Failure)

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
        case .rendererUnavailable(let failure):
            let (reason, message): (String, String) =
                switch failure {
                case .missing:
                    (
                        "missing",
                        "Graphviz's dot is not installed where heapd runs (not on its PATH); "
                            + "ask for format \"dot\" and render the text yourself"
                    )
                case .timedOut:
                    (
                        "timeout",
                        "Graphviz's dot ran longer than \(GraphvizRenderer.timeout) and was stopped; "
                            + "ask for fewer nodes (max_nodes) or for format \"dot\""
                    )
                case .failed(let status, let text):
                    ("failed", "Graphviz's dot failed (exit status \(status))" + (text.isEmpty ? "" : ": \(text)"))
                case .tooLarge:
                    (
                        "too-large",
                        "the SVG is larger than \(GraphvizRenderer.maxOutputBytes >> 20) MiB; ask for fewer nodes"
                    )
                }
            return RPCError(
                code: .rendererUnavailable, message: message,
                data: ["renderer": "dot", "reason": .string(reason)])
        }
    }
}
