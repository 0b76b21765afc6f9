/// The journal's binary form of an operation: a tag byte, then the operation's values.
extension HeapOperation {
    public func encode(into w: inout BinaryWriter) {
        switch self {
        case .openSession(let name):
            w.u8(1); w.optional(name) { $0.string($1) }
        case .closeSession(let s):
            w.u8(2); w.varint(s.raw)
        case .transferReferences(let from, let to):
            w.u8(3); w.varint(from.raw); w.varint(to.raw)
        case .enterScope(let s):
            w.u8(4); w.varint(s.raw)
        case .exitScope(let s):
            w.u8(5); w.varint(s.raw)
        case .allocate(let spec, let s):
            // Tag 21 is tag 6 with a site after it (journals without sites stay readable as they were).
            w.u8(spec.site == nil ? 6 : 21); w.varint(s.raw); w.string(spec.type)
            w.optional(spec.size) { $0.varint($1) }
            w.optional(spec.data) { $0.blob($1) }
            w.varint(UInt64(spec.fields.count))
            for f in spec.fields { w.string(f.name); w.varint(f.target.raw) }
            w.bool(spec.finalizer)
            if let site = spec.site { w.string(site) }
        case .ref(let id, let s):
            w.u8(7); w.varint(id.raw); w.varint(s.raw)
        case .unref(let id, let s):
            w.u8(8); w.varint(id.raw); w.varint(s.raw)
        case .set(let id, let fields, let data, let size):
            w.u8(9); w.varint(id.raw)
            w.varint(UInt64(fields.count))
            for f in fields { w.string(f.name); w.optional(f.target) { $0.varint($1.raw) } }
            w.optional(data) { w, d in w.optional(d) { $0.blob($1) } }
            w.optional(size) { $0.varint($1) }
        case .weakref(let id, let callback, let fields, let s):
            w.u8(10); w.varint(id.raw); w.bool(callback); w.varint(s.raw)
            w.varint(UInt64(fields.count))
            for f in fields { w.string(f.name); w.varint(f.target.raw) }
        case .collect(let g):
            w.u8(11); w.int(g)
        case .setRoot(let name, let id):
            w.u8(12); w.string(name); w.optional(id) { $0.varint($1.raw) }
        case .configureGC(let enabled, let thresholds, let debug):
            w.u8(13)
            w.optional(enabled) { $0.bool($1) }
            w.optional(thresholds) { w, t in
                w.varint(UInt64(t.count)); for v in t { w.int(v) }
            }
            w.optional(debug) { $0.int($1.rawValue) }
        case .freeze: w.u8(14)
        case .unfreeze: w.u8(15)
        case .clearGarbage: w.u8(16)
        case .setLease(let s, let seconds):
            w.u8(17); w.varint(s.raw); w.optional(seconds) { $0.u64($1.bitPattern) }
        case .batch(let ops, let atomic, let s):
            w.u8(18); w.varint(s.raw); w.bool(atomic)
            w.varint(UInt64(ops.count))
            for op in ops { op.encode(into: &w) }
        case .failedDelete(let id, let field):
            w.u8(19); w.varint(id.raw); w.string(field)
        case .tick(let seconds):
            w.u8(22); w.u32(seconds)
        }
    }

    public struct DecodingError: Error, CustomStringConvertible {
        public let reason: String
        public var description: String { reason }
    }

    public static func decode(from r: inout BinaryReader) throws -> HeapOperation {
        func session(_ r: inout BinaryReader) throws -> SessionID { SessionID(raw: try r.varint()) }
        func object(_ r: inout BinaryReader) throws -> ObjectID { ObjectID(raw: try r.varint()) }
        func count(_ r: inout BinaryReader) throws -> Int {
            let n = try r.varint()
            guard n <= 1 << 24 else { throw DecodingError(reason: "implausible count \(n)") }
            return Int(n)
        }
        let tag = try r.u8()
        switch tag {
        case 1: return .openSession(name: try r.optional { r throws(BinaryReader.Truncated) in try r.string() })
        case 2: return .closeSession(try session(&r))
        case 3: return .transferReferences(from: try session(&r), to: try session(&r))
        case 4: return .enterScope(try session(&r))
        case 5: return .exitScope(try session(&r))
        case 6, 21:
            let s = try session(&r)
            let type = try r.string()
            let size = try r.optional { r throws(BinaryReader.Truncated) in try r.varint() }
            let data = try r.optional { r throws(BinaryReader.Truncated) in try r.blob() }
            var fields: [(name: String, target: ObjectID)] = []
            for _ in 0..<(try count(&r)) { fields.append((try r.string(), try object(&r))) }
            let finalizer = try r.bool()
            let site = tag == 21 ? try r.string() : nil
            return .allocate(
                AllocationSpec(type: type, size: size, data: data, fields: fields, finalizer: finalizer, site: site),
                session: s)
        case 7: return .ref(try object(&r), session: try session(&r))
        case 8: return .unref(try object(&r), session: try session(&r))
        case 9:
            let id = try object(&r)
            var fields: [(name: String, target: ObjectID?)] = []
            for _ in 0..<(try count(&r)) {
                fields.append(
                    (
                        try r.string(),
                        try r.optional { r throws(BinaryReader.Truncated) in ObjectID(raw: try r.varint()) }
                    ))
            }
            let data: [UInt8]?? = try r.optional { r throws(BinaryReader.Truncated) in
                try r.optional { r throws(BinaryReader.Truncated) in try r.blob() }
            }
            let size = try r.optional { r throws(BinaryReader.Truncated) in try r.varint() }
            return .set(id, fields: fields, data: data, size: size)
        case 10:
            let id = try object(&r)
            let callback = try r.bool()
            let s = try session(&r)
            var fields: [(name: String, target: ObjectID)] = []
            for _ in 0..<(try count(&r)) { fields.append((try r.string(), try object(&r))) }
            return .weakref(id, callback: callback, fields: fields, session: s)
        case 11: return .collect(generation: try r.int())
        case 12:
            return .setRoot(
                try r.string(), try r.optional { r throws(BinaryReader.Truncated) in ObjectID(raw: try r.varint()) })
        case 13:
            let enabled = try r.optional { r throws(BinaryReader.Truncated) in try r.bool() }
            var thresholds: [Int]?
            if try r.u8() != 0 {
                thresholds = []
                for _ in 0..<(try count(&r)) { thresholds!.append(try r.int()) }
            }
            let debug = try r.optional { r throws(BinaryReader.Truncated) in GCState.DebugFlags(rawValue: try r.int()) }
            return .configureGC(enabled: enabled, thresholds: thresholds, debug: debug)
        case 14: return .freeze
        case 15: return .unfreeze
        case 16: return .clearGarbage
        case 17:
            let s = try session(&r)
            return .setLease(
                s, seconds: try r.optional { r throws(BinaryReader.Truncated) in Double(bitPattern: try r.u64()) })
        case 18:
            let s = try session(&r)
            let atomic = try r.bool()
            var ops: [BatchOp] = []
            for _ in 0..<(try count(&r)) { ops.append(try BatchOp.decode(from: &r)) }
            return .batch(ops, atomic: atomic, session: s)
        case 19: return .failedDelete(try object(&r), field: try r.string())
        case 22: return .tick(try r.u32())
        default: throw DecodingError(reason: "unknown operation tag \(tag)")
        }
    }
}
