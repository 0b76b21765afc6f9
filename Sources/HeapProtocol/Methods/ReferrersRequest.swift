import HeapCore
import JSONRPC

/// `referrers {id}` → `{id, referrers}`: the objects whose fields hold it, those
/// `gc.get_referrers` finds (generations 0, 1, 2; frozen holders are not listed, `inspect` shows
/// every holder), each once, by generation, then id: not CPython's list order, which an index of
/// holders cannot give (a documented deviation: README, Deviations).
public struct ReferrersRequest: HeapMethod {
    public static let name = "referrers"
    public var id: ObjectID

    public init(id: ObjectID) { self.id = id }
    public init(params p: ParamsReader) throws(RPCError) { id = try p.objectID("id") }
    public var params: JSONValue? { ["id": id.json] }

    public struct Result: HeapResult {
        public var id: ObjectID
        public var referrers: [ObjectID]

        public init(id: ObjectID, referrers: [ObjectID]) {
            self.id = id
            self.referrers = referrers
        }

        public func write(to o: JSONObjectWriter) {
            o.set("id", id)
            o.array("referrers", ids: referrers)
        }
    }
}
