import NIOCore
import Synchronization

/// Bytes waiting to be written to one connection, appended under the heap's lock so that every
/// connection sees notifications in the order the heap produced them.
///
/// The connection's own event loop drains it: right before writing a reply (so the events a
/// request caused precede its reply), or from a task scheduled when another thread appends to
/// an empty outbox.
///
/// Back-pressure: events are only moved into the channel while it is writable (the peer reads);
/// a subscriber that stops reading lets its outbox grow up to `limit`, and is then disconnected,
/// as Redis disconnects a pub/sub client past its output-buffer limit. The daemon's memory stays
/// bounded whatever a client does.
final class Outbox: Sendable {
    /// Most bytes of events held for one connection.
    static let limit = 8 << 20

    private struct State {
        var buffers: [ByteBuffer] = []
        var bytes = 0
        var overflowed = false
    }

    private let pending = Mutex(State())

    enum AppendResult { case appendedToEmpty, appended, overflowed }

    /// Appends, unless that would pass `limit` (then the outbox stops taking anything).
    func append(_ buffer: ByteBuffer) -> AppendResult {
        pending.withLock { p in
            guard !p.overflowed else { return .appended }
            if p.bytes + buffer.readableBytes > Self.limit {
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
            defer { p.buffers = []; p.bytes = 0 }
            return p.buffers
        }
    }
}
