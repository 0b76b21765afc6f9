/// A message a client receives: a reply to one of its requests, or a server notification.
public enum RPCReply: Sendable, Equatable {
    case result(id: RPCID, JSONValue)
    case error(id: RPCID, RPCError)
    case notification(method: String, params: JSONValue)

    /// Reads one message (not a batch array: decode its elements one by one).
    ///
    /// Returns `nil` for anything that is not a JSON-RPC 2.0 reply or notification, including
    /// requests from the server (heapd sends none) and error objects without an integer `code`
    /// and string `message`. A notification without `params` gets `.null` params.
    public init?(json value: JSONValue) {
        guard value["jsonrpc"]?.stringValue == RPCEnvelope.version else { return nil }
        guard let idValue = value["id"] else {
            guard let method = value["method"]?.stringValue else { return nil }
            self = .notification(method: method, params: value["params"] ?? .null)
            return
        }
        guard value["method"] == nil, let id = RPCID(json: idValue) else { return nil }
        if let errorValue = value["error"] {
            guard let error = RPCError(json: errorValue) else { return nil }
            self = .error(id: id, error)
        } else if let result = value["result"] {
            self = .result(id: id, result)
        } else {
            return nil
        }
    }

    /// The id this reply answers; `nil` for notifications.
    public var id: RPCID? {
        switch self {
        case .result(let id, _), .error(let id, _): return id
        case .notification: return nil
        }
    }
}
