import Glibc
import HeapProtocol
import JSONRPC
import JSONRPCNIO
import NIOCore

/// A blocking JSON-RPC connection to heapd over its Unix socket (NDJSON framing), for the CLI
/// and tests. Notifications that arrive while waiting for a reply are queued in order.
public final class HeapConnection {
    public let socketPath: String
    private let fd: Int32
    private var inbound = ByteBuffer()
    private var decoder = RPCFrameDecoder(maximumMessageSize: 1 << 30, framing: .ndjson)
    private var nextID: Int64 = 1
    /// Notifications received and not yet taken, oldest first.
    public private(set) var pendingNotifications: [(method: String, params: JSONValue)] = []

    public init(socketPath: String) throws(HeapClientError) {
        JSONCodec.bootstrap()
        self.socketPath = socketPath
        switch UnixSocket.connect(path: socketPath) {
        case .success(let fd): self.fd = fd
        case .failure(let error): throw .unreachable(path: socketPath, reason: error.description)
        }
    }

    deinit { close(fd) }

    /// Calls `method` and returns its result; a JSON-RPC error is thrown as `.rpc`.
    public func call(_ method: String, _ params: JSONValue? = nil) throws(HeapClientError) -> JSONValue {
        let id = nextID
        nextID += 1
        try send(RPCEnvelope.request(id: .number(id), method: method, params: params))
        while true {
            let message = try readMessage()
            switch RPCEnvelope.decodeReply(message) {
            case .notification(let m, let p)?:
                pendingNotifications.append((m, p))
            case .result(.number(id), let result)?:
                return result
            case .error(let replyID, let error)? where replyID == .number(id) || replyID == .null:
                throw .rpc(error)
            default:
                throw .connection("unexpected message: \(JSONCodec.encodeString(message))")
            }
        }
    }

    /// Calls a method by its typed request (`RefRequest(id: 7)`): its name and params come from
    /// the protocol's own definition.
    public func call<M: HeapMethod>(_ request: M) throws(HeapClientError) -> JSONValue {
        try call(M.name, request.params)
    }

    /// Sends a notification (no reply).
    public func notify(_ method: String, _ params: JSONValue? = nil) throws(HeapClientError) {
        var members: [(String, JSONValue)] = [("jsonrpc", "2.0"), ("method", .string(method))]
        if let params { members.append(("params", params)) }
        try send(.object(members))
    }

    /// Waits for the next notification (those queued first).
    public func nextNotification() throws(HeapClientError) -> (method: String, params: JSONValue) {
        if !pendingNotifications.isEmpty { return pendingNotifications.removeFirst() }
        while true {
            if case .notification(let m, let p)? = RPCEnvelope.decodeReply(try readMessage()) { return (m, p) }
        }
    }

    public func takeNotifications() -> [(method: String, params: JSONValue)] {
        defer { pendingNotifications.removeAll() }
        return pendingNotifications
    }

    private func send(_ message: JSONValue) throws(HeapClientError) {
        var bytes = JSONCodec.encode(message)
        bytes.append(UInt8(ascii: "\n"))
        var offset = 0
        while offset < bytes.count {
            // MSG_NOSIGNAL: a daemon that went away is an error to report, not a SIGPIPE death.
            let n = bytes.withUnsafeBytes {
                Glibc.send(fd, $0.baseAddress! + offset, $0.count - offset, Int32(MSG_NOSIGNAL))
            }
            if n < 0 {
                if errno == EINTR { continue }
                throw .connection(String(cString: strerror(errno)))
            }
            offset += n
        }
    }

    private func readMessage() throws(HeapClientError) -> JSONValue {
        while true {
            if let frame = decoder.next(from: &inbound) {
                guard case .message(let buffer) = frame else { throw .connection("reply too large") }
                do { return try JSONCodec.parse(buffer) } catch {
                    throw .connection("invalid JSON from heapd: \(error)")
                }
            }
            var chunk = [UInt8](repeating: 0, count: 65536)
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress!, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw .connection(String(cString: strerror(errno)))
            }
            if n == 0 { throw .connection("heapd closed the connection") }
            inbound.writeBytes(chunk[0..<n])
        }
    }
}
