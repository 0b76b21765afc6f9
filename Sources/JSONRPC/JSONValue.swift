/// A JSON document as a Swift value, safe to send across isolation domains.
///
/// Parsed documents are converted from Jansson trees (see ``JSONCodec``); values built in Swift
/// are turned back into Jansson trees only to be written. Objects are arrays of members, not
/// dictionaries, because JSON-RPC peers (and humans reading `heapctl` output) care about key order.
///
/// - Important: Swift destroys nested enums recursively, so a value nested tens of thousands
///   of levels deep (only possible when built in Swift) overflows the stack when released. Parsed
///   values are at most 2048 levels deep and encoding refuses more than
///   ``JSONCodec/maximumEncodingDepth``; keep hand-built values shallow too.
/// - Note: An object may hold the same key twice when built in Swift. Parsing never produces that
///   (duplicates are rejected), and when encoding the later member replaces the earlier one, which
///   is also what ``subscript(_:)`` returns.
public enum JSONValue: Sendable {
    case null
    case bool(Bool)
    case int(Int64)
    case double(Double)
    case string(String)
    case array([JSONValue])
    /// Members in document order.
    case object([(String, JSONValue)])
    /// Already-encoded JSON text, embedded verbatim when encoding.
    ///
    /// Exists so that data kept as encoded bytes (HeapCore keeps object data that way) is not
    /// converted to a tree and back on every reply. The bytes must be one valid JSON text; they
    /// are parsed with Jansson when the reply is built, so invalid bytes are caught at encoding
    /// time (see ``JSONCodec/encode(_:)``). Compared by bytes, so `.raw("1")` != `.int(1)`.
    case raw([UInt8])
}

extension JSONValue {
    /// The value of the member named `key` if this is an object holding it (the last one if the
    /// key is repeated, matching what encoding keeps); `nil` otherwise. Linear in member count.
    public subscript(key: String) -> JSONValue? {
        guard case .object(let members) = self else { return nil }
        return members.last(where: { $0.0 == key })?.1
    }

    /// The element at `index` if this is an array and the index is in range; `nil` otherwise.
    public subscript(index: Int) -> JSONValue? {
        guard case .array(let elements) = self, elements.indices.contains(index) else { return nil }
        return elements[index]
    }

    /// The integer, if this is `.int`. Doubles are not converted (a 1.5 is not silently truncated).
    public var intValue: Int64? {
        if case .int(let value) = self { return value }
        return nil
    }

    /// The number as a double: `.double` as is, `.int` converted (possibly rounding above 2^53).
    public var doubleValue: Double? {
        switch self {
        case .double(let value): return value
        case .int(let value): return Double(value)
        default: return nil
        }
    }

    public var stringValue: String? {
        if case .string(let value) = self { return value }
        return nil
    }

    public var boolValue: Bool? {
        if case .bool(let value) = self { return value }
        return nil
    }

    public var arrayValue: [JSONValue]? {
        if case .array(let value) = self { return value }
        return nil
    }

    /// The members in order, if this is an object.
    public var objectValue: [(String, JSONValue)]? {
        if case .object(let value) = self { return value }
        return nil
    }

    public var isNull: Bool {
        if case .null = self { return true }
        return false
    }

    /// The JSON type of this value as used in error messages ("expected integer, got string").
    /// `nil` for `.raw`, whose type is only known after parsing.
    public var kind: JSONKind? {
        switch self {
        case .null: return .null
        case .bool: return .bool
        case .int: return .integer
        case .double: return .real
        case .string: return .string
        case .array: return .array
        case .object: return .object
        case .raw: return nil
        }
    }
}

extension JSONValue: CustomStringConvertible {
    /// Compact JSON text (via ``JSONCodec/encodeString(_:)``), so values print as they travel.
    public var description: String { JSONCodec.encodeString(self) }
}
