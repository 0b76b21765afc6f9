/// Identifies one client connection for the lifetime of the daemon.
package struct ConnectionID: Hashable, Sendable, CustomStringConvertible {
    let raw: UInt64
    package var description: String { "#\(raw)" }
}
