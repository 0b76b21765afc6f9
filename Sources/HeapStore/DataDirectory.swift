import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// The data directory: where it is, its files, and the lock that keeps a second daemon off it.
public struct DataDirectory: Sendable {
    public let path: String

    public struct Problem: Error, CustomStringConvertible {
        public let description: String
    }

    /// `--data DIR`, else `$XDG_DATA_HOME/heapd`, else `~/.local/share/heapd`.
    public static func defaultPath() -> String {
        let env = ProcessInfo.processInfo.environment
        if let xdg = env["XDG_DATA_HOME"], !xdg.isEmpty { return xdg + "/heapd" }
        let home = env["HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? NSHomeDirectory()
        return home + "/.local/share/heapd"
    }

    public init(path: String) { self.path = path }

    var snapshotPath: String { path + "/snapshot" }
    var snapshotTempPath: String { path + "/snapshot.tmp" }
    /// The snapshot before the current one, kept with the journals after it, so that a damaged
    /// snapshot can be replaced by it and nothing is lost (`heapd repair`).
    var previousSnapshotPath: String { path + "/snapshot.prev" }
    var lockPath: String { path + "/lock" }

    func journalPath(_ index: UInt64) -> String { path + "/journal." + String(index) }

    /// Journal indexes present, ascending.
    func journalIndexes() -> [UInt64] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []
        return names.compactMap { $0.hasPrefix("journal.") ? UInt64($0.dropFirst("journal.".count)) : nil }.sorted()
    }

    /// Refuses the directory, and the files heapd reads in it, if another user owns them or
    /// others can write them: whoever can write a journal can make the daemon replay anything
    /// (as the socket directory is refused). A sticky bit does not help here: others could
    /// still add a journal. Root-owned is fine (root can do all this anyway).
    func checkOwnership() throws {
        let me = geteuid()
        func check(_ file: String, _ what: String) throws {
            var st = stat()
            guard lstat(file, &st) == 0 else {
                if errno == ENOENT { return }
                throw Problem(description: "cannot stat \(file): \(String(cString: strerror(errno)))")
            }
            if st.st_uid != me && st.st_uid != 0 {
                throw Problem(
                    description: "refusing to use \(what) \(file): it belongs to uid \(st.st_uid), "
                        + "not to uid \(me) that heapd runs as (chown it, or choose another with --data)")
            }
            if st.st_mode & (S_IWGRP | S_IWOTH) != 0 {
                throw Problem(
                    description: "refusing to use \(what) \(file): others can write to it (mode "
                        + "\(String(st.st_mode & 0o7777, radix: 8)); chmod go-w it, or choose another with --data)")
            }
        }
        try check(path, "the data directory")
        let names = (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []
        for name in names.sorted() where name.hasPrefix("snapshot") || name == "lock" || name.hasPrefix("journal.") {
            try check(path + "/" + name, "the data file")
        }
    }

    /// Creates the directory (0700) and takes an exclusive lock for this process's lifetime.
    /// Returns the lock's file descriptor (kept open).
    func createAndLock() throws -> Int32 {
        var current = path.hasPrefix("/") ? "" : "."
        for part in path.split(separator: "/") {
            current += "/" + part
            if mkdir(current, 0o700) != 0 && errno != EEXIST {
                throw Problem(description: "cannot create \(current): \(String(cString: strerror(errno)))")
            }
        }
        try checkOwnership()
        let fd = open(lockPath, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else {
            throw Problem(description: "cannot open \(lockPath): \(String(cString: strerror(errno)))")
        }
        if flock(fd, LOCK_EX | LOCK_NB) != 0 {
            close(fd)
            throw Problem(description: "another heapd is using the data directory \(path) (its lock is held)")
        }
        return fd
    }
}

/// Small POSIX file helpers that report errors with the file's name.
enum Files {
    struct Failure: Error, CustomStringConvertible {
        let description: String
        var errorNumber: Int32 = 0
        /// The disk (or the user's quota) is full.
        var noSpace: Bool { errorNumber == ENOSPC || errorNumber == EDQUOT }
    }

    static func fail(_ what: String, _ path: String) -> Failure {
        let e = errno
        return Failure(description: "\(what) \(path): \(String(cString: strerror(e)))", errorNumber: e)
    }

    /// The file opened for reading, and its size (nil: no such file); the caller closes it.
    private static func openForReading(_ path: String) throws -> (fd: Int32, size: Int)? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        if fd < 0 {
            if errno == ENOENT { return nil }
            throw fail("cannot open", path)
        }
        var st = stat()
        guard fstat(fd, &st) == 0 else {
            let failure = fail("cannot stat", path)
            close(fd)
            throw failure
        }
        return (fd, Int(st.st_size))
    }

    static func readAll(_ path: String) throws -> [UInt8]? {
        guard let (fd, size) = try openForReading(path) else { return nil }
        defer { close(fd) }
        // Read straight into the array's storage: zero-filling it first and copying the part read
        // afterwards were two more passes over what, for a big snapshot, is hundreds of MB.
        var failure: Files.Failure?
        let bytes = [UInt8](unsafeUninitializedCapacity: size) { buffer, count in
            do throws(Failure) {
                count = try readFully(fd, into: UnsafeMutableRawBufferPointer(buffer), path: path)
            } catch {
                (failure, count) = (error, 0)
            }
        }
        if let failure { throw failure }
        return bytes
    }

    /// Reads into `buffer` until it is full or the file ends (it shrank meanwhile); the bytes read.
    private static func readFully(
        _ fd: Int32, into buffer: UnsafeMutableRawBufferPointer, path: String
    ) throws(Failure) -> Int {
        var done = 0
        while done < buffer.count {
            let n = read(fd, buffer.baseAddress! + done, buffer.count - done)
            if n < 0 {
                if errno == EINTR { continue }
                throw fail("cannot read", path)
            }
            if n == 0 { break }
            done += n
        }
        return done
    }

    /// A whole file mapped read-only (nil: no such file), for reading a big file without copying
    /// it into fresh memory: its pages are the page cache's. The daemon's data directory is its
    /// own (`DataDirectory` refuses one that others can write), so nobody truncates a file under
    /// the mapping (which would fault the reader).
    static func map(_ path: String) throws -> MappedFile? {
        guard let (fd, size) = try openForReading(path) else { return nil }
        defer { close(fd) }
        guard size > 0 else { return MappedFile(start: nil, count: 0) }
        // MAP_POPULATE: the pages are mapped in one call rather than a fault each.
        if let p = mmap(nil, size, PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd, 0), p != MAP_FAILED {
            return MappedFile(start: p, count: size)
        }
        // A file system that cannot map files: read it instead.
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: size, alignment: 16)
        do throws(Failure) {
            return MappedFile(
                start: buffer.baseAddress, count: try readFully(fd, into: buffer, path: path), owned: true)
        } catch {
            buffer.deallocate()
            throw error
        }
    }

    static func writeAll(_ fd: Int32, _ bytes: UnsafeRawBufferPointer, path: String) throws {
        var done = 0
        while done < bytes.count {
            let n = write(fd, bytes.baseAddress! + done, bytes.count - done)
            if n < 0 { if errno == EINTR { continue }; throw fail("cannot write", path) }
            done += n
        }
    }

    static func fsyncDirectory(_ dir: String) {
        let fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { return }
        fsync(fd)
        close(fd)
    }
}

/// A file mapped by `Files.map` (or read into memory it owns, where mapping failed), released with it.
final class MappedFile {
    let bytes: UnsafeRawBufferPointer
    private let owned: Bool

    init(start: UnsafeMutableRawPointer?, count: Int, owned: Bool = false) {
        bytes = UnsafeRawBufferPointer(start: start, count: count)
        self.owned = owned
    }

    deinit {
        guard let base = bytes.baseAddress else { return }
        if owned {
            UnsafeMutableRawPointer(mutating: base).deallocate()
        } else {
            munmap(UnsafeMutableRawPointer(mutating: base), bytes.count)
        }
    }
}
