import NIOCore
import Synchronization

/// Bytes waiting to be written to one connection, appended under the heap's lock so that every
/// connection sees notifications in the order the heap produced them.
///
/// The connection's own event loop drains it: right before writing a reply (so the events a
/// request caused precede its reply), or from a task scheduled when another thread appends to
/// an empty outbox.
final class Outbox: Sendable {
    private let pending = Mutex<[ByteBuffer]>([])

    /// Appends; returns true if the outbox was empty (the caller schedules a drain).
    func append(_ buffer: ByteBuffer) -> Bool {
        pending.withLock { p in
            p.append(buffer)
            return p.count == 1
        }
    }

    func drain() -> [ByteBuffer] {
        pending.withLock { p in
            defer { p.removeAll(keepingCapacity: true) }
            return p
        }
    }
}
