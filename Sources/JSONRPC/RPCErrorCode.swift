/// A JSON-RPC error code. This target defines the standard ones (-32700 … -32603); heapd's own
/// (-32001 …) live with the protocol (`HeapProtocol`'s `RPCErrorCode` extension).
///
/// A struct with static members rather than an enum so clients can hold codes this version does
/// not know yet and servers can add codes without breaking exhaustive switches elsewhere.
/// The daemon range -32000 … -32099 is reserved by JSON-RPC 2.0 for implementation-defined
/// server errors.
public struct RPCErrorCode: RawRepresentable, Hashable, Sendable {
    public let rawValue: Int

    public init(rawValue: Int) {
        self.rawValue = rawValue
    }

    // MARK: JSON-RPC 2.0

    /// The text was not valid JSON (or an LSP header was unreadable).
    public static let parseError = RPCErrorCode(rawValue: -32700)
    /// Valid JSON but not a valid request object.
    public static let invalidRequest = RPCErrorCode(rawValue: -32600)
    public static let methodNotFound = RPCErrorCode(rawValue: -32601)
    public static let invalidParams = RPCErrorCode(rawValue: -32602)
    public static let internalError = RPCErrorCode(rawValue: -32603)

    /// The standard code's name for logs (`"invalidParams"`), or `nil` for other codes.
    public var name: String? {
        Self.names[self]
    }

    private static let names: [RPCErrorCode: String] = [
        .parseError: "parseError", .invalidRequest: "invalidRequest",
        .methodNotFound: "methodNotFound", .invalidParams: "invalidParams",
        .internalError: "internalError",
    ]
}

extension RPCErrorCode: CustomStringConvertible {
    public var description: String {
        name.map { "\(rawValue) (\($0))" } ?? "\(rawValue)"
    }
}
