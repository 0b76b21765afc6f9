import Foundation
import HeapCore

#if canImport(Glibc)
import Glibc
#endif

/// Appends journal records on a thread of its own, with group commit.
///
/// `append` (called under the heap's lock, so records are in heap order) only copies bytes into
/// a pending buffer and numbers them. The writer thread takes everything pending at once, writes
/// it, and under `--fsync always` fsyncs once for the whole group; then every request waiting on
/// a position up to there is released. So N concurrent requests cost one fsync, not N.
final class JournalWriter: @unchecked Sendable {
    typealias Waiter = (position: UInt64, done: @Sendable (Error?) -> Void)

    private let condition = NSCondition()
    // Guarded by `condition`:
    private var pending: [UInt8] = []
    private var appended: UInt64 = 0
    private var durable: UInt64 = 0
    private var waiters: [Waiter] = []
    private var failure: Error?
    private var stopping = false
    private var fd: Int32
    private var path: String
    private var bytesInFile: Int

    let policy: FsyncPolicy
    private var thread: Thread?
    private var lastSync = ContinuousClock.now

    init(fd: Int32, path: String, size: Int, policy: FsyncPolicy) {
        self.fd = fd
        self.path = path
        self.bytesInFile = size
        self.policy = policy
    }

    func start() {
        let t = Thread { [self] in run() }
        t.name = "heapd-journal"
        thread = t
        t.start()
    }

    /// Adds a framed record; returns its position (1, 2, ...).
    func append(_ framed: [UInt8]) -> UInt64 {
        condition.lock()
        defer { condition.unlock() }
        pending.append(contentsOf: framed)
        appended += 1
        condition.signal()
        return appended
    }

    /// The position of the last appended record.
    var position: UInt64 {
        condition.lock()
        defer { condition.unlock() }
        return appended
    }

    /// Bytes in the current journal file, including what is still pending.
    var size: Int {
        condition.lock()
        defer { condition.unlock() }
        return bytesInFile + pending.count
    }

    /// Calls `done` once everything up to `position` is durable under the policy (nil), or
    /// could not be written (the error). Callbacks run in the order positions became durable,
    /// while this writer's lock is held: they must only hand work to another thread.
    func whenDurable(_ position: UInt64, _ done: @escaping @Sendable (Error?) -> Void) {
        condition.lock()
        defer { condition.unlock() }
        if let failure { done(failure); return }
        if durable >= position && waiters.isEmpty { done(nil); return }
        waiters.append((position, done))
    }

    /// Makes everything appended so far durable, then continues in a new file (compaction).
    /// Called under the heap's lock; blocks for one write and fsync.
    func rotate(to newFD: Int32, path newPath: String) throws {
        condition.lock()
        defer { condition.unlock() }
        try writeAndSync(force: true)
        close(fd)
        fd = newFD
        path = newPath
        bytesInFile = 0
    }

    func stop() {
        condition.lock()
        stopping = true
        condition.signal()
        condition.unlock()
        while let t = thread, !t.isFinished { usleep(1000) }
        condition.lock()
        try? writeAndSync(force: true)
        close(fd)
        condition.unlock()
    }

    private func run() {
        condition.lock()
        while true {
            while pending.isEmpty && !stopping {
                if policy == .everysec && durable < appended {
                    _ = condition.wait(until: Date(timeIntervalSinceNow: 1))
                    if pending.isEmpty { try? writeAndSync(force: true) }
                } else {
                    condition.wait()
                }
            }
            if stopping { break }
            do { try writeAndSync(force: false) } catch {}
        }
        condition.unlock()
        Thread.current.name = nil
    }

    /// Writes what is pending and syncs as the policy says; releases waiters. Lock held.
    private func writeAndSync(force: Bool) throws {
        let batch = pending
        let upTo = appended
        pending.removeAll(keepingCapacity: true)
        do {
            if !batch.isEmpty {
                // Write outside the lock so appends continue meanwhile (group commit).
                condition.unlock()
                defer { condition.lock() }
                try batch.withUnsafeBytes { try Files.writeAll(fd, $0, path: path) }
                if policy == .always || force { guard fdatasync(fd) == 0 else { throw Files.fail("cannot fsync", path) } }
            } else if force {
                fdatasync(fd)
            }
            bytesInFile += batch.count
            if policy == .everysec && !force && ContinuousClock.now - lastSync > .seconds(1) {
                fdatasync(fd)
                lastSync = .now
            }
            durable = max(durable, upTo)
            release(error: nil)
        } catch {
            failure = error
            release(error: error)
            throw error
        }
    }

    private func release(error: Error?) {
        var keep: [Waiter] = []
        for w in waiters {
            if error != nil || w.position <= durable { w.done(error) } else { keep.append(w) }
        }
        waiters = keep
    }
}
