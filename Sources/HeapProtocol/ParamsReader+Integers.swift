import JSONRPC

extension ParamsReader {
    /// An optional integer within `range` (absent or null: nil); the error names the parameter
    /// and the range.
    public func optionalInteger(_ name: String, in range: ClosedRange<Int>) throws(RPCError) -> Int? {
        guard let v = node?[name], !v.isNull else { return nil }
        guard let n = v.int64, n >= Int64(range.lowerBound), n <= Int64(range.upperBound) else {
            throw Self.wrong(name, "an integer from \(range.lowerBound) to \(range.upperBound)", v)
        }
        return Int(n)
    }
}
