import JSONRPC

/// `unsubscribe {events?}` → `{events}`: removes notification kinds (all of them without
/// `events`); the reply lists what remains.
public struct UnsubscribeRequest: HeapMethod {
    public static let name = "unsubscribe"
    /// nil: every kind.
    public var events: Set<EventKind>?

    public init(events: Set<EventKind>? = nil) { self.events = events }
    public init(params p: ParamsReader) throws(RPCError) { events = try p.eventKinds("events") }

    public typealias Result = SubscribeRequest.Result
}
