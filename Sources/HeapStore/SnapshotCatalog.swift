import Foundation
import HeapCore
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// The saved snapshots (`snapshot.save`, `snapshot.list`, `snapshot.delete`, `snapshot.diff`).
///
/// With a data directory each snapshot is a file in `<data>/snapshots/` and survives restarts;
/// only its summary stays in memory, and its census is read back when a diff needs it (so saved
/// snapshots cost the daemon no memory between diffs). Under `--memory` the censuses are kept in
/// memory for the daemon's lifetime. At most ``limit`` snapshots either way, so memory and disk
/// stay bounded by `limit` censuses (about 3 bytes per live object and 1 per free slot each).
///
/// Its own lock, not the heap's: file I/O happens here, after the heap's lock is released.
public final class SnapshotCatalog: Sendable {
    public static let limit = 64

    public struct Summary: Sendable, Equatable {
        public let name: String
        public let created: Double
        public let objects: Int
        public let bytes: UInt64
        /// The saved form's size (the file's, or in memory the encoded census's).
        public let storedBytes: Int
    }

    public enum Failure: Error, Equatable {
        case badName(String)
        case noSuchSnapshot(String)
        case full(limit: Int)
        case io(String, noSpace: Bool)
        case damaged(String, reason: String)
    }

    private struct State {
        var summaries: [String: Summary] = [:]
        var inMemory: [String: SavedCensus] = [:]
    }

    /// nil: memory only.
    let directory: String?
    private let state = Mutex(State())

    /// Files found damaged when the catalog was opened (they are left in place, unused).
    public let loadProblems: [String]

    /// Memory only.
    public init() {
        directory = nil
        loadProblems = []
    }

    /// Snapshots under `dataDirectory/snapshots` (created when missing). Damaged files are
    /// skipped and reported: a broken snapshot must not keep the daemon from starting.
    public init(dataDirectory: DataDirectory) throws {
        let dir = dataDirectory.path + "/snapshots"
        directory = dir
        if mkdir(dir, 0o700) != 0 && errno != EEXIST { throw Files.fail("cannot create", dir) }
        var summaries: [String: Summary] = [:]
        var problems: [String] = []
        for file in (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? [] {
            guard file.hasSuffix(".census") else { continue }
            let path = dir + "/" + file
            guard let bytes = try? Files.readAll(path) else { continue }
            switch CensusFile.decode(bytes) {
            case .success(let saved) where file == saved.name + ".census":
                summaries[saved.name] = Self.summary(saved, storedBytes: bytes.count)
            case .success: problems.append("\(path): its name does not match the file's")
            case .failure(let problem): problems.append("\(path): \(problem.reason)")
            }
        }
        state.withLock { $0.summaries = summaries }
        loadProblems = problems
    }

    /// Saves (or replaces) a snapshot; returns its summary and whether one was replaced.
    public func save(_ saved: SavedCensus) throws(Failure) -> (Summary, replaced: Bool) {
        guard SnapshotName.isValid(saved.name) else { throw .badName(saved.name) }
        return try state.withLock { s throws(Failure) -> (Summary, replaced: Bool) in
            let replaced = s.summaries[saved.name] != nil
            guard replaced || s.summaries.count < Self.limit else { throw .full(limit: Self.limit) }
            let summary: Summary
            if let directory {
                let bytes = CensusFile.encode(saved)
                try Self.writeAtomically(bytes, to: directory + "/" + saved.name + ".census", in: directory)
                summary = Self.summary(saved, storedBytes: bytes.count)
            } else {
                s.inMemory[saved.name] = saved
                summary = Self.summary(saved, storedBytes: saved.census.slots.count)
            }
            s.summaries[saved.name] = summary
            return (summary, replaced)
        }
    }

    /// Every snapshot, oldest first (then by name).
    public func list() -> [Summary] {
        state.withLock { s in
            s.summaries.values.sorted { $0.created != $1.created ? $0.created < $1.created : $0.name < $1.name }
        }
    }

    public func delete(_ name: String) throws(Failure) {
        try state.withLock { s throws(Failure) in
            guard s.summaries[name] != nil else { throw .noSuchSnapshot(name) }
            if let directory {
                let path = directory + "/" + name + ".census"
                guard unlink(path) == 0 || errno == ENOENT else {
                    throw .io(Files.fail("cannot delete", path).description, noSpace: false)
                }
                Files.fsyncDirectory(directory)
            }
            s.summaries[name] = nil
            s.inMemory[name] = nil
        }
    }

    /// A saved census, read back from its file (checked) or from memory.
    public func load(_ name: String) throws(Failure) -> SavedCensus {
        let known = state.withLock { s in (s.summaries[name] != nil, s.inMemory[name]) }
        guard known.0 else { throw .noSuchSnapshot(name) }
        if let saved = known.1 { return saved }
        guard let directory else { throw .noSuchSnapshot(name) }
        let path = directory + "/" + name + ".census"
        let bytes: [UInt8]
        do {
            guard let read = try Files.readAll(path) else { throw Failure.noSuchSnapshot(name) }
            bytes = read
        } catch let failure as Failure {
            throw failure
        } catch {
            throw .io("\(error)", noSpace: false)
        }
        switch CensusFile.decode(bytes) {
        case .success(let saved): return saved
        case .failure(let problem): throw .damaged(path, reason: problem.reason)
        }
    }

    private static func summary(_ saved: SavedCensus, storedBytes: Int) -> Summary {
        Summary(
            name: saved.name, created: saved.created, objects: saved.census.objects, bytes: saved.census.bytes,
            storedBytes: storedBytes)
    }

    private static func writeAtomically(_ bytes: [UInt8], to path: String, in directory: String) throws(Failure) {
        let tmp = path + ".tmp"
        do {
            let fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
            guard fd >= 0 else { throw Files.fail("cannot create", tmp) }
            do {
                try bytes.withUnsafeBytes { try Files.writeAll(fd, $0, path: tmp) }
                guard fsync(fd) == 0 else { throw Files.fail("cannot fsync", tmp) }
                close(fd)
            } catch {
                close(fd)
                unlink(tmp)
                throw error
            }
            guard rename(tmp, path) == 0 else {
                let failure = Files.fail("cannot rename", tmp)
                unlink(tmp)
                throw failure
            }
            Files.fsyncDirectory(directory)
        } catch let failure as Files.Failure {
            throw .io(failure.description, noSpace: failure.noSpace)
        } catch {
            throw .io("\(error)", noSpace: false)
        }
    }
}
