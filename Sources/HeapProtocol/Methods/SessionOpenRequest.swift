import JSONRPC

/// `session.open {name, lease_s?}` → `{name, resumed, lease_s?}`: attaches this connection to a
/// named session, created if new (`resumed: false`), resumed with its references and scopes if
/// it exists. References the connection took anonymously move into it. One connection holds a
/// named session at a time (-32004 otherwise). A named session outlives its connection and the
/// daemon's restarts until `session.close` or, with `lease_s`, until no request of it renewed
/// the lease for that long.
public struct SessionOpenRequest: HeapMethod {
    public static let name = "session.open"
    public var session: String
    public var leaseSeconds: Double?

    public init(session: String, leaseSeconds: Double? = nil) {
        self.session = session
        self.leaseSeconds = leaseSeconds
    }

    public init(params p: ParamsReader) throws(RPCError) {
        session = try p.string("name")
        leaseSeconds = try p.optionalSeconds("lease_s")
    }

    public var params: JSONValue? {
        var members: [(String, JSONValue)] = [("name", .string(session))]
        if let leaseSeconds { members.append(("lease_s", .double(leaseSeconds))) }
        return .object(members)
    }

    public struct Result: HeapResult {
        public var name: String
        public var resumed: Bool
        public var leaseSeconds: Double?

        public init(name: String, resumed: Bool, leaseSeconds: Double?) {
            self.name = name
            self.resumed = resumed
            self.leaseSeconds = leaseSeconds
        }

        public func write(to o: JSONObjectWriter) {
            o.set("name", name)
            o.set("resumed", resumed)
            if let leaseSeconds { o.set("lease_s", leaseSeconds) }
        }
    }
}
