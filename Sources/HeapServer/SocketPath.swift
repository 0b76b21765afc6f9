import Glibc
import JSONRPC

/// Preparing the socket's directory and finding out whether a daemon already answers there.
enum SocketPath {
    enum Problem: Error, CustomStringConvertible {
        case tooLong(String)
        case cannotCreateDirectory(String, Int32)
        case unsafeDirectory(String, String)
        case alreadyServing(String)
        case notASocket(String)
        case unknownGroup(String)

        var description: String {
            switch self {
            case .tooLong(let p): return "socket path is longer than 107 bytes: \(p)"
            case .cannotCreateDirectory(let d, let e): return "cannot create \(d): \(String(cString: strerror(e)))"
            case .unsafeDirectory(let d, let why): return "refusing to use \(d): \(why)"
            case .alreadyServing(let p):
                return "another heapd is already serving \(p) (stop it first, or pass --socket)"
            case .notASocket(let p): return "\(p) exists and is not a socket; remove it or pass --socket"
            case .unknownGroup(let g): return "no group named \(g) (--allow-group)"
            }
        }
    }

    /// Creates the socket's directory (0700, like `$XDG_RUNTIME_DIR`) and checks that no one else
    /// can write to it; removes a stale socket file, refusing if a daemon still answers on it.
    static func prepare(_ path: String, sharedWithGroup group: UInt32? = nil) throws {
        guard path.utf8.count <= 107 else { throw Problem.tooLong(path) }
        let dir = directory(of: path)
        try makeDirectories(dir)
        if let group {
            // The group must reach the socket: the directory becomes group-searchable (0710).
            var st = stat()
            if stat(dir, &st) == 0 && st.st_uid == getuid() {
                chown(dir, getuid(), group)
                chmod(dir, (st.st_mode & 0o7777) | 0o010)
            }
        }
        var st = stat()
        guard stat(dir, &st) == 0 else { throw Problem.cannotCreateDirectory(dir, errno) }
        if st.st_uid != getuid() && st.st_uid != 0 {
            throw Problem.unsafeDirectory(dir, "it belongs to uid \(st.st_uid)")
        }
        if st.st_mode & (S_IWGRP | S_IWOTH) != 0 && st.st_mode & S_ISVTX == 0 {
            throw Problem.unsafeDirectory(dir, "others can write to it (mode \(String(st.st_mode & 0o7777, radix: 8)))")
        }
        var sst = stat()
        if lstat(path, &sst) == 0 {
            guard (sst.st_mode & S_IFMT) == S_IFSOCK else { throw Problem.notASocket(path) }
            if UnixSocket.answers(path: path) { throw Problem.alreadyServing(path) }
            unlink(path)
        }
    }

    static func directory(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        let d = String(path[..<slash])
        return d.isEmpty ? "/" : d
    }

    private static func makeDirectories(_ dir: String) throws {
        var current = dir.hasPrefix("/") ? "" : "."
        for part in dir.split(separator: "/") {
            current += "/" + part
            if mkdir(current, 0o700) != 0 && errno != EEXIST {
                throw Problem.cannotCreateDirectory(current, errno)
            }
        }
    }
}
