import JSONRPC

/// Why the heap emitted an event, as every heap notification carries it in `cause`, so that a
/// watcher can tell whose request freed what: `{"kind": "request", "method", "connection",
/// "session"}` (session null: anonymous), `{"kind": "disconnect", "connection", "session": null}`
/// (a closed connection's anonymous session let go of its references) or `{"kind": "lease"}`
/// (named sessions whose lease ran out; `session.closed` names each).
public enum EventCause: Sendable, Equatable {
    case request(method: String, connection: UInt64, session: String?)
    case disconnect(connection: UInt64)
    case leaseExpired

    func write(into p: JSONObjectWriter) {
        p.object("cause") { c in
            switch self {
            case .request(let method, let connection, let session):
                c.set("kind", "request")
                c.set("method", method)
                c.set("connection", connection)
                c.set("session", session)
            case .disconnect(let connection):
                c.set("kind", "disconnect")
                c.set("connection", connection)
                c.setNull("session")
            case .leaseExpired:
                c.set("kind", "lease")
            }
        }
    }
}
