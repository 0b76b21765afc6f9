import HeapCore
import JSONRPC

/// `session.list` → `{sessions: [{id, name, connected, references, objects, bytes,
/// scope_depth, lease_s?, lease_left_s?}]}`: every session, anonymous ones included, with what
/// it holds (as Redis's CLIENT LIST).
public struct SessionListRequest: ParameterlessHeapMethod {
    public static let name = "session.list"
    public init() {}

    public struct Result: HeapResult {
        public struct Entry: Sendable {
            public var summary: Heap.SessionSummary
            public var connected: Bool
            public var leaseLeftSeconds: Double?

            public init(summary: Heap.SessionSummary, connected: Bool, leaseLeftSeconds: Double?) {
                self.summary = summary
                self.connected = connected
                self.leaseLeftSeconds = leaseLeftSeconds
            }
        }

        public var sessions: [Entry]
        public init(sessions: [Entry]) { self.sessions = sessions }

        public func write(to o: JSONObjectWriter) {
            o.array("sessions") { a in
                for e in sessions {
                    a.appendObject { m in
                        let s = e.summary
                        m.set("id", Int64(s.id.raw))
                        m.set("name", s.name)
                        m.set("connected", e.connected)
                        m.set("references", s.references)
                        m.set("objects", s.distinctObjects)
                        m.set("bytes", s.bytes)
                        m.set("scope_depth", s.scopeDepth)
                        if let lease = s.leaseSeconds {
                            m.set("lease_s", lease)
                            m.set("lease_left_s", Double.binaryRounded(max(0, e.leaseLeftSeconds ?? lease)))
                        }
                    }
                }
            }
        }
    }
}
