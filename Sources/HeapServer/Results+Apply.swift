import HeapCore
import JSONRPC

extension Results {
    /// `apply`: one entry per op (a number, or the error the single method would give) and the
    /// error count; `freed` when the ops freed anything.
    static func apply(_ outcome: BatchOutcome) -> JSONValue {
        let results: [JSONValue] = outcome.results.map { r in
            switch r {
            case .object(let id): return id.json
            case .refcount(let n): return .int(Int64(n))
            case .failed(let error): return errorObject(error.rpcError)
            }
        }
        var members: [(String, JSONValue)] = [("results", .array(results)),
                                              ("errors", .int(Int64(outcome.failures)))]
        if outcome.freed > 0 { members.append(("freed", .int(Int64(outcome.freed)))) }
        return .object(members)
    }

    static func errorObject(_ e: RPCError) -> JSONValue {
        var members: [(String, JSONValue)] = [("code", .int(Int64(e.code.rawValue))), ("message", .string(e.message))]
        if let data = e.data { members.append(("data", data)) }
        return .object(members)
    }
}
