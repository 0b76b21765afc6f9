import HeapCore
import HeapServer
import JSONRPC
import JSONRPCNIO
import Logging
import NIOCore
import NIOEmbedded

/// A client connection to an in-memory daemon through the real connection pipeline
/// (`RPCConnectionHandler`, framing, decoding, the heap's owner), on an `EmbeddedChannel`: what
/// a test writes is read by the handler on the calling thread, and what the daemon writes is
/// collected as frames. Test support, not the daemon's API.
package final class EmbeddedConnection {
    package let channel = EmbeddedChannel()
    private var written: ByteBuffer
    private var decoder = RPCFrameDecoder(maximumMessageSize: 1 << 30)

    /// Connects to `service` (channelActive registers the connection with a new session).
    package init(_ service: HeapService) throws {
        written = channel.allocator.buffer(capacity: 256)
        try channel.pipeline.syncOperations.addHandler(RPCConnectionHandler(service: service, onShutdownRequest: {}))
        try channel.connect(to: SocketAddress(unixDomainSocketPath: "/heapd-test")).wait()
    }

    /// An in-memory daemon with default limits.
    package static func service(limits: HeapLimits = HeapLimits()) -> HeapService {
        JSONCodec.bootstrap()
        let environment = ServerEnvironment(openRPCDocument: ServerEnvironment.bundledOpenRPCDocument(), started: .now)
        let logger = Logger(label: "heapd-test", factory: { _ in SwiftLogNoOpLogHandler() })
        return HeapService(
            heap: Heap(limits: limits), store: nil, environment: environment, logger: logger,
            maximumMessageSize: 1 << 20)
    }

    /// Sends raw bytes as one read, then runs what the event loop has pending.
    package func send(_ text: String) throws {
        try channel.writeInbound(channel.allocator.buffer(string: text))
        channel.embeddedEventLoop.run()
    }

    /// Sends one NDJSON request and returns every message the daemon wrote up to its reply.
    package func call(_ method: String, _ params: JSONValue? = nil, id: Int64 = 1) throws -> [JSONValue] {
        let request = RPCEnvelope.request(id: .number(id), method: method, params: params)
        try send(JSONCodec.encodeString(request) + "\n")
        return try received()
    }

    /// The result of one request (nil and the error message if it failed).
    package func result(_ method: String, _ params: JSONValue? = nil) throws -> JSONValue? {
        try call(method, params).last?["result"]
    }

    /// Every whole message written since the last call.
    package func received() throws -> [JSONValue] {
        channel.embeddedEventLoop.run()
        while var out = try channel.readOutbound(as: ByteBuffer.self) { written.writeBuffer(&out) }
        var messages: [JSONValue] = []
        while let frame = decoder.next(from: &written) {
            guard case .message(let body) = frame else { continue }
            messages.append(try JSONCodec.parse(body))
        }
        return messages
    }

    /// Ends the connection (channelInactive releases its session).
    package func close() {
        _ = try? channel.finish(acceptAlreadyClosed: true)
    }
}
