import HeapCore
import JSONRPC

/// Decodes `apply`'s compact ops (`["ref", 7]`, `["set", "$0", "next", 9]`) on the parsing
/// thread. Any malformed op fails the whole request, naming the op and what was wrong.
extension ParamsReader {
    public static let maxBatchOps = 10_000

    public func batchOps(_ name: String) throws(RPCError) -> [BatchOp] {
        guard let v = node?[name] else { throw .invalidParams("params.\(name): missing") }
        guard v.kind == .array else { throw Self.wrong(name, "an array of ops", v) }
        guard (1...Self.maxBatchOps).contains(v.count) else {
            throw .invalidParams("params.\(name): expected 1 to \(Self.maxBatchOps) ops, got \(v.count)")
        }
        var ops: [BatchOp] = []
        ops.reserveCapacity(v.count)
        for i in 0..<v.count { ops.append(try Self.batchOp(v[i], "\(name)[\(i)]")) }
        return ops
    }

    private static let opNames = "alloc, ref, unref, set, weakref"

    public static func batchOp(_ n: JanssonNode, _ label: @autoclosure () -> String) throws(RPCError) -> BatchOp {
        // Labels such as `ops[3][1]` are built only for an error message: interpolating them
        // for every op cost more than decoding it.
        guard n.kind == .array, n.count >= 1 else {
            throw wrong(label(), "an op such as [\"ref\", 7] (\(opNames))", n)
        }
        guard let op = n[0].string else { throw wrong("\(label())[0]", "an op name (\(opNames))", n[0]) }
        let args = n.count - 1
        func arity(_ allowed: ClosedRange<Int>) throws(RPCError) {
            guard !allowed.contains(args) else { return }
            let count =
                allowed.count == 1
                ? "\(allowed.lowerBound)"
                : "\(allowed.lowerBound) \(allowed.count == 2 ? "or" : "to") \(allowed.upperBound)"
            let noun = allowed.upperBound == 1 ? "argument" : "arguments"
            throw .invalidParams("params.\(label()): \"\(op)\" takes \(count) \(noun), got \(args)")
        }
        switch op {
        case "alloc":
            // ["alloc", type, size?, site?]: a site after no size takes null for it.
            try arity(1...3)
            let size: UInt64? = args >= 2 && !n[2].isNull ? try byteCount(n[2], "\(label())[2]") : nil
            let site: String? = args == 3 ? try name(n[3], "\(label())[3]") : nil
            return .alloc(type: try name(n[1], "\(label())[1]"), size: size, site: site)
        case "ref":
            try arity(1...1)
            return .ref(try target(n[1], "\(label())[1]"))
        case "unref":
            try arity(1...1)
            return .unref(try target(n[1], "\(label())[1]"))
        case "set":
            try arity(3...3)
            let object = try target(n[1], "\(label())[1]")
            let field = try name(n[2], "\(label())[2]")
            return .set(object, field: field, target: n[3].isNull ? nil : try target(n[3], "\(label())[3]"))
        case "weakref":
            try arity(1...2)
            var callback = false
            if args == 2 {
                guard let b = n[2].bool else { throw wrong("\(label())[2]", "true or false (callback)", n[2]) }
                callback = b
            }
            return .weakref(try target(n[1], "\(label())[1]"), callback: callback)
        default:
            throw .invalidParams("params.\(label())[0]: unknown op \"\(op)\" (known: \(opNames))")
        }
    }

    /// An object id, or `"$k"`: the id made by op `k` of the same batch.
    private static func target(_ n: JanssonNode, _ label: @autoclosure () -> String) throws(RPCError) -> BatchTarget {
        let expected = "an object id (integer from 1 to 2^53-1) or \"$k\" (k: an earlier op's index)"
        if let s = n.string {
            let digits = s.utf8.dropFirst()
            guard s.utf8.first == UInt8(ascii: "$"), (1...7).contains(digits.count),
                digits.allSatisfy({ (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }),
                let k = Int(String(s.dropFirst()))
            else { throw wrong(label(), expected, n) }
            return .result(k)
        }
        guard let v = n.int64, v >= 1, v < (1 << 53) else { throw wrong(label(), expected, n) }
        return .id(ObjectID(raw: UInt64(v)))
    }

    /// A type or field name: a non-empty string of at most 1024 bytes.
    private static func name(_ n: JanssonNode, _ label: @autoclosure () -> String) throws(RPCError) -> String {
        guard let s = n.string else { throw wrong(label(), "a string", n) }
        guard !s.isEmpty else { throw .invalidParams("params.\(label()): must not be empty") }
        guard s.utf8.count <= 1024 else { throw .invalidParams("params.\(label()): longer than 1024 bytes") }
        return s
    }

    private static func byteCount(_ n: JanssonNode, _ label: @autoclosure () -> String) throws(RPCError) -> UInt64 {
        guard let v = n.int64, v >= 0, v < (1 << 53) else { throw wrong(label(), "a byte count (integer ≥ 0)", n) }
        return UInt64(v)
    }
}
