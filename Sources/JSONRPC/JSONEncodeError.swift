/// Why a ``JSONValue`` could not be written. Only values built in Swift can fail: anything that
/// came from ``JSONCodec/parse(_:)-(UnsafeRawBufferPointer)`` always encodes.
public enum JSONEncodeError: Error, Sendable, Equatable {
    /// A `.raw` fragment was not one valid JSON text.
    case invalidRaw(JSONParseError)
    /// Arrays and objects were nested deeper than ``JSONCodec/maximumEncodingDepth``.
    case tooDeep(limit: Int)
}

extension JSONEncodeError: CustomStringConvertible {
    public var description: String {
        switch self {
        case .invalidRaw(let error): return "raw JSON fragment is invalid: \(error)"
        case .tooDeep(let limit): return "value nested deeper than \(limit) levels"
        }
    }
}
