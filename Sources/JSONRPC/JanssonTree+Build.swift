import CJansson

/// ``JSONValue`` → Jansson tree, without recursion and with a depth limit.
///
/// The limit exists because `json_dump*` and `json_decref` recurse once per level; a value nested
/// 100,000 deep would crash the process there (measured). `.raw` fragments are parsed by Jansson
/// and add at most 2048 further levels.
extension JanssonTree {
    /// One container whose children still have to be created and attached.
    private struct Pending {
        let node: JSONPointer
        let elements: [JSONValue]
        let members: [(String, JSONValue)]
        var index = 0
        var count: Int { Swift.max(elements.count, members.count) }
    }

    /// Builds a new tree owned by the caller.
    static func build(_ value: JSONValue, maximumDepth: Int) throws(JSONEncodeError) -> JSONPointer {
        JSONCodec.bootstrap()
        var pending: [Pending] = []
        let root = try makeNode(value, pending: &pending, maximumDepth: maximumDepth)
        while !pending.isEmpty {
            let top = pending.count - 1
            guard pending[top].index < pending[top].count else {
                pending.removeLast()
                continue
            }
            let parent = pending[top]
            pending[top].index += 1
            let child: JSONPointer
            do {
                if parent.members.isEmpty {
                    child = try makeNode(parent.elements[parent.index], pending: &pending, maximumDepth: maximumDepth)
                } else {
                    child = try makeNode(parent.members[parent.index].1, pending: &pending, maximumDepth: maximumDepth)
                }
            } catch {
                json_decref(root)
                throw error
            }
            if parent.members.isEmpty {
                json_array_append_new(parent.node, child)
            } else {
                let key = parent.members[parent.index].0
                key.withCString { base in
                    // Swift strings are valid UTF-8, so Jansson's check can be skipped. The length
                    // is passed so keys may hold NUL. An existing key is replaced: the later wins.
                    _ = json_object_setn_new_nocheck(parent.node, base, key.utf8.count, child)
                }
            }
        }
        return root
    }

    /// Creates the node for `value`. Containers are created empty and queued on `pending` so
    /// their children are attached by the caller's loop.
    private static func makeNode(
        _ value: JSONValue, pending: inout [Pending], maximumDepth: Int
    ) throws(JSONEncodeError) -> JSONPointer {
        switch value {
        case .null: return json_null()
        case .bool(let flag): return flag ? json_true() : json_false()
        case .int(let number): return json_integer(json_int_t(number))
        case .double(let number):
            // JSON has no NaN or infinity and Jansson refuses them; write null, as JavaScript does.
            return json_real(number) ?? json_null()
        case .string(let text):
            return text.withCString { json_stringn_nocheck($0, text.utf8.count) }
        case .raw(let bytes):
            let loaded = bytes.withUnsafeBytes { buffer in
                Result { () throws(JSONParseError) in try load(buffer, flags: rawFlags) }
            }
            switch loaded {
            case .success(let node): return node
            case .failure(let error): throw .invalidRaw(error)
            }
        case .array(let elements):
            guard pending.count < maximumDepth else { throw .tooDeep(limit: maximumDepth) }
            let node = json_array()!
            if !elements.isEmpty { pending.append(Pending(node: node, elements: elements, members: [])) }
            return node
        case .object(let members):
            guard pending.count < maximumDepth else { throw .tooDeep(limit: maximumDepth) }
            let node = json_object()!
            if !members.isEmpty { pending.append(Pending(node: node, elements: [], members: members)) }
            return node
        }
    }
}
