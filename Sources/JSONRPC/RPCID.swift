/// A request id as JSON-RPC 2.0 allows it: an integer, a string, or null.
///
/// Fractional ids are not representable; ``RPCEnvelope/decodeEnvelope(_:)`` accepts a real id
/// only when it is integral (`3.0` becomes `.number(3)`). `.null` is the id of error replies to
/// messages whose id could not be read, and of requests that really sent `"id": null`.
public enum RPCID: Sendable, Hashable {
    case number(Int64)
    case string(String)
    case null

    public var json: JSONValue {
        switch self {
        case .number(let number): return .int(number)
        case .string(let text): return .string(text)
        case .null: return .null
        }
    }

    /// The id in a reply; `nil` if the value is not an integer, string or null.
    public init?(json: JSONValue) {
        switch json {
        case .int(let number): self = .number(number)
        case .string(let text): self = .string(text)
        case .null: self = .null
        case .double(let number):
            guard let integral = Int64(exactly: number) else { return nil }
            self = .number(integral)
        default: return nil
        }
    }
}

extension RPCID: CustomStringConvertible {
    public var description: String {
        switch self {
        case .number(let number): return String(number)
        case .string(let text): return JSONCodec.encodeString(.string(text))
        case .null: return "null"
        }
    }
}
