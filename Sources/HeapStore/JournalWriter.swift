import CHeapdSystem
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
///
/// A full disk: the heap is changed before its record is written and others may see the change
/// at once, so a change cannot be rolled back once its write fails. Space is therefore taken
/// before the change (`reserve`): the file keeps disk space allocated ahead of its end with
/// `fallocate(FALLOC_FL_KEEP_SIZE)` (the size stays put, so a crash leaves no zero tail), and a
/// change that does not fit is refused before it is applied. A write that fails anyway (EIO, a
/// file system without fallocate) leaves the store failed for writes: the batch goes back in
/// front of what is pending, the file is cut back to its last good length, waiting replies get
/// the error, `reserve` refuses changes, and the writer thread retries once a second until the
/// batch is written, then clears the failure. Nothing is ever dropped from the journal.
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
    /// Why the last write failed, until a retry succeeds (changes are refused meanwhile).
    private var failure: Error?
    /// The last refused reservation (bytes wanted past the end, and why not), until one succeeds.
    private var refusal: (need: Int, reason: String)?
    private var stopping = false
    private var fd: Int32
    private var path: String
    private var bytesInFile: Int
    /// Bytes appended to this file: written, being written, and pending.
    private var appendedBytes: Int
    /// Bytes of the file allocated on disk (its size, plus what `fallocate` reserved past it).
    private var allocatedBytes: Int
    /// The file system cannot reserve space (no fallocate): writes are then the only check.
    private var reservationUnsupported = false
    private let log: @Sendable (String) -> Void
    /// Space reservations are made in chunks of this much (fewer fallocate calls), or exactly
    /// what is needed when a chunk does not fit.
    static let reservationChunk = 1 << 20
    /// Kept reserved beyond every refusable change for those never refused: a session opened
    /// for a new connection, or closed for one that left.
    static let unrefusableFloor = 64 << 10

    let policy: FsyncPolicy
    private var thread: Thread?
    private var lastSync = ContinuousClock.now

    init(fd: Int32, path: String, size: Int, policy: FsyncPolicy, log: @escaping @Sendable (String) -> Void) {
        self.fd = fd
        self.path = path
        self.bytesInFile = size
        self.appendedBytes = size
        self.allocatedBytes = size
        self.policy = policy
        self.log = log
    }

    struct Refused: Error, CustomStringConvertible {
        let description: String
    }

    /// Makes sure `bytes` more can be appended without needing disk space, plus the floor kept
    /// for unrefusable changes unless `unrefusable`. Throws (and nothing may be changed) when the
    /// disk has no room or the journal is failed for writes; an unrefusable change never throws.
    func reserve(_ bytes: Int, unrefusable: Bool) throws(Refused) {
        condition.lock()
        defer { condition.unlock() }
        if let failure, !unrefusable {
            throw Refused(description: "the journal cannot be written (\(failure)); changes are refused until it can")
        }
        if unrefusable {
            // It uses what is left (the floor); a write that then fails is retried.
            _ = allocate(upTo: appendedBytes + bytes)
            return
        }
        let need = bytes + Self.unrefusableFloor
        if let problem = allocate(upTo: appendedBytes + need) {
            refusal = (
                need, "cannot reserve \(appendedBytes + need - allocatedBytes) more bytes for \(path): \(problem)"
            )
            throw Refused(description: refusal!.reason)
        }
        refusal = nil
    }

    /// Allocates the file up to at least `wanted` bytes (a chunk more if it fits). Lock held.
    /// nil on success, else why not.
    private func allocate(upTo wanted: Int) -> String? {
        guard wanted > allocatedBytes, !reservationUnsupported else { return nil }
        let exact = wanted - allocatedBytes
        for length in Set([max(exact, Self.reservationChunk), exact]).sorted(by: >) {
            if heapd_fallocate_keep_size(fd, Int64(allocatedBytes), Int64(length)) == 0 {
                allocatedBytes += length
                return nil
            }
            let e = errno
            if e == EOPNOTSUPP || e == ENOSYS {
                reservationUnsupported = true
                log(
                    "journal \(path): the file system cannot reserve space (fallocate: "
                    + "\(String(cString: strerror(e)))); "
                        + "a full disk will be noticed only when a write fails")
                return nil
            }
            if e != ENOSPC && e != EDQUOT { return String(cString: strerror(e)) }
        }
        return String(cString: strerror(ENOSPC))
    }

    /// Why changes are refused right now (nil: they are not). A refusal for want of space is
    /// checked again, so this clears once space returns even if no change was tried since.
    var refusingChanges: String? {
        condition.lock()
        defer { condition.unlock() }
        if let failure { return "the journal cannot be written (\(failure)); retrying every second" }
        if let r = refusal, allocate(upTo: appendedBytes + r.need) == nil { refusal = nil }
        return refusal?.reason
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
        appendedBytes += framed.count
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
        return appendedBytes
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
    /// first, so a position is settled only once none is left. While writes fail, a position
    /// not yet written fails at once rather than waiting for the retry.
    private func settled(_ position: UInt64) -> Result<Void, Error>? {
        if durable >= position && waiters.isEmpty { return .success(()) }
        if let failure { return .failure(failure) }
        return nil
    }

    /// `everysec` / `no`: writes everything pending up to `position` from the calling thread (or
    /// waits for the thread already writing it). nil once it is written; the error otherwise.
    func writeThrough(_ position: UInt64) -> Error? {
        condition.lock()
        defer { condition.unlock() }
        while true {
            if durable >= position { return nil }
            if let failure { return failure }  // the writer thread retries; no write from here
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
        if let failure { throw failure }
        try writeAndSync(force: true)
        ftruncate(fd, off_t(bytesInFile))  // gives back the space reserved past the end
        close(fd)
        fd = newFD
        path = newPath
        bytesInFile = 0
        appendedBytes = 0
        allocatedBytes = 0
    }

    func stop() {
        condition.lock()
        stopping = true
        condition.broadcast()
        condition.unlock()
        while let t = thread, !t.isFinished { usleep(1000) }
        condition.lock()
        while writing || syncing { condition.wait() }
        if failure != nil { retry() }
        if let failure { log("journal \(path): stopping with \(pending.count) bytes unwritten: \(failure)") }
        try? writeAndSync(force: true)
        ftruncate(fd, off_t(bytesInFile))
        close(fd)
        condition.unlock()
    }

    private func run() {
        condition.lock()
        while !stopping {
            if failure != nil {
                _ = condition.wait(until: Date(timeIntervalSinceNow: 1))
                if !stopping && !writing && !syncing { retry() }
                continue
            }
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

    /// After a failed write: cuts the file back to its last good length, reserves room for what
    /// is pending, and writes it. Clears the failure once that worked. Lock held, nobody writing.
    private func retry() {
        guard ftruncate(fd, off_t(bytesInFile)) == 0 else { return }
        allocatedBytes = bytesInFile  // a truncate also frees what was reserved past the end
        if allocate(upTo: appendedBytes) != nil { return }
        do {
            try writeAndSync(force: true)
            log("journal \(path): written again (\(appendedBytes) bytes) after: \(failure.map { "\($0)" } ?? "")")
            failure = nil
            condition.broadcast()
        } catch {}
    }

    /// everysec: fsyncs what has been written, outside the lock and without holding up writers.
    /// Lock held.
    private func syncWritten() {
        let upTo = durable
        let file = fd
        syncing = true
        condition.unlock()
        let ok = fdatasync(file) == 0
        let e = errno
        condition.lock()
        syncing = false
        if !ok {
            // Written but maybe not on disk: refuse changes until an fsync works again (the
            // retry fsyncs). The bytes are no longer in memory to write again.
            let error = Files.Failure(description: "cannot fsync \(path): \(String(cString: strerror(e)))")
            if failure == nil { log("journal \(path): \(error); changes are refused until an fsync works") }
            failure = error
            condition.broadcast()
            return
        }
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
                if policy == .always || force {
                    guard fdatasync(fd) == 0 else { throw Files.fail("cannot fsync", path) }
                }
            } else if force {
                guard fdatasync(fd) == 0 else { throw Files.fail("cannot fsync", path) }
            }
            bytesInFile += batch.count
            durable = max(durable, upTo)
            if policy == .always || force { synced = durable }
            release(error: nil)
        } catch {
            // Nothing is dropped: the batch goes back in front of what was appended meanwhile,
            // the file is cut back to its last good length (now or by the retry), and the
            // writer thread retries. Until then every reply waiting on it gets the error.
            if ftruncate(fd, off_t(bytesInFile)) == 0 { allocatedBytes = bytesInFile }
            pending = batch + pending
            if failure == nil { log("journal \(path): write failed, changes are refused until it works: \(error)") }
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
