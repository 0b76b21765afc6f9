import HeapCore
import JSONRPC

extension CensusDiff.Part {
    /// `{count, bytes, ids, truncated?}`: `truncated: true` only when `ids` was cut.
    public func write(to o: JSONObjectWriter) {
        o.set("count", count)
        o.set("bytes", bytes)
        o.array("ids", ids: ids)
        if truncated { o.set("truncated", true) }
    }
}
