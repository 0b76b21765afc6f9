import HeapCore
import HeapProtocol
import JSONRPC

/// What one request runs with, inside the heap's lock.
struct RequestContext {
    let connection: ConnectionID
    /// The session the connection is in when the request starts.
    let session: SessionID
    let environment: ServerEnvironment
    /// What the request made happen, for its subscribers (and the `freed` lists of replies).
    var events: HeapEvents
}

/// A method the server can run: its handler. Handlers run inside the heap's lock, so they do
/// only the heap's work and return a typed result; encoding happens after the lock is released.
/// They throw `HeapError`, `ServerError` or `RPCError` (all `RPCErrorConvertible`) and change
/// nothing when they do.
protocol ServerMethod: HeapMethod {
    func run(_ server: inout ServerState, _ request: inout RequestContext) throws -> Result
}

extension ServerMethod {
    /// Runs the handler with its result boxed for the trip out of the lock.
    func execute(_ server: inout ServerState, _ request: inout RequestContext) throws -> any HeapResult {
        try run(&server, &request)
    }
}

/// Decodes requests into their handlers, by method name (built once from ``HeapMethods/all``).
enum ServerMethods {
    typealias Decoder = @Sendable (ParamsReader) throws(RPCError) -> any ServerMethod

    static let decoders: [String: Decoder] = {
        var table: [String: Decoder] = [:]
        for method in HeapMethods.all {
            if let decoder = decoder(for: method) { table[method.name] = decoder }
        }
        return table
    }()

    /// Methods of the protocol that the server has no handler for (a test keeps this empty).
    static var unhandled: [String] { HeapMethods.all.map { $0.name }.filter { decoders[$0] == nil } }

    private static func decoder(for method: any HeapMethod.Type) -> Decoder? {
        guard let handled = method as? any ServerMethod.Type else { return nil }
        return decoder(handled)
    }

    private static func decoder<M: ServerMethod>(_ method: M.Type) -> Decoder {
        { params throws(RPCError) in try M(params: params) }
    }

    /// Decodes one request's params; unknown methods and bad params become RPC errors.
    static func decode(method: String, params: JanssonNode?) throws(RPCError) -> any ServerMethod {
        guard let decoder = decoders[method] else { throw .methodNotFound(method) }
        return try decoder(try ParamsReader(params))
    }
}
