import CJansson

/// A Jansson node pointer. Every tree this target creates is owned by exactly one caller, which
/// releases it with `json_decref` (see ``JanssonTree``).
typealias JSONPointer = UnsafeMutablePointer<json_t>

/// The small set of Jansson calls the rest of the target goes through: loading, dumping,
/// classifying. Keeping them here means flags and ownership rules are decided in one place.
///
/// Recursion: Jansson's parser stops at 2048 levels, but `json_dump*` and `json_decref` recurse
/// without limit, about 300 bytes of stack per level for dumping. So trees built from Swift values
/// are depth-checked (``JSONCodec/maximumEncodingDepth``), and Swift-side walks over trees are
/// iterative. A 2048-level dump needs ~0.6 MB of stack: fine on NIO event-loop threads (8 MB by
/// default), not on threads created with small stacks.
enum JanssonTree {
    /// Flags for every parse: any JSON text at the top level (JSON-RPC needs arrays and objects;
    /// `raw` fragments can be scalars), duplicates rejected (which member would win is a guess),
    /// and `\u0000` allowed inside string values (it is valid JSON and Swift strings hold it).
    static let parseFlags = Int(JSON_DECODE_ANY | JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL)

    /// Flags for parsing `.raw` fragments: same as ``parseFlags`` but without duplicate
    /// rejection, since raw text was produced or accepted elsewhere and is embedded as is.
    static let rawFlags = Int(JSON_DECODE_ANY | JSON_ALLOW_NUL)

    /// Compact output, scalars allowed at the top level, and 17 significant digits for reals,
    /// which is what makes every `Double` parse back to the same `Double`.
    static let dumpFlags = Int(JSON_COMPACT | JSON_ENCODE_ANY) | heapd_json_real_precision(17)

    /// Parses `bytes` into a new tree owned by the caller.
    static func load(_ bytes: UnsafeRawBufferPointer, flags: Int) throws(JSONParseError) -> JSONPointer {
        JSONCodec.bootstrap()
        var error = json_error_t()
        // `json_loadb` rejects a NULL buffer with an unhelpful "wrong arguments"; an empty input
        // should instead report what is missing, so point it at a real (empty) buffer.
        let root: JSONPointer? = withUnsafeTemporaryAllocation(of: CChar.self, capacity: 1) { empty in
            let base = bytes.baseAddress?.assumingMemoryBound(to: CChar.self) ?? UnsafePointer(empty.baseAddress!)
            return json_loadb(base, bytes.count, flags, &error)
        }
        guard let root else { throw JSONParseError(error) }
        return root
    }

    /// Writes `node` as compact JSON text (no trailing newline) in one pass.
    static func dump(_ node: JSONPointer) -> [UInt8] {
        var output: [UInt8] = []
        withUnsafeMutablePointer(to: &output) { outputPointer in
            let status = json_dump_callback(
                node,
                { buffer, size, context in
                    guard let buffer, let context else { return -1 }
                    let sink = context.assumingMemoryBound(to: [UInt8].self)
                    sink.pointee.append(contentsOf: UnsafeRawBufferPointer(start: buffer, count: size))
                    return 0
                }, outputPointer, dumpFlags)
            // Jansson fails only on allocation failure or a reference cycle, neither of which a
            // tree built by this target can contain.
            precondition(status == 0, "json_dump_callback failed")
        }
        return output
    }

    /// A string node; Swift strings are valid UTF-8, so Jansson's check is skipped.
    static func string(_ text: String) -> JSONPointer {
        withUTF8(text) { json_stringn_nocheck($0, $1) }
    }

    /// The UTF-8 bytes of `text` as a C pointer and a length, without copying a native string.
    static func withUTF8<R>(_ text: String, _ body: (UnsafePointer<CChar>, Int) -> R) -> R {
        var text = text
        return text.withUTF8 { utf8 in
            guard let base = utf8.baseAddress else { return "".withCString { body($0, 0) } }
            return base.withMemoryRebound(to: CChar.self, capacity: utf8.count) { body($0, utf8.count) }
        }
    }

    /// The JSON type of `node`.
    static func kind(_ node: JSONPointer) -> JSONKind {
        switch json_type(rawValue: UInt32(heapd_json_typeof(node))) {
        case JSON_OBJECT: return .object
        case JSON_ARRAY: return .array
        case JSON_STRING: return .string
        case JSON_INTEGER: return .integer
        case JSON_REAL: return .real
        case JSON_TRUE, JSON_FALSE: return .bool
        default: return .null
        }
    }

    /// The contents of a string node; strings may contain NUL, so the length comes from Jansson.
    static func string(_ node: JSONPointer) -> String {
        let length = json_string_length(node)
        guard let base = json_string_value(node), length > 0 else { return "" }
        return String(decoding: UnsafeRawBufferPointer(start: base, count: length), as: UTF8.self)
    }

    /// The key an object iterator points at (keys cannot contain NUL when parsed, but the length
    /// is taken from Jansson anyway).
    static func key(_ iterator: UnsafeMutableRawPointer) -> String {
        let length = json_object_iter_key_len(iterator)
        guard let base = json_object_iter_key(iterator), length > 0 else { return "" }
        return String(decoding: UnsafeRawBufferPointer(start: base, count: length), as: UTF8.self)
    }

    /// Converts a scalar node; containers are handled by the walk in ``toValue(_:)``.
    static func scalar(_ node: JSONPointer) -> JSONValue {
        switch kind(node) {
        case .string: return .string(string(node))
        case .integer: return .int(Int64(json_integer_value(node)))
        case .real: return .double(json_real_value(node))
        case .bool: return .bool(heapd_json_typeof(node) == Int32(JSON_TRUE.rawValue))
        case .null, .array, .object: return .null
        }
    }
}
