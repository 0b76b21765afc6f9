import HeapCore
import JSONRPC

/// The wire's wording of every `HeapError`, written once: the JSON-RPC code, a message that
/// names the parameter at fault (SPEC §2.2), and `data` where a client needs the values.
extension HeapError {
    /// The JSON-RPC error a client sees for a refused heap operation.
    public var rpcError: RPCError {
        switch self {
        case .noSuchObject(let id, let absence):
            let message = absence == .freed ? "object \(id) was freed" : "object \(id) does not exist"
            return RPCError(
                code: .noSuchObject, message: message,
                data: ["id": id.json, "state": .string(absence.rawValue)])
        case .referenceNotHeld(let id):
            return RPCError(
                code: .referenceNotHeld, message: "this session holds no reference to object \(id)",
                data: ["id": id.json])
        case .noSuchRoot(let name):
            return RPCError(code: .noSuchRoot, message: "no root named '\(name)'", data: ["name": .string(name)])
        case .noSuchField(let id, let field):
            return RPCError(
                code: .noSuchField,
                message: "params.fields.\(field): object \(id) has no field '\(field)' to delete; nothing was changed "
                    + "(the name is interned in its type's field order, as CPython's failed del does)",
                data: ["id": id.json, "field": .string(field)])
        case .emptyTypeName: return .invalidParams("params.type: must be a non-empty string")
        case .weakrefTypeReserved:
            return .invalidParams("params.type: 'weakref' objects are made by the weakref method")
        case .emptyFieldName: return .invalidParams("params.fields: field names must be non-empty")
        case .emptyRootName: return .invalidParams("params.name: must be a non-empty string")
        case .fieldNameTooLong(let limit):
            return .invalidParams("params.fields: field names are at most \(limit) bytes")
        case .tooManyFields(let limit): return .invalidParams("params.fields: at most \(limit) fields")
        case .generationOutOfRange(let g): return .invalidParams("params.generation: must be 0, 1 or 2, got \(g)")
        case .thresholdCount(let n): return .invalidParams("params.threshold: expected 1 to 3 integers, got \(n)")
        case .thresholdOutOfRange(let i, let v):
            return .invalidParams("params.threshold[\(i)]: must be between \(Int32.min) and \(Int32.max), got \(v)")
        case .leaseOutOfRange(let s):
            return .invalidParams("params.lease_s: must be a number of seconds above 0, got \(s)")
        case .batchForwardReference(let op, let k):
            return .invalidParams("\"$\(k)\" names op \(k), which does not come before this op (\(op))")
        case .batchTargetNotAnObject(_, let k, let name):
            return .invalidParams("\"$\(k)\" names op \(k) (\(name)), which produces no object id")
        case .batchTargetFailed(_, let k, let name):
            return .invalidParams("\"$\(k)\" names op \(k) (\(name)), which failed")
        case .objectQuota(let limit, let live):
            return RPCError(code: .quotaExceeded, message: "heap quota exceeded: \(live) objects of at most \(limit)")
        case .byteQuota(let limit, let total, let adding):
            return RPCError(
                code: .quotaExceeded,
                message: "heap quota exceeded: \(total) + \(adding) bytes is over \(limit)")
        case .sizeUnrepresentable(let n):
            return .invalidParams("params.size: at most \(HeapLimits.maxObjectSize) bytes, got \(n)")
        case .bytesUnrepresentable(let total, let adding):
            return RPCError(
                code: .quotaExceeded,
                message: "heap quota exceeded: \(total) + \(adding) bytes cannot be counted")
        case .refcountLimit(let id):
            return RPCError(code: .quotaExceeded, message: "object \(id) has the most references it can hold")
        case .fieldLimit(let id):
            return RPCError(code: .quotaExceeded, message: "object \(id) has the most fields an object can have")
        case .rootQuota(let limit):
            return RPCError(code: .quotaExceeded, message: "heap quota exceeded: at most \(limit) named roots")
        case .sessionQuota(let limit):
            return RPCError(code: .quotaExceeded, message: "heap quota exceeded: at most \(limit) sessions")
        case .sessionExists(let name):
            return RPCError(code: .sessionConflict, message: "session '\(name)' already exists")
        case .sessionClosed(let id): return RPCError(code: .noSuchSession, message: "session \(id) is closed")
        case .scopeTooDeep(let limit): return RPCError(code: .scopeError, message: "scopes nest at most \(limit) deep")
        case .noScopeToExit: return RPCError(code: .scopeError, message: "no scope to exit")
        case .batchOpFailed(let op, let name, let error):
            // The failing op's own error, its message prefixed and `op` added to its data.
            let inner = error.rpcError
            var data: [(String, JSONValue)] = [("op", .int(Int64(op)))]
            if case .object(let members)? = inner.data { data += members }
            return RPCError(code: inner.code, message: "ops[\(op)] (\(name)): \(inner.message)", data: .object(data))
        }
    }
}

extension HeapError: RPCErrorConvertible {}
