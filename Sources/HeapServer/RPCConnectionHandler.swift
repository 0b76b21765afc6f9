import HeapCore
import JSONRPC
import NIOCore

/// Records the connection's framing from its first byte, for the replies' framing.
final class FramingSniffer: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    let box: FramingBox

    init(box: FramingBox) { self.box = box }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let buffer = unwrapInboundIn(data)
        guard box.framing == nil, let first = buffer.getInteger(at: buffer.readerIndex, as: UInt8.self) else {
            context.fireChannelRead(data)
            return
        }
        box.framing = (first == UInt8(ascii: "C") || first == UInt8(ascii: "c")) ? .contentLength : .ndjson
        context.fireChannelRead(data)
        context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
    }
}

/// The framing a connection uses; set once by `FramingSniffer`, read by the RPC handler on the
/// same event loop.
final class FramingBox {
    var framing: Framing?
}

/// One client connection: parses frames with Jansson on this event loop, decodes them into typed
/// requests, hands them to the heap's owner in one batch, and writes the outbox (events) and
/// then the replies.
final class RPCConnectionHandler: ChannelInboundHandler {
    typealias InboundIn = InboundFrame
    typealias OutboundOut = ByteBuffer

    private let service: HeapService
    private let framingBox: FramingBox
    private let outbox = Outbox()
    private let onShutdownRequest: @Sendable () -> Void
    private var connection: ConnectionID?
    private var framingReported = false

    init(service: HeapService, framingBox: FramingBox, onShutdownRequest: @escaping @Sendable () -> Void) {
        self.service = service
        self.framingBox = framingBox
        self.onShutdownRequest = onShutdownRequest
    }

    private var framing: Framing { framingBox.framing ?? .ndjson }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .oversized(let size):
            let error = RPCError(code: .requestTooLarge,
                                 message: "message of \(size) bytes or more exceeds the limit of \(service.maximumMessageSize) bytes",
                                 data: ["limit": .int(Int64(service.maximumMessageSize))])
            write(RPCEnvelope.errorResponse(id: .null, error: error), context: context)
        case .brokenHeader(let reason):
            write(RPCEnvelope.errorResponse(id: .null, error: .parseError("broken header: \(reason)")), context: context)
            context.flush()
            context.close(promise: nil)
        case .message(let buffer):
            handle(buffer, context: context)
        }
    }

    private func handle(_ buffer: ByteBuffer, context: ChannelHandlerContext) {
        let parsed: ParsedFrame
        do {
            parsed = try JSONCodec.withParsed(buffer) { root in ParsedFrame(root) }
        } catch let error as JSONParseError {
            write(RPCEnvelope.errorResponse(id: .null, error: .parseError("parse error: \(error.description)")), context: context)
            return
        } catch {
            write(RPCEnvelope.errorResponse(id: .null, error: .parseError("parse error: \(error)")), context: context)
            return
        }
        if let immediate = parsed.immediateReply {
            write(immediate, context: context)
            return
        }
        let id = connection ?? register(context)
        if !framingReported {
            service.setFraming(framing, for: id)
            framingReported = true
        }
        let replies = service.execute(parsed.requests, from: id)
        for b in outbox.drain() { context.write(NIOAny(b), promise: nil) }
        let present = replies.compactMap { $0 }
        if parsed.isBatch {
            if !present.isEmpty { write(.array(present), context: context) }
        } else if let reply = present.first {
            write(reply, context: context)
        }
        if parsed.requestsShutdown {
            context.flush()
            onShutdownRequest()
        }
    }

    private func register(_ context: ChannelHandlerContext) -> ConnectionID {
        let id = service.connect(channel: context.channel, outbox: outbox, framing: framing)
        connection = id
        return id
    }

    private func write(_ message: JSONValue, context: ChannelHandlerContext) {
        var buffer = context.channel.allocator.buffer(capacity: 128)
        RPCFrameEncoder.frame(JSONCodec.encode(message), framing: framing, into: &buffer)
        context.write(NIOAny(buffer), promise: nil)
    }

    /// Registered on connect (so stats count it); the framing is set by the first message.
    func channelActive(context: ChannelHandlerContext) {
        _ = register(context)
        context.fireChannelActive()
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        context.flush()
    }

    func channelInactive(context: ChannelHandlerContext) {
        if let connection { service.disconnect(connection) }
        connection = nil
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        service.logger.debug("connection error: \(error)")
        context.close(promise: nil)
    }
}

/// What one frame held, decoded on the parsing thread into values that may cross to the owner.
struct ParsedFrame {
    var requests: [DecodedRequest] = []
    var isBatch = false
    /// A reply that needs no heap: empty batch, a scalar at the top level.
    var immediateReply: JSONValue?

    var requestsShutdown: Bool {
        requests.contains { if case .success(.shutdown) = $0.request { return true } else { return false } }
    }

    init(_ root: JanssonNode) {
        switch RPCEnvelope.classify(root) {
        case .single(let node):
            requests = [Self.decode(node)]
        case .batch(let nodes):
            isBatch = true
            requests = nodes.map(Self.decode)
        case .emptyBatch:
            immediateReply = RPCEnvelope.errorResponse(id: .null, error: .invalidRequest("empty batch: a batch must hold at least one request"))
        case .notStructured:
            immediateReply = RPCEnvelope.errorResponse(
                id: .null, error: .invalidRequest("a message must be a request object or a batch array, got \(root.kind.rawValue)"))
        }
    }

    static func decode(_ node: JanssonNode) -> DecodedRequest {
        switch RPCEnvelope.decodeEnvelope(node) {
        case .invalid(let id, let error):
            return DecodedRequest(id: id ?? .null, request: .failure(error))
        case .request(let id, let method, let params):
            return DecodedRequest(id: id, request: Result { () throws(RPCError) in
                try MethodRegistry.decode(method: method, params: params)
            })
        }
    }
}
