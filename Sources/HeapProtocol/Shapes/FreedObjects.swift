import HeapCore
import JSONRPC

/// The objects a request freed, as replies list them: `freed` (ids, at most ``listLimit``) and
/// `freed_count` when the list was cut. Every reply of a request that can free objects carries it.
public struct FreedObjects: Sendable {
    /// At most this many freed ids are listed in a reply; `freed_count` tells the rest.
    public static let listLimit = 10_000

    public var ids: ArraySlice<ObjectID>
    public var count: Int

    public init(_ events: HeapEvents) {
        ids = events.freedIDs.prefix(Self.listLimit)
        count = events.freedCount
    }

    public func write(to result: JSONObjectWriter) {
        result.array("freed", ids: ids)
        if count > ids.count { result.set("freed_count", count) }
    }
}
