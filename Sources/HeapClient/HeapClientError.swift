import JSONRPC

/// Why a call to heapd failed.
public enum HeapClientError: Error, CustomStringConvertible {
    /// Nothing answers on the socket (the daemon is not running there).
    case unreachable(path: String, reason: String)
    /// The daemon answered with a JSON-RPC error.
    case rpc(RPCError)
    /// The connection broke or the daemon sent something that is not JSON-RPC.
    case connection(String)

    public var description: String {
        switch self {
        case .unreachable(let path, let reason): return "cannot connect to heapd at \(path): \(reason)"
        case .rpc(let e): return "error \(e.code.rawValue): \(e.message)"
        case .connection(let m): return "connection to heapd failed: \(m)"
        }
    }
}
