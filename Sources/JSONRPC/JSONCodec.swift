import CJansson
import CJanssonAllocator

/// Parsing and writing JSON text with Jansson. No JSON is parsed or printed by hand anywhere in
/// this target; this type is the door to Jansson.
///
/// Two ways in: ``parse(_:)-(UnsafeRawBufferPointer)`` builds a `Sendable` ``JSONValue``;
/// ``withParsed(_:_:)-(UnsafeRawBufferPointer,_)`` lends a ``JanssonNode`` view of the tree for
/// typed decoding without copying, on the parsing thread. Output is always compact JSON without
/// a trailing newline, reals with 17 significant digits (so `7.6` prints as `7.5999999999999996`,
/// which parses back to exactly `7.6`).
///
/// Thread safety: Jansson trees are never shared, so any thread may parse or encode once
/// ``bootstrap()`` has run. This process never calls `setlocale`; Jansson's number conversion
/// depends on the C locale, so nothing else in the process may change it either.
public enum JSONCodec {
    /// Deepest nesting of arrays and objects ``encode(_:)`` accepts, counting containers of the
    /// ``JSONValue`` itself (a `.raw` fragment may add up to 2048 more). Twice Jansson's parse
    /// limit, so any parsed value still encodes after being wrapped in a reply.
    public static let maximumEncodingDepth = 4096

    private static let seeded: Void = {
        // Before anything else: Jansson must free every block with the allocator that made it.
        heapd_jansson_use_thread_caches()
        json_object_seed(0)
    }()

    /// Installs Jansson's per-thread block caches (Sources/CJanssonAllocator) and seeds its hash
    /// function (`json_object_seed(0)`), exactly once. Idempotent and cheap;
    /// every entry point of this target calls it. Servers should still call it on the main thread
    /// before starting any threads: Jansson wants the seed set before the first object exists,
    /// and a one-time call there keeps the seeding off the request path.
    public static func bootstrap() {
        _ = seeded
    }

    // MARK: Parsing to JSONValue

    /// Parses one JSON text (any type at the top level). Duplicate object keys, invalid UTF-8,
    /// integers outside Int64, nesting beyond 2048 levels and trailing garbage are errors.
    public static func parse(_ bytes: UnsafeRawBufferPointer) throws(JSONParseError) -> JSONValue {
        let root = try JanssonTree.load(bytes, flags: JanssonTree.parseFlags)
        defer { json_decref(root) }
        return JanssonTree.toValue(root)
    }

    public static func parse(_ bytes: [UInt8]) throws(JSONParseError) -> JSONValue {
        let result = bytes.withUnsafeBytes { buffer in
            Result { () throws(JSONParseError) in try parse(buffer) }
        }
        return try result.get()
    }

    public static func parse(_ string: String) throws(JSONParseError) -> JSONValue {
        try parse(Array(string.utf8))
    }

    // MARK: Borrowed parsing

    /// Parses `bytes` and lends the root to `body`; the tree is freed when `body` returns or
    /// throws, so the node (and any node reached from it) must not escape the closure.
    ///
    /// - Throws: ``JSONParseError`` if the text is invalid, or whatever `body` throws.
    public static func withParsed<R>(
        _ bytes: UnsafeRawBufferPointer, _ body: (JanssonNode) throws -> R
    ) throws -> R {
        let root = try JanssonTree.load(bytes, flags: JanssonTree.parseFlags)
        defer { json_decref(root) }
        return try body(JanssonNode(root))
    }

    // MARK: Encoding

    /// Compact JSON text for `value`.
    ///
    /// Non-finite doubles are written as `null` (JSON cannot express them).
    /// - Precondition: every `.raw` fragment is valid JSON and nesting is at most
    ///   ``maximumEncodingDepth``; a violation is a programming error and traps. Use
    ///   ``encodeChecked(_:)`` when the value may come from outside.
    public static func encode(_ value: JSONValue) -> [UInt8] {
        do {
            return try encodeChecked(value)
        } catch {
            preconditionFailure("JSONCodec.encode: \(error)")
        }
    }

    /// Like ``encode(_:)`` but reports invalid `.raw` fragments and excessive nesting.
    ///
    /// `.raw` fragments go through Jansson too, so their whitespace is normalised: the output
    /// never contains a newline, which NDJSON framing relies on.
    public static func encodeChecked(_ value: JSONValue) throws(JSONEncodeError) -> [UInt8] {
        let root = try JanssonTree.build(value, maximumDepth: maximumEncodingDepth)
        defer { json_decref(root) }
        return JanssonTree.dump(root)
    }

    /// ``encode(_:)`` as a `String` (for logs, tests and the CLI).
    public static func encodeString(_ value: JSONValue) -> String {
        String(decoding: encode(value), as: UTF8.self)
    }
}
