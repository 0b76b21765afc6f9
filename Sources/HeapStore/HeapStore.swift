import Foundation
import HeapCore

#if canImport(Glibc)
import Glibc
#endif

/// The heap on disk: snapshot + journal in one data directory.
///
/// Startup (`open`) recovers the heap; then every applied operation is `record`ed (under the
/// heap's lock), replies wait on `whenDurable`, and `compact` (when `wantsCompaction`) folds the journal into a
/// new snapshot in the background once it has grown past the snapshot's size.
public final class HeapStore: @unchecked Sendable {
    public let directory: DataDirectory
    public let policy: FsyncPolicy
    private let lockFD: Int32
    private let writer: JournalWriter
    private let compaction = NSLock()
    // Guarded by `compaction`:
    private var journalIndex: UInt64
    private var snapshotBytes: Int
    /// The first journal the current snapshot does not cover: the journals from the previous
    /// snapshot's on up to this one are kept, with the previous snapshot.
    private var snapshotFirstJournal: UInt64
    private var compacting = false
    private var lastSnapshot: Date?
    /// After a failed snapshot (a full disk, say), the next try waits until then.
    private var compactionRetry: ContinuousClock.Instant?
    private var lastSnapshotError: String?
    private let log: @Sendable (String) -> Void
    /// Compact once the journal exceeds max(this, the snapshot's size).
    public var minimumCompactionBytes = 64 << 20

    public struct Recovery: Sendable {
        public var objects: Int
        public var snapshotBytes: Int
        public var replayedOperations: Int
        public var droppedTornBytes: Int
        public var seconds: Double
    }

    public private(set) var recovery: Recovery

    /// Opens (creating if needed) and recovers the data directory. Throws with a message naming
    /// the file and offset if the journal is damaged anywhere but at its very end.
    public static func open(
        _ directory: DataDirectory, policy: FsyncPolicy, limits: HeapLimits,
        log: @escaping @Sendable (String) -> Void
    ) throws -> (HeapStore, Heap) {
        let lockFD = try directory.createAndLock()
        do {
            return try recover(directory, lockFD: lockFD, policy: policy, limits: limits, log: log)
        } catch {
            Glibc.close(lockFD)  // a refused start leaves the directory free
            throw error
        }
    }

    /// Replays the snapshot and the journals after it.
    ///
    /// A journal's end is judged as PostgreSQL and SQLite judge their logs (recovery ends at the
    /// first record that is not good) with one addition: the rest of the file is searched for
    /// a good record at every byte offset. If none follows and it is the last journal, the
    /// damage is a torn tail (a write cut short, the zero fill ext4 leaves when a file's size
    /// reached the disk but its data did not, junk) and is cut, keeping its bytes in a side file
    /// and logging it: that is the only damage a crash causes, as it loses only what was not yet
    /// synced, which is always the end of the last journal. Skipping zero padding as LevelDB does
    /// would replay records after a hole, which no crash produces, so a good record after the
    /// damage means something else went wrong (a bad disk, a foreign write) and the start is
    /// refused with `heapd repair`, which cuts at the damage after saving what follows.
    private static func recover(
        _ directory: DataDirectory, lockFD: Int32, policy: FsyncPolicy, limits: HeapLimits,
        log: @escaping @Sendable (String) -> Void
    ) throws -> (HeapStore, Heap) {
        let started = ContinuousClock.now
        var heap = Heap(limits: limits)
        var snapshotBytes = 0
        var first: UInt64 = 0
        if let loaded = try SnapshotFile.read(in: directory, limits: limits) {
            heap = loaded.heap
            first = loaded.firstUncoveredJournal
            snapshotBytes = loaded.bytes
            log("loaded snapshot: \(heap.objectCount) objects, \(loaded.bytes) bytes")
        }
        let indexes = directory.journalIndexes().filter { $0 >= first }
        var replayed = 0
        var torn = 0
        var events = HeapEvents(freedIDLimit: 0)
        for (n, index) in indexes.enumerated() {
            let path = directory.journalPath(index)
            guard let bytes = try Files.readAll(path) else { continue }
            let isLast = n == indexes.count - 1
            let (ending, _) = try bytes.withUnsafeBytes { raw in
                try JournalFormat.scan(raw) { payload, offset in
                    var r = BinaryReader(payload)
                    let op: HeapOperation
                    do { op = try HeapOperation.decode(from: &r) } catch {
                        throw Files.Failure(description: "\(path): undecodable record at offset \(offset): \(error)")
                    }
                    do { _ = try heap.apply(op, events: &events) } catch {
                        throw Files.Failure(
                            description:
                                "\(path): record at offset \(offset) does not apply (\(error)); the journal "
                                + "does not match the snapshot"
                        )
                    }
                    events.removeAll()
                    replayed += 1
                    if replayed % 1_000_000 == 0 { log("recovery: \(replayed) operations replayed") }
                }
            }
            switch ending {
            case .clean: break
            case .tornTail(let offset, let reason) where isLast:
                torn = bytes.count - offset
                let kept = try cutTail(path, at: offset, of: bytes)
                log(
                    "journal \(path): cut a torn tail of \(torn) bytes at offset \(offset) (\(reason)); "
                        + "no good record follows it; the bytes cut are in \(kept)")
            case .tornTail(let offset, let reason), .corrupt(let offset, let reason, _):
                let after: String
                if case .corrupt(_, _, let next) = ending {
                    after = "a good record follows at offset \(next)"
                } else {
                    after = "later journals follow it"
                }
                throw Files.Failure(
                    description: """
                        journal \(path) is damaged at offset \(offset) (\(reason)) and \(after).
                        heapd will not guess. To keep everything before that point, run:
                            heapd repair --data \(directory.path)
                        (it keeps the bytes from \(offset) on as \(path).damaged-\(offset)
                        and truncates the journal there)
                        """)
            }
        }
        let index = indexes.last ?? first
        let path = directory.journalPath(index)
        let fd = Glibc.open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw Files.fail("cannot open", path) }
        var st = stat()
        fstat(fd, &st)
        Files.fsyncDirectory(directory.path)
        let writer = JournalWriter(fd: fd, path: path, size: Int(st.st_size), policy: policy, log: log)
        let d = started.duration(to: .now)
        let store = HeapStore(
            directory: directory, policy: policy, lockFD: lockFD, writer: writer,
            journalIndex: index, snapshotBytes: snapshotBytes, snapshotFirstJournal: first, log: log,
            recovery: Recovery(
                objects: heap.objectCount, snapshotBytes: snapshotBytes,
                replayedOperations: replayed, droppedTornBytes: torn,
                seconds: Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18))
        writer.start()
        return (store, heap)
    }

    /// Saves the bytes from `offset` on in `path.<suffix>-<offset>` (fsynced), then truncates the
    /// journal there. Returns where the cut bytes went: the side file, or, when a full disk has
    /// no room for it and they are few (a torn record), the bytes themselves in hex, to be
    /// logged: cutting must work on a full disk, and refusing would leave the daemon down.
    static func cutTail(_ path: String, at offset: Int, of bytes: [UInt8], suffix: String = "torn") throws -> String {
        let side = "\(path).\(suffix)-\(offset)"
        let kept: String
        do {
            try writeSideFile(side, bytes[offset...])
            kept = side
        } catch let error as Files.Failure where error.noSpace && bytes.count - offset <= 64 << 10 {
            kept =
                "this log (no room for \(side): \(error)): "
                + bytes[offset...].map { String(format: "%02x", $0) }.joined()
        }
        guard truncate(path, off_t(offset)) == 0 else { throw Files.fail("cannot truncate", path) }
        let jfd = Glibc.open(path, O_WRONLY | O_CLOEXEC)
        if jfd >= 0 { fsync(jfd); Glibc.close(jfd) }
        Files.fsyncDirectory((path as NSString).deletingLastPathComponent)
        return kept
    }

    private static func writeSideFile(_ side: String, _ bytes: ArraySlice<UInt8>) throws {
        let fd = Glibc.open(side, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw Files.fail("cannot create", side) }
        do {
            try bytes.withUnsafeBytes { try Files.writeAll(fd, $0, path: side) }
            guard fsync(fd) == 0 else { throw Files.fail("cannot fsync", side) }
        } catch {
            Glibc.close(fd)
            unlink(side)
            throw error
        }
        Glibc.close(fd)
    }

    private init(
        directory: DataDirectory, policy: FsyncPolicy, lockFD: Int32, writer: JournalWriter,
        journalIndex: UInt64, snapshotBytes: Int, snapshotFirstJournal: UInt64,
        log: @escaping @Sendable (String) -> Void, recovery: Recovery
    ) {
        self.snapshotFirstJournal = snapshotFirstJournal
        self.directory = directory
        self.policy = policy
        self.lockFD = lockFD
        self.writer = writer
        self.journalIndex = journalIndex
        self.snapshotBytes = snapshotBytes
        self.log = log
        self.recovery = recovery
    }

    public struct DiskFull: Error, CustomStringConvertible {
        public let description: String
    }

    /// Call before applying `op` (under the heap's lock, as `record`): makes sure its journal
    /// record will have disk space, so a change is never applied that cannot be made durable.
    /// Throws, and `op` must not be applied, when the disk is full or the journal is failing.
    /// What connections do as they come and go is never refused, whatever the disk does:
    /// opening an anonymous session, attaching to a named one (its references move over),
    /// closing one. Those records are small and use a floor kept reserved for them.
    public func reserve(for op: HeapOperation) throws(DiskFull) {
        let unrefusable: Bool
        switch op {
        case .openSession(name: nil), .closeSession, .transferReferences: unrefusable = true
        default: unrefusable = false
        }
        do { try writer.reserve(JournalFormat.recordBound(op), unrefusable: unrefusable) } catch {
            throw DiskFull(description: error.description)
        }
    }

    /// Appends an applied operation (call under the heap's lock, in the order applied).
    /// Returns its journal position.
    @discardableResult
    public func record(_ op: HeapOperation) -> UInt64 {
        return writer.append(JournalFormat.record(encoding: op))
    }

    /// The position of the newest record.
    public var position: UInt64 { writer.position }

    /// Calls `done` when everything up to `position` is durable (nil) or failed (the error).
    public func whenDurable(_ position: UInt64, _ done: @escaping @Sendable (Error?) -> Void) {
        writer.whenDurable(position, done)
    }

    /// Whether everything up to `position` is durable without waiting (writing it from the
    /// calling thread under `everysec` and `no`); nil if `whenDurable` must wait for an fsync.
    public func durableNow(_ position: UInt64) -> Result<Void, Error>? {
        writer.durableNow(position)
    }

    /// `everysec` / `no`: writes the journal up to `position` from the calling thread; nil once
    /// written (a reply may go: the kernel has the change), else why not.
    public func writeThrough(_ position: UInt64) -> Error? {
        writer.writeThrough(position)
    }

    /// Whether the journal has outgrown the snapshot (checked under the heap's lock).
    public var wantsCompaction: Bool {
        compaction.lock()
        defer { compaction.unlock() }
        if let compactionRetry, ContinuousClock.now < compactionRetry { return false }
        return !compacting && writer.size > max(minimumCompactionBytes, snapshotBytes)
    }

    /// Journal bytes past the snapshot that a clean stop compacts first, so that the next start
    /// loads a snapshot rather than replays them (here about 50 MB of journal a second, against
    /// 250 MB of snapshot; Redis also saves on `SHUTDOWN` when it keeps snapshots).
    public static let shutdownCompactionBytes = 16 << 20

    /// Whether a clean stop should compact first (called once nothing changes the heap any more).
    public var wantsCompactionAtShutdown: Bool {
        let refusing = writer.refusingChanges != nil  // (a full disk: the snapshot would fail too)
        compaction.lock()
        defer { compaction.unlock() }
        return !compacting && !refusing && writer.size > Self.shutdownCompactionBytes
    }

    /// Starts a compaction from `heap`, a copy of the heap taken under its lock right now: the
    /// journal moves to a new file at once (so the copy matches exactly the old files), and the
    /// snapshot is written in the background. Copying the heap is O(1), and the copy shares the
    /// heap's storage: the heap's next change copies each array it touches, unless the caller
    /// moved the heap into new storage first (the daemon does for big heaps:
    /// `ServerState.compactOrPlanStorage`). `finally`: the last one before the process stops
    /// (nothing retries it; a failure leaves the journal for the next start to replay).
    public func compact(_ heap: Heap, finally: Bool = false) {
        let retry = finally ? "the journal is kept for the next start" : "tried again in a minute"
        compaction.lock()
        guard !compacting else { compaction.unlock(); return }
        compacting = true
        let next = journalIndex + 1
        compaction.unlock()
        let path = directory.journalPath(next)
        let fd = Glibc.open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o600)
        do {
            guard fd >= 0 else { throw Files.fail("cannot create", path) }
            try writer.rotate(to: fd, path: path)
            Files.fsyncDirectory(directory.path)
        } catch {
            if fd >= 0 { Glibc.close(fd); unlink(path) }
            log("compaction not started (\(retry)): \(error)")
            compaction.lock()
            compacting = false
            compactionRetry = .now + .seconds(60)
            lastSnapshotError = "\(error)"
            compaction.unlock()
            return
        }
        compaction.lock(); journalIndex = next; compaction.unlock()
        let directory = self.directory
        Thread.detachNewThread { [self] in
            let started = ContinuousClock.now
            do {
                let bytes = try SnapshotFile.write(heap, firstUncoveredJournal: next, in: directory)
                // What the previous snapshot (now snapshot.prev) needs stays: the journals from
                // its first on. Older ones go.
                compaction.lock()
                let keepFrom = snapshotFirstJournal
                snapshotFirstJournal = next
                compaction.unlock()
                for old in directory.journalIndexes() where old < keepFrom { unlink(directory.journalPath(old)) }
                let d = started.duration(to: .now)
                log("snapshot written: \(heap.objectCount) objects, \(bytes) bytes in \(d)")
                compaction.lock()
                snapshotBytes = bytes
                lastSnapshot = Date()
                compacting = false
                compactionRetry = nil
                lastSnapshotError = nil
                compaction.unlock()
            } catch {
                // The journal goes on (in the new file); the journals before it stay until a
                // snapshot covers them, and the next try waits a minute rather than rotating
                // the journal on every request while the disk is full.
                log("snapshot failed (\(retry); the journal is unaffected): \(error)")
                compaction.lock()
                compacting = false
                compactionRetry = .now + .seconds(60)
                lastSnapshotError = "\(error)"
                compaction.unlock()
            }
        }
    }

    public var isCompacting: Bool {
        compaction.lock()
        defer { compaction.unlock() }
        return compacting
    }

    /// A value of `state()`.
    public enum Value: Sendable, Equatable {
        case int(Int), string(String), bool(Bool)
    }

    /// For `stats`: what is on disk, and whether changes are refused (as Redis's
    /// `aof_last_write_status`): `last_write_status` is "err" while they are, with the reason in
    /// `last_write_error` ("" otherwise).
    public func state() -> [(String, Value)] {
        let refusing = writer.refusingChanges
        compaction.lock()
        defer { compaction.unlock() }
        return [
            ("data_dir", .string(directory.path)), ("fsync", .string(policy.rawValue)),
            ("journal_bytes", .int(writer.size)), ("journal_file", .string(directory.journalPath(journalIndex))),
            ("snapshot_bytes", .int(snapshotBytes)),
            ("last_snapshot", .string(lastSnapshot.map { ISO8601DateFormatter().string(from: $0) } ?? "none")),
            ("compacting", .bool(compacting)),
            ("last_write_status", .string(refusing == nil ? "ok" : "err")),
            ("last_write_error", .string(refusing ?? "")),
            ("refusing_changes", .bool(refusing != nil)),
            ("last_snapshot_error", .string(lastSnapshotError ?? "")),
        ]
    }

    /// Flushes and syncs the journal, stops the writer and releases the directory lock.
    public func close() {
        while isCompacting { usleep(10_000) }
        writer.stop()
        Glibc.close(lockFD)
    }

    /// A damaged snapshot is set aside (`snapshot.damaged`) and the previous one takes its place
    /// (none, before the second compaction: then the journals from journal.0 on rebuild the
    /// heap), if it loads and every journal after it is there.
    static func usePreviousSnapshot(_ directory: DataDirectory, because error: Error) throws -> String {
        let previousPath = directory.previousSnapshotPath
        let path = directory.snapshotPath
        let hasPrevious = FileManager.default.fileExists(atPath: previousPath)
        var first: UInt64 = 0
        if hasPrevious {
            guard let previous = try? SnapshotFile.read(in: directory, limits: HeapLimits(), path: previousPath) else {
                throw Files.Failure(
                    description:
                        "\(error)\nheapd repair cannot help: the previous snapshot \(previousPath) is damaged too")
            }
            first = previous.firstUncoveredJournal
        }
        let journals = directory.journalIndexes().filter { $0 >= first }
        guard journals.first == first, let last = journals.last, last - first + 1 == UInt64(journals.count) else {
            throw Files.Failure(
                description: "\(error)\nheapd repair cannot help: journals from journal.\(first) on are missing")
        }
        guard rename(path, path + ".damaged") == 0 else { throw Files.fail("cannot rename", path) }
        if hasPrevious { guard link(previousPath, path) == 0 else { throw Files.fail("cannot link", previousPath) } }
        Files.fsyncDirectory(directory.path)
        return "\(path): damaged, kept as \(path).damaged; "
            + (hasPrevious ? "the previous snapshot takes its place" : "the heap is rebuilt from the journals alone")
            + ", with journals \(first)...\(last)"
    }

    /// `heapd repair`: truncates each damaged journal at its first bad record, keeping the bytes
    /// cut (only those: a full disk has room for little) in `journal.N.damaged-<offset>`.
    /// Returns a description of what was done.
    public static func repair(_ directory: DataDirectory) throws -> String {
        let lockFD = try directory.createAndLock()
        defer { Glibc.close(lockFD) }
        var report: [String] = []
        if FileManager.default.fileExists(atPath: directory.snapshotPath) {
            do { _ = try SnapshotFile.read(in: directory, limits: HeapLimits()) } catch {
                report.append(try usePreviousSnapshot(directory, because: error))
            }
        }
        for index in directory.journalIndexes() {
            let path = directory.journalPath(index)
            guard let bytes = try Files.readAll(path) else { continue }
            let (ending, good) = bytes.withUnsafeBytes { JournalFormat.scan($0) { _, _ in } }
            guard ending != .clean else { continue }
            let side = try cutTail(path, at: good, of: bytes, suffix: "damaged")
            report.append(
                "\(path): kept \(good) of \(bytes.count) bytes; the \(bytes.count - good) bytes cut are in \(side)")
        }
        Files.fsyncDirectory(directory.path)
        return report.isEmpty ? "nothing to repair in \(directory.path)" : report.joined(separator: "\n")
    }
}
