/// An upper bound of the binary form's size, computed from the values without encoding them:
/// the journal reserves disk space for a change before applying it (`HeapStore.reserve`). Each
/// varint counts as its longest (10 bytes), each string and blob as that plus its bytes.
extension HeapOperation {
    static let varint = 10

    static func string(_ s: String) -> Int { varint + s.utf8.count }
    static func blob(_ b: [UInt8]) -> Int { varint + b.count }

    public var encodedSizeBound: Int {
        let v = Self.varint
        switch self {
        case .openSession(let name): return 2 + (name.map(Self.string) ?? 0)
        case .closeSession, .enterScope, .exitScope: return 1 + v
        case .transferReferences, .ref, .unref: return 1 + 2 * v
        case .allocate(let spec, _):
            return 1 + v + Self.string(spec.type) + 1 + v + 1 + (spec.data.map(Self.blob) ?? 0) + v
                + spec.fields.reduce(0) { $0 + Self.string($1.name) + v } + 1 + (spec.site.map(Self.string) ?? 0)
        case .set(_, let fields, let data, _):
            return 1 + v + v + fields.reduce(0) { $0 + Self.string($1.name) + 1 + v }
                + 2 + (data.flatMap { $0 }.map(Self.blob) ?? 0) + 1 + v
        case .weakref(_, _, let fields, _):
            return 1 + v + 1 + v + v + fields.reduce(0) { $0 + Self.string($1.name) + v }
        case .collect: return 1 + v
        case .setRoot(let name, _): return 1 + Self.string(name) + 1 + v
        case .configureGC(_, let thresholds, _): return 1 + 2 + 1 + v + v * (thresholds?.count ?? 0) + 1 + v
        case .freeze, .unfreeze, .clearGarbage: return 1
        case .tick: return 5
        case .setLease: return 1 + v + 1 + 8
        case .batch(let ops, _, _): return 1 + v + 1 + v + ops.reduce(0) { $0 + $1.encodedSizeBound }
        case .failedDelete(_, let field): return 1 + v + Self.string(field)
        }
    }
}

extension BatchOp {
    var encodedSizeBound: Int {
        let target = 1 + HeapOperation.varint
        switch self {
        case .alloc(let type, _, let site):
            return 1 + HeapOperation.string(type) + 1 + HeapOperation.varint + (site.map(HeapOperation.string) ?? 0)
        case .ref, .unref: return 1 + target
        case .set(_, let field, _): return 1 + target + HeapOperation.string(field) + 1 + target
        case .weakref: return 1 + target + 1
        }
    }
}
