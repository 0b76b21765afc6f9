import Foundation
import HeapCore

#if canImport(Glibc)
import Glibc
#endif

/// Appends journal records, with group commit.
///
/// `append` (called under the heap's lock, so records are in heap order) only copies bytes into
/// a pending buffer and numbers them. Under `--fsync always` the writer thread takes everything
/// pending at once, writes it, fsyncs once for the whole group, and releases every request
/// waiting on a position up to there: N concurrent requests cost one fsync, not N. Under
/// `everysec` and `no` a reply needs only the write (the kernel then has the change), so the
/// request's own thread writes everything pending (`writeThrough`), as Redis writes its AOF
/// buffer before replying: no hop to the writer thread and back per request. The writer thread
/// then only fsyncs, once a second for `everysec`. One batch is written at a time (`writing`),
/// so the file stays in heap order whoever writes.
final class JournalWriter: @unchecked Sendable {
    typealias Waiter = (position: UInt64, done: @Sendable (Error?) -> Void)

    private let condition = NSCondition()
    // Guarded by `condition`:
    private var pending: [UInt8] = []
    private var appended: UInt64 = 0
    /// Written (and, under `always`, fsynced): what `whenDurable` and `writeThrough` wait for.
    private var durable: UInt64 = 0
    /// Fsynced (everysec: the writer thread catches up once a second, also when idle).
    private var synced: UInt64 = 0
    /// Some thread is writing a batch outside the lock; others wait for it.
    private var writing = false
    /// The writer thread is in fdatasync (everysec); writes may go on meanwhile, but the file
    /// must not be closed under it.
    private var syncing = false
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
        if policy == .always { condition.broadcast() }
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
    /// could not be written (the error). Under `always`, callbacks run in the order positions
    /// became durable, while this writer's lock is held: they must only hand work to another
    /// thread. Under `everysec` and `no`, the caller's thread writes and calls `done` at once.
    func whenDurable(_ position: UInt64, _ done: @escaping @Sendable (Error?) -> Void) {
        // everysec / no: durable means written, which the caller's thread does right away.
        guard policy == .always else { done(writeThrough(position)); return }
        condition.lock()
        defer { condition.unlock() }
        switch settled(position) {
        case .success?: done(nil)
        case .failure(let error)?: done(error)
        case nil: waiters.append((position, done))
        }
    }

    /// Whether `position` is durable without waiting: under `everysec` and `no` once the
    /// calling thread has written it; under `always` if its fsync already happened (nil while
    /// it is still to come: then `whenDurable`).
    func durableNow(_ position: UInt64) -> Result<Void, Error>? {
        guard policy == .always else { return writeThrough(position).map { .failure($0) } ?? .success(()) }
        condition.lock()
        defer { condition.unlock() }
        return settled(position)
    }

    /// `always`: the outcome for `position` if it is known (lock held). Earlier waiters go
    /// first, so a position is settled only once none is left.
    private func settled(_ position: UInt64) -> Result<Void, Error>? {
        if let failure { return .failure(failure) }
        if durable >= position && waiters.isEmpty { return .success(()) }
        return nil
    }

    /// `everysec` / `no`: writes everything pending up to `position` from the calling thread (or
    /// waits for the thread already writing it). nil once it is written; the error otherwise.
    func writeThrough(_ position: UInt64) -> Error? {
        condition.lock()
        defer { condition.unlock() }
        while true {
            if let failure { return failure }
            if durable >= position { return nil }
            if writing { condition.wait(); continue }
            do { try writeAndSync(force: false) } catch { return error }
        }
    }

    /// Makes everything appended so far durable, then continues in a new file (compaction).
    /// Called under the heap's lock; blocks for one write and fsync.
    func rotate(to newFD: Int32, path newPath: String) throws {
        condition.lock()
        defer { condition.unlock() }
        while writing || syncing { condition.wait() }
        try writeAndSync(force: true)
        close(fd)
        fd = newFD
        path = newPath
        bytesInFile = 0
    }

    func stop() {
        condition.lock()
        stopping = true
        condition.broadcast()
        condition.unlock()
        while let t = thread, !t.isFinished { usleep(1000) }
        condition.lock()
        while writing || syncing { condition.wait() }
        try? writeAndSync(force: true)
        close(fd)
        condition.unlock()
    }

    private func run() {
        condition.lock()
        while !stopping {
            switch policy {
            case .always:
                // Group commit: whatever is pending, one write and one fsync.
                if pending.isEmpty || writing { condition.wait(); continue }
                do { try writeAndSync(force: false) } catch {}
            case .everysec:
                // Requests write; this thread fsyncs what they wrote, a second after.
                _ = condition.wait(until: Date(timeIntervalSinceNow: 1))
                if stopping { break }
                if synced < durable && ContinuousClock.now - lastSync >= .seconds(1) {
                    syncWritten()
                }
            case .no:
                condition.wait()
            }
        }
        condition.unlock()
        Thread.current.name = nil
    }

    /// everysec: fsyncs what has been written, outside the lock and without holding up writers.
    /// Lock held.
    private func syncWritten() {
        let upTo = durable
        let file = fd
        syncing = true
        condition.unlock()
        fdatasync(file)
        condition.lock()
        syncing = false
        synced = max(synced, upTo)
        lastSync = .now
        condition.broadcast()
    }

    /// Writes what is pending and syncs as the policy says; releases waiters. Lock held, and no
    /// other thread is writing (callers wait for `writing` to clear).
    private func writeAndSync(force: Bool) throws {
        let batch = pending
        let upTo = appended
        pending = []
        pending.reserveCapacity(Swift.min(batch.count, 1 << 20))
        writing = true
        defer { writing = false; condition.broadcast() }
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
            durable = max(durable, upTo)
            if policy == .always || force { synced = durable }
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
