import CJansson

/// An owned Jansson tree, built for writing: from a ``JSONValue``, or member by member with
/// ``JSONObjectWriter`` so that a typed result goes straight into Jansson without a
/// ``JSONValue`` in between. Released (`json_decref`) when the document is.
///
/// Noncopyable: exactly one owner releases the tree.
public struct JSONDocument: ~Copyable {
    let root: JSONPointer

    init(taking root: JSONPointer) { self.root = root }

    /// The tree for `value`; fails on an invalid `.raw` fragment or nesting beyond
    /// ``JSONCodec/maximumEncodingDepth``.
    public init(_ value: JSONValue) throws(JSONEncodeError) {
        root = try JanssonTree.build(value, maximumDepth: JSONCodec.maximumEncodingDepth)
    }

    /// A JSON object whose members `body` writes.
    public init(object body: (JSONObjectWriter) -> Void) {
        JSONCodec.bootstrap()
        root = json_object()!
        body(JSONObjectWriter(node: root))
    }

    /// A JSON array whose elements `body` appends.
    public init(array body: (JSONArrayWriter) -> Void) {
        JSONCodec.bootstrap()
        root = json_array()!
        body(JSONArrayWriter(node: root))
    }

    deinit { json_decref(root) }

    /// Dumps the compact text into `buffer` and returns its full length. When that is more than
    /// `buffer.count`, the text did not fit: call again with at least that much room.
    public func dump(into buffer: UnsafeMutableRawBufferPointer) -> Int {
        let needed = json_dumpb(
            root, buffer.baseAddress?.assumingMemoryBound(to: CChar.self), buffer.count,
            JanssonTree.dumpFlags)
        // 0 means failure: only allocation failure or a cycle, which built trees cannot hold.
        precondition(needed > 0, "json_dumpb failed")
        return needed
    }

    /// The compact text.
    public func bytes() -> [UInt8] { JanssonTree.dump(root) }
}

/// Writes the members of one JSON object under construction (a borrowed handle: valid while the
/// ``JSONDocument`` it belongs to is being built). A later member with the same key replaces an
/// earlier one.
public struct JSONObjectWriter {
    let node: JSONPointer

    private func set(_ key: String, _ child: JSONPointer) {
        // Swift strings are valid UTF-8, so Jansson's check is skipped; the length allows NUL.
        _ = JanssonTree.withUTF8(key) { json_object_setn_new_nocheck(node, $0, $1, child) }
    }

    public func set(_ key: String, _ value: Int64) { set(key, json_integer(json_int_t(value))) }
    public func set(_ key: String, _ value: Int) { set(key, json_integer(json_int_t(value))) }
    public func set(_ key: String, _ value: UInt64) { set(key, json_integer(json_int_t(clamping: value))) }
    public func set(_ key: String, _ value: Bool) { set(key, value ? json_true() : json_false()) }
    public func set(_ key: String, _ value: String) { set(key, JanssonTree.string(value)) }
    /// Non-finite numbers are written as null, as JavaScript does.
    public func set(_ key: String, _ value: Double) { set(key, json_real(value) ?? json_null()) }
    public func setNull(_ key: String) { set(key, json_null()) }

    /// An integer, or null when `value` is nil.
    public func set(_ key: String, _ value: Int64?) {
        if let value { set(key, value) } else { setNull(key) }
    }

    /// A string, or null when `value` is nil.
    public func set(_ key: String, _ value: String?) {
        if let value { set(key, value) } else { setNull(key) }
    }

    /// Any ``JSONValue`` (for the few members that are not typed, such as an error's `data`).
    /// A value that cannot be encoded is written as null.
    public func set(_ key: String, _ value: JSONValue) {
        set(key, (try? JanssonTree.build(value, maximumDepth: JSONCodec.maximumEncodingDepth)) ?? json_null())
    }

    /// Already-encoded JSON text (stored object data), parsed into the tree; nil or text that
    /// does not parse is written as null.
    public func set(_ key: String, rawJSON bytes: [UInt8]?) {
        guard let bytes else { return setNull(key) }
        let node = bytes.withUnsafeBytes { try? JanssonTree.load($0, flags: JanssonTree.rawFlags) }
        set(key, node ?? json_null())
    }

    /// A request id (number, string or null).
    public func set(_ key: String, _ id: RPCID) {
        switch id {
        case .number(let n): set(key, n)
        case .string(let s): set(key, s)
        case .null: setNull(key)
        }
    }

    /// A nested object whose members `body` writes.
    public func object(_ key: String, _ body: (JSONObjectWriter) -> Void) {
        let child = json_object()!
        body(JSONObjectWriter(node: child))
        set(key, child)
    }

    /// A nested array whose elements `body` appends.
    public func array(_ key: String, _ body: (JSONArrayWriter) -> Void) {
        let child = json_array()!
        body(JSONArrayWriter(node: child))
        set(key, child)
    }

    /// An array of integers.
    public func array<S: Sequence>(_ key: String, integers: S) where S.Element: BinaryInteger {
        array(key) { a in for n in integers { a.append(Int64(clamping: n)) } }
    }

    /// An array of strings.
    public func array<S: Sequence<String>>(_ key: String, strings: S) {
        array(key) { a in for s in strings { a.append(s) } }
    }
}

/// Appends the elements of one JSON array under construction (a borrowed handle, as
/// ``JSONObjectWriter``).
public struct JSONArrayWriter {
    let node: JSONPointer

    public func append(_ value: Int64) { json_array_append_new(node, json_integer(json_int_t(value))) }
    public func append(_ value: String) { json_array_append_new(node, JanssonTree.string(value)) }
    public func append(_ value: Bool) { json_array_append_new(node, value ? json_true() : json_false()) }
    public func appendNull() { json_array_append_new(node, json_null()) }

    public func appendObject(_ body: (JSONObjectWriter) -> Void) {
        let child = json_object()!
        body(JSONObjectWriter(node: child))
        json_array_append_new(node, child)
    }

    public func appendArray(_ body: (JSONArrayWriter) -> Void) {
        let child = json_array()!
        body(JSONArrayWriter(node: child))
        json_array_append_new(node, child)
    }
}
