import HeapCore
import JSONRPC

extension JSONObjectWriter {
    public func set(_ key: String, _ id: ObjectID) { set(key, Int64(id.raw)) }

    /// An id, or null.
    public func set(_ key: String, _ id: ObjectID?) {
        if let id { set(key, id) } else { setNull(key) }
    }

    /// An array of ids.
    public func array(_ key: String, ids: some Sequence<ObjectID>) {
        array(key) { a in for id in ids { a.append(Int64(id.raw)) } }
    }

    /// A generation: 0, 1, 2 or "permanent".
    public func set(_ key: String, generation g: Int) {
        if g == 3 { set(key, "permanent") } else { set(key, g) }
    }
}

extension ObjectID {
    /// The id as the wire writes it.
    public var json: JSONValue { .int(Int64(raw)) }
}

extension Double {
    /// `x` rounded to a multiple of 1/1024, which Jansson prints without a 17-digit tail
    /// (0.228515625, not 0.22900000000000001).
    public static func binaryRounded(_ x: Double) -> Double { (x * 1024).rounded() / 1024 }
}

extension CollectResult {
    /// Milliseconds rounded to 1/1024 ms (see ``Swift/Double/binaryRounded(_:)``).
    public var durationMilliseconds: Double { Double.binaryRounded(Double(durationNanoseconds) / 1e6) }
}

extension Duration {
    /// Seconds as a Double (for reports).
    public var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}
