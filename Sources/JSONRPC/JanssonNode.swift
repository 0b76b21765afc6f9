import CJansson

/// A borrowed view of one node of a parsed Jansson tree, for typed decoding without building a
/// ``JSONValue`` first.
///
/// Valid only inside the ``JSONCodec/withParsed(_:_:)-(UnsafeRawBufferPointer,_)`` closure that
/// produced it (directly or through subscripts): the tree is freed when that closure returns.
/// Not `Sendable` for the same reason: decode on the thread that parsed, then send the result.
/// Accessors that ask for the wrong type return `nil` rather than converting, so decoders can
/// report "expected integer, got string" using ``kind``.
public struct JanssonNode {
    let pointer: JSONPointer

    init(_ pointer: JSONPointer) {
        self.pointer = pointer
    }

    /// The JSON type of this node.
    public var kind: JSONKind { JanssonTree.kind(pointer) }

    /// The member named `key`, if this is an object that has it. Hash lookup in Jansson.
    public subscript(key: String) -> JanssonNode? {
        guard kind == .object else { return nil }
        let member = key.withCString { json_object_getn(pointer, $0, key.utf8.count) }
        return member.map(JanssonNode.init)
    }

    /// Number of elements (array) or members (object); 0 for scalars.
    public var count: Int {
        switch kind {
        case .array: return json_array_size(pointer)
        case .object: return json_object_size(pointer)
        default: return 0
        }
    }

    /// The element at `index` of an array.
    /// - Precondition: this is an array and `0 <= index < count`.
    public subscript(index: Int) -> JanssonNode {
        precondition(kind == .array && index >= 0 && index < count, "JanssonNode index out of range")
        return JanssonNode(json_array_get(pointer, index)!)
    }

    /// The elements of an array in order; empty for anything else.
    public var elements: [JanssonNode] {
        guard kind == .array else { return [] }
        return (0..<count).map { JanssonNode(json_array_get(pointer, $0)!) }
    }

    /// Calls `body` for each member of an object in document order; does nothing for other kinds.
    public func forEachMember(_ body: (String, JanssonNode) throws -> Void) rethrows {
        guard kind == .object else { return }
        var iterator = json_object_iter(pointer)
        while let current = iterator {
            try body(JanssonTree.key(current), JanssonNode(json_object_iter_value(current)!))
            iterator = json_object_iter_next(pointer, current)
        }
    }

    /// The value of an integer node. Reals are not converted, even integral ones.
    public var int64: Int64? {
        kind == .integer ? Int64(json_integer_value(pointer)) : nil
    }

    /// The value of a real or integer node (integers above 2^53 may round).
    public var double: Double? {
        switch kind {
        case .real: return json_real_value(pointer)
        case .integer: return Double(json_integer_value(pointer))
        default: return nil
        }
    }

    /// The value of a string node (may contain NUL characters).
    public var string: String? {
        kind == .string ? JanssonTree.string(pointer) : nil
    }

    /// The value of a `true` or `false` node.
    public var bool: Bool? {
        kind == .bool ? heapd_json_typeof(pointer) == Int32(JSON_TRUE.rawValue) : nil
    }

    public var isNull: Bool { kind == .null }

    /// A `Sendable` copy of this subtree.
    public func toValue() -> JSONValue {
        JanssonTree.toValue(pointer)
    }

    /// How deeply containers nest in this subtree (a scalar is 0, `[]` and `[1]` are 1, `[[1]]`
    /// is 2). Iterative: a parsed tree is at most 2048 deep, but nothing here relies on that.
    public var depth: Int {
        var deepest = 0
        var pending: [(JSONPointer, Int)] = [(pointer, 1)]
        while let (node, level) = pending.popLast() {
            switch JanssonTree.kind(node) {
            case .array:
                deepest = max(deepest, level)
                for i in 0..<json_array_size(node) { pending.append((json_array_get(node, i)!, level + 1)) }
            case .object:
                deepest = max(deepest, level)
                var iterator = json_object_iter(node)
                while let current = iterator {
                    pending.append((json_object_iter_value(current)!, level + 1))
                    iterator = json_object_iter_next(node, current)
                }
            default:
                break
            }
        }
        return deepest
    }

    /// Compact JSON text of this subtree (reals with 17 digits), e.g. to store object data as
    /// encoded bytes or to embed later as ``JSONValue/raw(_:)``.
    public func encoded() -> [UInt8] {
        JanssonTree.dump(pointer)
    }
}

@available(*, unavailable, message: "JanssonNode borrows a tree freed when withParsed returns")
extension JanssonNode: Sendable {}
