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
    /// How a deferred method's slow half takes the lock again (nil: it cannot, as in a batch,
    /// whose later requests must not run before this one's view is taken).
    var heapAccess: HeapAccess? = nil
}

/// A method the server can run: its handler. Handlers run inside the heap's lock, so they do
/// only the heap's work and return a typed result; encoding happens after the lock is released.
/// They throw `HeapError`, `ServerError` or `RPCError` (all `RPCErrorConvertible`) and change
/// nothing when they do.
protocol ServerMethod: HeapMethod {
    func run(_ server: inout ServerState, _ request: inout RequestContext) throws -> Result
    /// A requirement (not only an extension method), so a call through `any ServerMethod` reaches
    /// ``DeferredServerMethod``'s version, which leaves the slow half for after the lock.
    func execute(_ server: inout ServerState, _ request: inout RequestContext) throws -> any HeapResult
}

extension ServerMethod {
    /// Runs the handler with its result boxed for the trip out of the lock.
    func execute(_ server: inout ServerState, _ request: inout RequestContext) throws -> any HeapResult {
        try run(&server, &request)
    }
}

/// A method whose slow part runs after the heap's lock is released: `prepare` takes what it
/// needs from the heap inside the lock (a consistent view, O(heap) at most), and the closure it
/// returns does the rest outside it (a large text, a file, a child process), on the requesting
/// connection's event loop. Other connections keep using the heap meanwhile; the view is the heap
/// as it was when the request ran, so the answer is exactly as stale as the request is old. The
/// graph methods are the exception: a big heap's graph is taken in slices after the lock
/// (``HeapAccess``), and their view is the heap when the last slice was taken, which is still one
/// moment between the request and its reply.
protocol DeferredServerMethod: ServerMethod {
    func prepare(
        _ server: inout ServerState, _ request: inout RequestContext
    ) throws -> @Sendable () throws -> Result
}

extension DeferredServerMethod {
    /// Both halves at once (for in-process callers that hold no lock).
    func run(_ server: inout ServerState, _ request: inout RequestContext) throws -> Result {
        try prepare(&server, &request)()
    }

    func execute(_ server: inout ServerState, _ request: inout RequestContext) throws -> any HeapResult {
        let finish = try prepare(&server, &request)
        return PendingResult { try finish() }
    }
}

/// The second half of a ``DeferredServerMethod``, carried out of the lock. ``HeapService``
/// replaces it by what `finish` returns (or its error) before any reply is encoded.
struct PendingResult: HeapResult {
    let finish: @Sendable () throws -> any HeapResult

    func write(to result: JSONObjectWriter) {
        preconditionFailure("a pending result is finished before it is encoded")
    }

    /// Runs the second half: the reply's outcome.
    func outcome() -> Result<any HeapResult, RPCError> {
        do {
            return .success(try finish())
        } catch let error as any RPCErrorConvertible {
            return .failure(error.rpcError)
        } catch {
            return .failure(.internalError("\(error)"))
        }
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
