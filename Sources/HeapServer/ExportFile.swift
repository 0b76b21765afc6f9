import Glibc
import HeapProtocol
import JSONRPC

/// Writes a file the way a crash or a full disk cannot leave half of at `path`: a temporary file
/// beside it (created exclusively, mode 0600), fsynced, then renamed over `path`. Any failure
/// removes the temporary file and becomes an `RPCError` (-32602) that names the path and the
/// reason.
///
/// The daemon writes as the socket's owner wherever the client says: the client can already
/// read and change everything on this heap, so this grants it nothing it lacks (the socket
/// admits only the daemon's own user).
final class ExportFile {
    let path: String
    private let temporary: String
    private let fd: Int32
    private var isOpen = true

    init(path: String) throws(RPCError) {
        self.path = path
        var tries = 0
        repeat {
            tries += 1
            let candidate = path + ".tmp-heapd-\(UInt32.random(in: 0...UInt32.max))"
            let fd = Glibc.open(candidate, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
            if fd >= 0 {
                self.fd = fd
                temporary = candidate
                return
            }
            if errno != EEXIST || tries > 8 { throw Self.failure(path, errno) }
        } while true
    }

    /// Appends `chunk` (whole: short writes and EINTR are retried).
    func write(_ chunk: UnsafeRawBufferPointer) throws(RPCError) {
        var offset = 0
        while offset < chunk.count {
            let n = Glibc.write(fd, chunk.baseAddress! + offset, chunk.count - offset)
            if n < 0 {
                if errno == EINTR { continue }
                throw Self.failure(path, errno)
            }
            offset += n
        }
    }

    /// Makes the file durable and puts it at `path`.
    func commit() throws(RPCError) {
        isOpen = false
        let synced = fsync(fd) == 0 ? 0 : errno
        let closed = close(fd) == 0 ? 0 : errno
        if synced != 0 || closed != 0 {
            let code = synced != 0 ? synced : closed
            unlink(temporary)
            throw Self.failure(path, code)
        }
        if rename(temporary, path) != 0 {
            let code = errno
            unlink(temporary)
            throw Self.failure(path, code)
        }
    }

    deinit {
        guard isOpen else { return }
        close(fd)
        unlink(temporary)
    }

    static func failure(_ path: String, _ code: Int32) -> RPCError {
        let reason = String(cString: strerror(code))
        return RPCError(
            code: .invalidParams, message: "params.path: cannot write \(path): \(reason)",
            data: ["path": .string(path), "errno": .string(errnoName(code))])
    }

    private static func errnoName(_ code: Int32) -> String {
        switch code {
        case ENOENT: "ENOENT"
        case EACCES: "EACCES"
        case EPERM: "EPERM"
        case ENOSPC: "ENOSPC"
        case EDQUOT: "EDQUOT"
        case EISDIR: "EISDIR"
        case ENOTDIR: "ENOTDIR"
        case EROFS: "EROFS"
        case ENAMETOOLONG: "ENAMETOOLONG"
        case EEXIST: "EEXIST"
        default: "errno \(code)"
        }
    }
}
