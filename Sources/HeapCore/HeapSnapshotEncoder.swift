/// Writes a ``HeapExportView`` as the text of a V8 `.heapsnapshot`, in the layout Node's
/// `v8.writeHeapSnapshot` writes (its `meta` verbatim, one node or edge per line), in chunks:
/// `sink` receives about `chunkSize` bytes at a time, so the whole text is never in memory.
///
/// Node ids: an object's is `2 * id + 1` (odd, as V8 numbers JS objects); the synthetic root and
/// holder nodes take even ids (2, 4, ...), as V8's native and synthetic nodes do, so they never
/// collide with an object. The heapd id is `(node id - 1) / 2`. DevTools keeps node ids and sizes
/// in 32-bit arrays: its Comparison view matches objects exactly while `2 * id + 1 < 2^32`.
public struct HeapSnapshotEncoder {
    public static let nodeFieldCount = 7
    public static let edgeFieldCount = 3
    static let objectType = 3
    static let syntheticType = 9
    static let elementEdge = 1
    static let propertyEdge = 2
    static let weakEdge = 6

    static let meta: StaticString = #"""
        {"node_fields":["type","name","id","self_size","edge_count","trace_node_id","detachedness"],\#
        "node_types":[["hidden","array","string","object","code","closure","regexp","number","native",\#
        "synthetic","concatenated string","sliced string","symbol","bigint","object shape","wasm object"],\#
        "string","number","number","number","number","number"],\#
        "edge_fields":["type","name_or_index","to_node"],\#
        "edge_types":[["context","element","property","internal","hidden","shortcut","weak"],\#
        "string_or_number","node"],\#
        "trace_function_info_fields":["function_id","name","script_name","script_id","line","column"],\#
        "trace_node_fields":["id","function_info_index","count","size","children"],\#
        "sample_fields":["timestamp_us","last_assigned_id"],\#
        "location_fields":["object_index","script_id","line","column"]}
        """#

    /// The V8 node id of a heapd object id.
    public static func nodeID(ofObject id: UInt64) -> UInt64 { 2 * id + 1 }

    let view: HeapExportView
    let chunkSize: Int
    /// The chunk being filled: raw memory (no uniqueness or bounds checks per byte), allocated
    /// by `encode` with room for a chunk plus the longest row; a long string grows it.
    private var out: UnsafeMutablePointer<UInt8>? = nil
    private var capacity = 0
    private var count = 0

    public init(_ view: HeapExportView, chunkSize: Int = 1 << 20) {
        self.view = view
        self.chunkSize = max(1, chunkSize)
    }

    /// Writes the whole text through `sink`; returns the number of bytes written.
    @discardableResult
    public mutating func encode(to sink: (UnsafeRawBufferPointer) throws -> Void) rethrows -> Int {
        var total = 0
        capacity = chunkSize + 4096
        out = .allocate(capacity: capacity)
        defer {
            out?.deallocate()
            out = nil
        }
        func flush(_ force: Bool) throws {
            guard force || count >= chunkSize, count > 0 else { return }
            try sink(UnsafeRawBufferPointer(start: out, count: count))
            total += count
            count = 0
        }
        let v = view
        let ordinal = v.ordinals()
        let holderCount = v.holders.count
        let objectBase = 1 + holderCount
        append(#"{"snapshot":{"meta":"#)
        append(Self.meta)
        append(#","node_count":"#)
        append(UInt64(v.nodeCount))
        append(#","edge_count":"#)
        append(UInt64(v.edgeCount))
        append(#","trace_function_count":0},"#)
        append("\n\"nodes\":[")
        // Root, then holders, then objects; each row: type,name,id,self_size,edge_count,0,0.
        row(Self.syntheticType, 0, 2, 0, holderCount, first: true)
        for (k, h) in v.holders.enumerated() {
            row(Self.syntheticType, h.name, UInt64(2 * (k + 2)), 0, h.targets.count, first: false)
            try flush(false)
        }
        var w = 0
        for o in 0..<v.objectCount {
            var edges = Int(v.edgeStart[o + 1] - v.edgeStart[o])
            let slot = v.slot(ofOrdinal: o)
            while w < v.weak.count && v.weak[w].source < slot { w += 1 }
            if w < v.weak.count && v.weak[w].source == slot { edges += 1 }
            row(Self.objectType, v.typeNames[o], Self.nodeID(ofObject: v.ids[o]), v.sizes[o], edges, first: false)
            try flush(false)
        }
        append("],\n\"edges\":[")
        var first = true
        func edge(_ type: Int, _ nameOrIndex: UInt64, _ toOrdinal: Int) {
            if !first { append(UInt8(ascii: "\n")); append(UInt8(ascii: ",")) }
            first = false
            append(UInt64(type))
            append(UInt8(ascii: ","))
            append(nameOrIndex)
            append(UInt8(ascii: ","))
            append(UInt64(toOrdinal * Self.nodeFieldCount))
        }
        for k in 0..<holderCount {
            edge(Self.elementEdge, UInt64(k + 1), 1 + k)
            try flush(false)
        }
        for h in v.holders {
            for (i, t) in h.targets.enumerated() {
                if let p = h.propertyName {
                    edge(Self.propertyEdge, UInt64(p), objectBase + Int(ordinal[Int(t)]))
                } else {
                    edge(Self.elementEdge, UInt64(i), objectBase + Int(ordinal[Int(t)]))
                }
                try flush(false)
            }
        }
        w = 0
        for o in 0..<v.objectCount {
            for e in Int(v.edgeStart[o])..<Int(v.edgeStart[o + 1]) {
                edge(Self.propertyEdge, UInt64(v.edgeName[e]), objectBase + Int(ordinal[Int(v.edgeTarget[e])]))
                try flush(false)  // an object may have 65,535 fields: one row of room at a time
            }
            let slot = v.slot(ofOrdinal: o)
            while w < v.weak.count && v.weak[w].source < slot { w += 1 }
            if w < v.weak.count && v.weak[w].source == slot {
                edge(Self.weakEdge, UInt64(v.weakName), objectBase + Int(ordinal[Int(v.weak[w].target)]))
            }
            try flush(false)
        }
        append(
            "],\n\"trace_function_infos\":[],\n\"trace_tree\":[],\n\"samples\":[],\n\"locations\":[],\n\"strings\":[")
        for (i, s) in v.strings.enumerated() {
            if i > 0 { append(UInt8(ascii: "\n")); append(UInt8(ascii: ",")) }
            appendQuoted(s)
            try flush(false)
        }
        append("]}\n")
        try flush(true)
        return total
    }

    @inline(__always) private mutating func row(
        _ type: Int, _ name: UInt32, _ id: UInt64, _ size: UInt64, _ edges: Int, first: Bool
    ) {
        if !first { append(UInt8(ascii: "\n")); append(UInt8(ascii: ",")) }
        append(UInt64(type))
        append(UInt8(ascii: ","))
        append(UInt64(name))
        append(UInt8(ascii: ","))
        append(id)
        append(UInt8(ascii: ","))
        append(size)
        append(UInt8(ascii: ","))
        append(UInt64(edges))
        append(",0,0")
    }

    @inline(__always) private mutating func append(_ byte: UInt8) {
        out![count] = byte
        count += 1
    }

    private mutating func append(_ s: StaticString) {
        reserve(s.utf8CodeUnitCount)
        (out! + count).update(from: s.utf8Start, count: s.utf8CodeUnitCount)
        count += s.utf8CodeUnitCount
    }

    /// Room for `n` more bytes (rows need no call: the slack past `chunkSize` holds one).
    private mutating func reserve(_ n: Int) {
        guard count + n > capacity else { return }
        let grown = UnsafeMutablePointer<UInt8>.allocate(capacity: count + n + 4096)
        grown.update(from: out!, count: count)
        out!.deallocate()
        out = grown
        capacity = count + n + 4096
    }

    /// A decimal number, without going through `String`.
    @inline(__always) private mutating func append(_ n: UInt64) {
        if n < 10 { return append(UInt8(truncatingIfNeeded: n) &+ 48) }
        var digits = 0
        var x = n
        while x > 0 {
            digits += 1
            x /= 10
        }
        x = n
        let p = out! + count
        for i in stride(from: digits - 1, through: 0, by: -1) {
            p[i] = UInt8(truncatingIfNeeded: x % 10) &+ 48
            x /= 10
        }
        count += digits
    }

    /// A JSON string: `"` and `\` escaped, control characters as `\u00XX`, the rest (valid
    /// UTF-8, as every Swift string is) as is.
    private mutating func appendQuoted(_ s: String) {
        var s = s
        s.withUTF8 { bytes in
            reserve(6 * bytes.count + 2)
            append(UInt8(ascii: "\""))
            for b in bytes {
                switch b {
                case UInt8(ascii: "\""): append("\\\"")
                case UInt8(ascii: "\\"): append("\\\\")
                case UInt8(ascii: "\n"): append("\\n")
                case UInt8(ascii: "\r"): append("\\r")
                case UInt8(ascii: "\t"): append("\\t")
                case 0..<0x20:
                    let hex: StaticString = "0123456789abcdef"
                    append("\\u00")
                    append(hex.utf8Start[Int(b >> 4)])
                    append(hex.utf8Start[Int(b & 15)])
                default: append(b)
                }
            }
            append(UInt8(ascii: "\""))
        }
    }
}
