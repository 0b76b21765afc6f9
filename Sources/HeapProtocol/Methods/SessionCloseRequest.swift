import JSONRPC

/// `session.close {name?}` → `{name, released, freed}`: closes a named session (this
/// connection's without `name`; another's by name, as Redis's CLIENT KILL), dropping its
/// references. A connection attached to it goes on in a new anonymous session and gets
/// `session.closed` whether subscribed or not.
public struct SessionCloseRequest: HeapMethod {
    public static let name = "session.close"
    public var session: String?

    public init(session: String? = nil) { self.session = session }
    public init(params p: ParamsReader) throws(RPCError) { session = try p.optionalString("name") }
    public var params: JSONValue? { session.map { ["name": .string($0)] } }

    public struct Result: HeapResult {
        public var name: String
        public var released: Int
        public var freed: FreedObjects

        public init(name: String, released: Int, freed: FreedObjects) {
            self.name = name
            self.released = released
            self.freed = freed
        }

        public func write(to o: JSONObjectWriter) {
            o.set("name", name)
            o.set("released", released)
            freed.write(to: o)
        }
    }
}
