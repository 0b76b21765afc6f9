/// The outcome of ``RPCEnvelope/decodeEnvelope(_:)``.
///
/// Not `Sendable`: `params` borrows the parsed tree.
public enum RPCEnvelopeResult {
    /// A well-formed request (`id` non-nil) or notification (`id` nil). `params` is an object or
    /// array when present.
    case request(id: RPCID?, method: String, params: JanssonNode?)
    /// Not a valid request. JSON-RPC 2.0 requires an error reply even when no id was read:
    /// reply with `id ?? .null` (see ``replyID``).
    case invalid(id: RPCID?, error: RPCError)

    /// The id to put in a reply for an invalid message: the one read, or null.
    public var replyID: RPCID? {
        switch self {
        case .request(let id, _, _): return id
        case .invalid(let id, _): return id ?? .null
        }
    }
}
