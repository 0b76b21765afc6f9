/// What a parsed frame holds at the top level, which decides how a server answers it.
///
/// JSON-RPC 2.0: an object is one message; an array is a batch (answered with an array of the
/// replies, or nothing if all were notifications); an empty array gets a single invalid-request
/// reply; any other JSON value gets a single invalid-request reply with id null.
/// Not `Sendable`: the nodes borrow the parsed tree.
public enum RPCFrameContent {
    case single(JanssonNode)
    /// A non-empty batch, elements in order. Elements may be anything; check each with
    /// ``RPCEnvelope/decodeEnvelope(_:)``.
    case batch([JanssonNode])
    case emptyBatch
    /// A scalar at the top level.
    case notStructured

    public static func classify(_ root: JanssonNode) -> RPCFrameContent {
        switch root.kind {
        case .object: return .single(root)
        case .array: return root.count == 0 ? .emptyBatch : .batch(root.elements)
        default: return .notStructured
        }
    }
}
