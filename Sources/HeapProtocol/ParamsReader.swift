import HeapCore
import JSONRPC

/// Reads named params from the parsed tree, with errors that name the parameter and what was
/// wrong ("params.id: expected an object id (integer ≥ 1), got string").
public struct ParamsReader {
    let node: JanssonNode?

    public init(_ params: JanssonNode?) throws(RPCError) {
        if let params, params.kind != .object {
            throw .invalidParams("params: expected an object of named parameters, got \(params.kind.rawValue)")
        }
        node = params
    }

    public func has(_ name: String) -> Bool { node?[name] != nil }

    private func value(_ name: String) -> JanssonNode? { node?[name] }

    private func wrong(_ name: String, _ expected: String, _ got: JanssonNode) -> RPCError {
        Self.wrong(name, expected, got)
    }

    private func describe(_ n: JanssonNode) -> String { Self.describe(n) }

    public static func wrong(_ name: String, _ expected: String, _ got: JanssonNode) -> RPCError {
        .invalidParams("params.\(name): expected \(expected), got \(describe(got))")
    }

    public static func describe(_ n: JanssonNode) -> String {
        switch n.kind {
        case .integer: return "integer \(n.int64!)"
        case .real: return "real \(n.double!)"
        case .string:
            let s = n.string!
            return "string \"\(s.count > 40 ? String(s.prefix(40)) + "…" : s)\""
        default: return n.kind.rawValue
        }
    }

    public func string(_ name: String) throws(RPCError) -> String {
        guard let v = value(name) else { throw .invalidParams("params.\(name): missing") }
        guard let s = v.string else { throw wrong(name, "string", v) }
        guard !s.isEmpty else { throw .invalidParams("params.\(name): must not be empty") }
        guard s.utf8.count <= 1024 else { throw .invalidParams("params.\(name): longer than 1024 bytes") }
        return s
    }

    public func optionalString(_ name: String) throws(RPCError) -> String? {
        guard let v = value(name), !v.isNull else { return nil }
        return try string(name)
    }

    /// A session as `objects {session}` takes it: its id (an integer) or its name (a string).
    public func optionalAllocatingSession(_ name: String) throws(RPCError) -> AllocatingSession? {
        guard let v = value(name), !v.isNull else { return nil }
        if let raw = v.int64 {
            guard raw > 0 else { throw .invalidParams("params.\(name): a session id is a positive integer, got \(raw)") }
            return .id(SessionID(raw: UInt64(raw)))
        }
        guard v.string != nil else { throw wrong(name, "a session id (integer) or name (string)", v) }
        return .name(try string(name))
    }

    public func optionalBool(_ name: String) throws(RPCError) -> Bool? {
        guard let v = value(name), !v.isNull else { return nil }
        guard let b = v.bool else { throw wrong(name, "true or false", v) }
        return b
    }

    public static func objectID(_ v: JanssonNode, _ label: String) throws(RPCError) -> ObjectID {
        guard let n = v.int64, n >= 1, n < (1 << 53) else {
            throw wrong(label, "an object id (integer from 1 to 2^53-1)", v)
        }
        return ObjectID(raw: UInt64(n))
    }

    public func objectID(_ name: String) throws(RPCError) -> ObjectID {
        guard let v = value(name) else { throw .invalidParams("params.\(name): missing") }
        return try Self.objectID(v, name)
    }

    public func nullableObjectID(_ name: String) throws(RPCError) -> ObjectID? {
        guard let v = value(name), !v.isNull else { return nil }
        return try Self.objectID(v, name)
    }

    public func optionalSize(_ name: String) throws(RPCError) -> UInt64? {
        guard let v = value(name), !v.isNull else { return nil }
        guard let n = v.int64, n >= 0, n < (1 << 53) else { throw wrong(name, "a byte count (integer ≥ 0)", v) }
        return UInt64(n)
    }

    /// Deepest nesting accepted in object data. Replies embed data at most three levels down
    /// (a batch's array, the response, its result), so every reply stays within the 2048 levels
    /// that Jansson, and so heapd's own clients, can parse back.
    public static let maximumDataDepth = 2040

    /// `data` as encoded JSON text; absent or null: no data.
    public func data(_ name: String) throws(RPCError) -> [UInt8]? {
        guard let v = value(name), !v.isNull else { return nil }
        let depth = v.depth
        guard depth <= Self.maximumDataDepth else {
            throw .invalidParams("params.\(name): nested \(depth) levels deep, at most \(Self.maximumDataDepth)")
        }
        return v.encoded()
    }

    private func fieldsObject(_ name: String) throws(RPCError) -> JanssonNode? {
        guard let v = value(name), !v.isNull else { return nil }
        guard v.kind == .object else { throw wrong(name, "an object of field name → object id", v) }
        return v
    }

    public func fieldTargets(_ name: String) throws(RPCError) -> [(name: String, target: ObjectID)] {
        guard let obj = try fieldsObject(name) else { return [] }
        var out: [(name: String, target: ObjectID)] = []
        var failure: RPCError?
        obj.forEachMember { key, v in
            guard failure == nil else { return }
            if key.isEmpty { failure = .invalidParams("params.\(name): field names must not be empty"); return }
            do { out.append((key, try Self.objectID(v, "\(name).\(key)"))) } catch { failure = error as? RPCError }
        }
        if let failure { throw failure }
        return out
    }

    public func optionalFieldTargets(_ name: String) throws(RPCError) -> [(name: String, target: ObjectID?)] {
        guard let obj = try fieldsObject(name) else { return [] }
        var out: [(name: String, target: ObjectID?)] = []
        var failure: RPCError?
        obj.forEachMember { key, v in
            guard failure == nil else { return }
            if key.isEmpty { failure = .invalidParams("params.\(name): field names must not be empty"); return }
            if v.isNull { out.append((key, nil)); return }
            do { out.append((key, try Self.objectID(v, "\(name).\(key)"))) } catch { failure = error as? RPCError }
        }
        if let failure { throw failure }
        return out
    }

    public func optionalGeneration(_ name: String) throws(RPCError) -> Int? {
        guard let v = value(name), !v.isNull else { return nil }
        guard let g = v.int64, (0...2).contains(g) else { throw wrong(name, "generation 0, 1 or 2", v) }
        return Int(g)
    }

    /// 0, 1, 2, or "permanent" (3).
    public func optionalGenerationOrPermanent(_ name: String) throws(RPCError) -> Int? {
        guard let v = value(name), !v.isNull else { return nil }
        if v.string == "permanent" { return 3 }
        guard let g = v.int64, (0...2).contains(g) else { throw wrong(name, "generation 0, 1, 2 or \"permanent\"", v) }
        return Int(g)
    }

    public func optionalSeconds(_ name: String) throws(RPCError) -> Double? {
        guard let v = value(name), !v.isNull else { return nil }
        guard let d = v.double, d > 0, d <= 1e9 else { throw wrong(name, "a number of seconds above 0", v) }
        return d
    }

    public func optionalLimit(_ name: String) throws(RPCError) -> Int? {
        guard let v = value(name), !v.isNull else { return nil }
        guard let n = v.int64, (1...100_000).contains(n) else { throw wrong(name, "an integer from 1 to 100000", v) }
        return Int(n)
    }

    public func eventKinds(_ name: String) throws(RPCError) -> Set<EventKind>? {
        guard let v = value(name), !v.isNull else { return nil }
        guard v.kind == .array else { throw wrong(name, "an array of event names", v) }
        var kinds = Set<EventKind>()
        for (i, e) in v.elements.enumerated() {
            guard let s = e.string else { throw wrong("\(name)[\(i)]", "an event name", e) }
            if s == "*" { kinds.formUnion(EventKind.heapEvents); continue }
            guard let k = EventKind(rawValue: s) else {
                let known = EventKind.allCases.map(\.rawValue).joined(separator: ", ")
                throw .invalidParams(
                    "params.\(name)[\(i)]: unknown event \"\(s)\" (known: \(known), or \"*\" for all but monitor)")
            }
            kinds.insert(k)
        }
        return kinds
    }

    public func optionalThresholds(_ name: String) throws(RPCError) -> [Int]? {
        guard let v = value(name), !v.isNull else { return nil }
        guard v.kind == .array, (1...3).contains(v.count) else { throw wrong(name, "an array of 1 to 3 integers", v) }
        var out: [Int] = []
        for (i, e) in v.elements.enumerated() {
            guard let n = e.int64, n >= Int64(Int32.min), n <= Int64(Int32.max) else {
                throw wrong("\(name)[\(i)]", "an integer from \(Int32.min) to \(Int32.max)", e)
            }
            out.append(Int(n))
        }
        return out
    }

    public func optionalDebugFlags(_ name: String) throws(RPCError) -> GCState.DebugFlags? {
        guard let v = value(name), !v.isNull else { return nil }
        guard v.kind == .array else { throw wrong(name, "an array of flag names", v) }
        var flags: GCState.DebugFlags = []
        for (i, e) in v.elements.enumerated() {
            guard let s = e.string, let f = GCState.DebugFlags.byName.first(where: { $0.0 == s.uppercased() })?.1 else {
                let known = GCState.DebugFlags.byName.map(\.0).joined(separator: ", ")
                throw .invalidParams("params.\(name)[\(i)]: expected one of \(known), got \(describe(e))")
            }
            flags.formUnion(f)
        }
        return flags
    }
}

extension ParamsReader {
    /// A snapshot's name (see ``SnapshotName``).
    public func snapshotName(_ name: String) throws(RPCError) -> String {
        let s = try string(name)
        guard SnapshotName.isValid(s) else {
            throw .invalidParams("params.\(name): a snapshot name is 1-64 of A-Z a-z 0-9 . _ - (not starting with '.')")
        }
        return s
    }

    public func optionalSnapshotName(_ name: String) throws(RPCError) -> String? {
        guard let v = node?[name], !v.isNull else { return nil }
        return try snapshotName(name)
    }
}
