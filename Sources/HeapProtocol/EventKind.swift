/// Kinds of notification a connection can subscribe to, in the order `subscribe` lists them
/// (the order of SPEC §2.3's example). The raw value is the notification's method name.
public enum EventKind: String, Sendable, CaseIterable {
    case finalize
    case weakrefCallback = "weakref.callback"
    case freed
    case gcStart = "gc.start"
    case gcStop = "gc.stop"
    case sessionClosed = "session.closed"
}
