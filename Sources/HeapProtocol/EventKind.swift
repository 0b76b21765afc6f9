/// Kinds of notification a connection can subscribe to, in the order `subscribe` lists them
/// (the order of SPEC §2.3's example). The raw value is the notification's method name.
public enum EventKind: String, Sendable, CaseIterable {
    case finalize
    case weakrefCallback = "weakref.callback"
    case freed
    case gcStart = "gc.start"
    case gcStop = "gc.stop"
    case sessionClosed = "session.closed"
    /// Every request as it runs, as Redis's MONITOR: `monitor {time, connection, session,
    /// method, params}`. Not part of `"*"`: it is a firehose, asked for by name.
    case monitor

    /// What `"*"` subscribes to: every kind of heap event (`monitor` is asked for by name).
    public static let heapEvents: [EventKind] = allCases.filter { $0 != .monitor }
}
