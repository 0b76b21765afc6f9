import NIOCore
import Synchronization

/// Bytes of notifications waiting to be written to one connection, appended under the heap's
/// lock so that every connection sees notifications in the order the heap produced them.
///
/// The connection's own event loop drains it: right before writing a reply (so the events a
/// request caused precede its reply), or when `signal` tells it another thread appended to an
/// empty outbox.
///
/// Back-pressure: events are only moved into the channel while it is writable (the peer reads);
/// a subscriber that stops reading lets its outbox grow up to `limit`, and is then disconnected,
/// as Redis disconnects a pub/sub client past its output-buffer limit.
package final class Outbox: Sendable {
    /// Most bytes of events held for one connection, by default.
    package static let defaultLimit = 8 << 20

    /// Most bytes of events held for this connection.
    let limit: Int

    /// What the connection must do after an append, told through `signal` (never under the
    /// heap's lock: the service signals after unlocking).
    package enum Signal: Sendable {
        /// Events arrived while the outbox was empty: write them.
        case wake
        /// The peer stopped reading and the outbox passed `limit`: close the connection.
        case overflowed
    }

    private struct State {
        var buffers: [ByteBuffer] = []
        var bytes = 0
        var overflowed = false
    }

    private let pending = Mutex(State())
    /// Hops to the connection's event loop; called by the service after it released the lock.
    let signal: @Sendable (Signal) -> Void

    package init(limit: Int = Outbox.defaultLimit, signal: @escaping @Sendable (Signal) -> Void = { _ in }) {
        self.limit = limit
        self.signal = signal
    }

    enum AppendResult { case appendedToEmpty, appended, overflowed }

    /// Appends, unless that would pass `limit` (then the outbox stops taking anything).
    func append(_ buffer: ByteBuffer) -> AppendResult {
        pending.withLock { p in
            guard !p.overflowed else { return .appended }
            if p.bytes + buffer.readableBytes > limit {
                p.overflowed = true
                p.buffers.removeAll()
                p.bytes = 0
                return .overflowed
            }
            p.buffers.append(buffer)
            p.bytes += buffer.readableBytes
            return p.buffers.count == 1 ? .appendedToEmpty : .appended
        }
    }

    func drain() -> [ByteBuffer] {
        pending.withLock { p in
            // The common case, nothing pending, must not allocate (it runs before every reply).
            guard !p.buffers.isEmpty else { return [] }
            defer {
                p.buffers = []
                p.bytes = 0
            }
            return p.buffers
        }
    }
}
