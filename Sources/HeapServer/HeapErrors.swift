import HeapCore
import JSONRPC

extension HeapError {
    /// The JSON-RPC error a client sees for a refused heap operation.
    var rpcError: RPCError {
        switch self {
        case .noSuchObject(let id, let absence):
            return RPCError(code: .noSuchObject, message: message,
                            data: ["id": id.json, "state": .string(absence.rawValue)])
        case .referenceNotHeld(let id):
            return RPCError(code: .referenceNotHeld, message: message, data: ["id": id.json])
        case .quotaExceeded: return RPCError(code: .quotaExceeded, message: message)
        case .noSuchSession: return RPCError(code: .noSuchSession, message: message)
        case .sessionConflict: return RPCError(code: .sessionConflict, message: message)
        case .scope: return RPCError(code: .scopeError, message: message)
        case .noSuchRoot(let name): return RPCError(code: .noSuchRoot, message: message, data: ["name": .string(name)])
        case .invalidArgument(let m): return .invalidParams(m)
        case .diskFull: return RPCError(code: .diskFull, message: message)
        case .batchOpFailed(let op, _, let error):
            // The failing op's own error, its message prefixed and `op` added to its data.
            let inner = error.rpcError
            var data: [(String, JSONValue)] = [("op", .int(Int64(op)))]
            if case .object(let members)? = inner.data { data += members }
            return RPCError(code: inner.code, message: message, data: .object(data))
        }
    }
}
