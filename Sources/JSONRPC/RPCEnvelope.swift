/// JSON-RPC 2.0 envelopes: checking incoming requests, and building outgoing messages.
///
/// Incoming requests are checked on the borrowed ``JanssonNode`` tree so the server can decode
/// `params` into typed values without an intermediate ``JSONValue``. Outgoing messages are built
/// as ``JSONValue`` and written with ``JSONCodec/encode(_:)``.
public enum RPCEnvelope {
    /// The version string every message must carry.
    public static let version = "2.0"

    /// Checks one request object (an element of a batch, or a whole frame) against JSON-RPC 2.0.
    ///
    /// The id is read first, so that later errors can be reported against it. Unknown members
    /// are ignored. A message with `"id": null` is a request (its reply has id null); a message
    /// without `id` is a notification.
    public static func decodeEnvelope(_ node: JanssonNode) -> RPCEnvelopeResult {
        guard node.kind == .object else {
            return .invalid(id: nil, error: .invalidRequest("request must be an object, got \(node.kind.rawValue)"))
        }
        var id: RPCID?
        if let idNode = node["id"] {
            switch decodeID(idNode) {
            case .success(let decoded): id = decoded
            case .failure(let error): return .invalid(id: nil, error: error)
            }
        }
        guard let versionNode = node["jsonrpc"] else {
            return .invalid(id: id, error: .invalidRequest(#""jsonrpc" is missing; it must be "2.0""#))
        }
        guard let version = versionNode.string else {
            return .invalid(
                id: id, error: .invalidRequest(#""jsonrpc" must be "2.0", got "# + versionNode.kind.rawValue))
        }
        guard version == Self.version else {
            return .invalid(
                id: id,
                error: .invalidRequest(#""jsonrpc" must be "2.0", got "# + JSONCodec.encodeString(.string(version))))
        }
        guard let methodNode = node["method"] else {
            return .invalid(id: id, error: .invalidRequest(#""method" is missing"#))
        }
        guard let method = methodNode.string else {
            return .invalid(
                id: id, error: .invalidRequest(#""method" must be a string, got "# + methodNode.kind.rawValue))
        }
        let params = node["params"]
        if let params, params.kind != .object, params.kind != .array {
            return .invalid(
                id: id, error: .invalidRequest(#""params" must be an object or array, got "# + params.kind.rawValue))
        }
        return .request(id: id, method: method, params: params)
    }

    /// Reads a request id: integer, string, null, or a real with an integral value.
    private static func decodeID(_ node: JanssonNode) -> Result<RPCID, RPCError> {
        switch node.kind {
        case .integer: return .success(.number(node.int64!))
        case .string: return .success(.string(node.string!))
        case .null: return .success(.null)
        case .real:
            let value = node.double!
            guard let integral = Int64(exactly: value) else {
                return .failure(.invalidRequest(#""id" must be an integer, string or null, got real \#(value)"#))
            }
            return .success(.number(integral))
        default:
            return .failure(.invalidRequest(#""id" must be an integer, string or null, got "# + node.kind.rawValue))
        }
    }

    /// Sorts a parsed frame into a single message, a batch, or something that cannot be one.
    public static func classify(_ root: JanssonNode) -> RPCFrameContent {
        RPCFrameContent.classify(root)
    }

    // MARK: Building messages

    /// `{"jsonrpc":"2.0","id":…,"result":…}`
    public static func response(id: RPCID, result: JSONValue) -> JSONValue {
        ["jsonrpc": .string(version), "id": id.json, "result": result]
    }

    /// `{"jsonrpc":"2.0","id":…,"error":{"code":…,"message":…,"data"?:…}}`
    public static func errorResponse(id: RPCID, error: RPCError) -> JSONValue {
        ["jsonrpc": .string(version), "id": id.json, "error": error.json]
    }

    /// `{"jsonrpc":"2.0","method":…,"params":…}`: a message that expects no reply.
    public static func notification(method: String, params: JSONValue) -> JSONValue {
        ["jsonrpc": .string(version), "method": .string(method), "params": params]
    }

    /// `{"jsonrpc":"2.0","id":…,"method":…,"params"?:…}`; `params` omitted when `nil`.
    public static func request(id: RPCID, method: String, params: JSONValue?) -> JSONValue {
        var members: [(String, JSONValue)] = [
            ("jsonrpc", .string(version)), ("id", id.json), ("method", .string(method)),
        ]
        if let params { members.append(("params", params)) }
        return .object(members)
    }

    /// Reads a message a server sent to a client; see ``RPCReply/init(json:)``.
    public static func decodeReply(_ value: JSONValue) -> RPCReply? {
        RPCReply(json: value)
    }
}
