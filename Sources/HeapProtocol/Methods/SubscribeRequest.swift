import JSONRPC

/// `subscribe {events}` → `{events}`: adds notification kinds for this connection (`"*"` is
/// every kind); the reply lists all it is subscribed to now. The events a request causes reach
/// every subscriber before that request's reply, in the order they happened.
public struct SubscribeRequest: HeapMethod {
    public static let name = "subscribe"
    public var events: Set<EventKind>

    public init(events: Set<EventKind>) { self.events = events }
    public init(params p: ParamsReader) throws(RPCError) { events = try p.eventKinds("events") ?? [] }

    public var params: JSONValue? {
        ["events": .array(EventKind.allCases.filter(events.contains).map { .string($0.rawValue) })]
    }

    /// `{events}`: the connection's subscriptions, in ``EventKind`` order.
    public struct Result: HeapResult {
        public var events: Set<EventKind>
        public init(events: Set<EventKind>) { self.events = events }

        public func write(to o: JSONObjectWriter) {
            o.array("events", strings: EventKind.allCases.filter(events.contains).map(\.rawValue))
        }
    }
}
