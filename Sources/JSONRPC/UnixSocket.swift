import Glibc

/// Connecting to a Unix stream socket by path: the one copy of the `sockaddr_un` dance that
/// the daemon (is another heapd there?), the client library and the benchmark share.
public enum UnixSocket {
    /// A connected descriptor, or why not (`strerror` text).
    public static func connect(path: String) -> Result<Int32, UnixSocketError> {
        guard path.utf8.count <= 107 else { return .failure(UnixSocketError("socket path longer than 107 bytes")) }
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return .failure(.fromErrno()) }
        var addr = sockaddr_un()
        addr.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &addr.sun_path) { raw in
            for (i, b) in path.utf8.enumerated() { raw[i] = b }
        }
        let rc = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        guard rc == 0 else {
            let error = UnixSocketError.fromErrno()
            close(fd)
            return .failure(error)
        }
        return .success(fd)
    }

    /// Whether something accepts connections at `path`.
    public static func answers(path: String) -> Bool {
        guard case .success(let fd) = connect(path: path) else { return false }
        close(fd)
        return true
    }
}

public struct UnixSocketError: Error, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
    static func fromErrno() -> UnixSocketError { UnixSocketError(String(cString: strerror(errno))) }
}
