/// The journal's binary form of a batch op: a kind byte, then its values; an object argument
/// is a byte (0: an id, 1: `$k`) and a varint.
extension BatchOp {
    func encode(into w: inout BinaryWriter) {
        switch self {
        case .alloc(let type, let size, nil):
            w.u8(1); w.string(type); w.optional(size) { $0.varint($1) }
        case .alloc(let type, let size, let site?):
            w.u8(6); w.string(type); w.optional(size) { $0.varint($1) }; w.string(site)
        case .ref(let t):
            w.u8(2); t.encode(into: &w)
        case .unref(let t):
            w.u8(3); t.encode(into: &w)
        case .set(let t, let field, let target):
            w.u8(4); t.encode(into: &w); w.string(field)
            w.optional(target) { $1.encode(into: &$0) }
        case .weakref(let t, let callback):
            w.u8(5); t.encode(into: &w); w.bool(callback)
        }
    }

    static func decode(from r: inout BinaryReader) throws -> BatchOp {
        let kind = try r.u8()
        switch kind {
        case 1:
            let type = try r.string()
            return .alloc(type: type, size: try r.optional { r throws(BinaryReader.Truncated) in try r.varint() })
        case 6:
            let type = try r.string()
            let size = try r.optional { r throws(BinaryReader.Truncated) in try r.varint() }
            return .alloc(type: type, size: size, site: try r.string())
        case 2: return .ref(try BatchTarget.decode(from: &r))
        case 3: return .unref(try BatchTarget.decode(from: &r))
        case 4:
            let t = try BatchTarget.decode(from: &r)
            let field = try r.string()
            let hasTarget = try r.u8() != 0
            return .set(t, field: field, target: hasTarget ? try BatchTarget.decode(from: &r) : nil)
        case 5: return .weakref(try BatchTarget.decode(from: &r), callback: try r.bool())
        default: throw HeapOperation.DecodingError(reason: "unknown batch op kind \(kind)")
        }
    }
}

extension BatchTarget {
    func encode(into w: inout BinaryWriter) {
        switch self {
        case .id(let id): w.u8(0); w.varint(id.raw)
        case .result(let k): w.u8(1); w.varint(UInt64(k))
        }
    }

    static func decode(from r: inout BinaryReader) throws -> BatchTarget {
        let kind = try r.u8()
        let value = try r.varint()
        switch kind {
        case 0: return .id(ObjectID(raw: value))
        case 1:
            guard value < 1 << 24 else { throw HeapOperation.DecodingError(reason: "implausible op index \(value)") }
            return .result(Int(value))
        default: throw HeapOperation.DecodingError(reason: "unknown batch target kind \(kind)")
        }
    }
}
