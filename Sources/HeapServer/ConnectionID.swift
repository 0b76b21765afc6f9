/// Identifies one client connection for the lifetime of the daemon.
struct ConnectionID: Hashable, Sendable, CustomStringConvertible {
    let raw: UInt64
    var description: String { "#\(raw)" }
}
