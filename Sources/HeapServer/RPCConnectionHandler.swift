import HeapCore
import HeapStore
import JSONRPC
import NIOCore

/// One client connection: cuts the bytes it reads into frames, parses each with Jansson on this
/// event loop, decodes it into typed requests, hands them to the heap's owner in one batch, and
/// writes the outbox (events) and then the replies.
///
/// Framing is done here rather than by a `ByteToMessageHandler` in front: frames then reach the
/// parser straight from the read buffer, without a channel hop and an `NIOAny` box each.
final class RPCConnectionHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let service: HeapService
    /// Detects the framing from the first byte, then cuts frames (and skips oversized ones).
    private var decoder: RPCFrameDecoder
    /// Bytes read and not yet cut into frames (a partial frame between reads).
    private var inbound: ByteBuffer?
    private let outbox = Outbox()
    private let onShutdownRequest: @Sendable () -> Void
    private var connection: ConnectionID?
    private var framingReported = false
    /// Replies waiting for their changes to be durable (written in order when they are).
    private var awaitingDurability = 0
    /// The client shut down its sending side: close once every reply is out.
    private var inputClosed = false
    /// Replies of the current read, framed back to back and written as one buffer when the read
    /// completes (one write, one syscall, for a pipelined burst). Events go out before it only
    /// after it has been handed over, so the order on the wire stays the order of the heap.
    private var pendingOutput: ByteBuffer?

    init(service: HeapService, onShutdownRequest: @escaping @Sendable () -> Void) {
        self.service = service
        self.decoder = RPCFrameDecoder(maximumMessageSize: service.maximumMessageSize)
        self.onShutdownRequest = onShutdownRequest
    }

    /// The connection's framing (NDJSON until its first byte says otherwise).
    private var framing: Framing { decoder.framing ?? .ndjson }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var read = unwrapInboundIn(data)
        if var pending = inbound, pending.readableBytes > 0 {
            inbound = nil
            pending.writeBuffer(&read)
            read = pending
        }
        decodeFrames(from: &read, atEOF: false, context: context)
    }

    private func decodeFrames(from buffer: inout ByteBuffer, atEOF: Bool, context: ChannelHandlerContext) {
        while !inputClosed || atEOF, let frame = decoder.next(from: &buffer, atEOF: atEOF) {
            frameArrived(frame, context: context)
        }
        // Keep only an unfinished frame; a fully consumed buffer goes back to NIO's pool.
        if buffer.readableBytes > 0 {
            buffer.discardReadBytes()
            inbound = buffer
        } else {
            inbound = nil
        }
    }

    private func frameArrived(_ frame: InboundFrame, context: ChannelHandlerContext) {
        switch frame {
        case .oversized(let size):
            let error = RPCError(code: .requestTooLarge,
                                 message: "message of \(size) bytes or more exceeds the limit of \(service.maximumMessageSize) bytes",
                                 data: ["limit": .int(Int64(service.maximumMessageSize))])
            reply(RPCEnvelope.errorResponse(id: .null, error: error), context: context)
        case .brokenHeader(let reason):
            reply(RPCEnvelope.errorResponse(id: .null, error: .parseError("broken header: \(reason)")), context: context)
            inputClosed = true
            closeIfDone(context)
        case .message(let buffer):
            handle(buffer, context: context)
        }
    }

    private func handle(_ buffer: ByteBuffer, context: ChannelHandlerContext) {
        let parsed: ParsedFrame
        do {
            parsed = try JSONCodec.withParsed(buffer) { root in ParsedFrame(root) }
        } catch let error as JSONParseError {
            reply(RPCEnvelope.errorResponse(id: .null, error: .parseError("parse error: \(error.description)")), context: context)
            return
        } catch {
            reply(RPCEnvelope.errorResponse(id: .null, error: .parseError("parse error: \(error)")), context: context)
            return
        }
        if let immediate = parsed.immediateReply {
            reply(immediate, context: context)
            return
        }
        let id = connection ?? register(context)
        if !framingReported {
            service.setFraming(framing, for: id)
            framingReported = true
        }
        let (replies, position) = service.execute(parsed.requests, from: id)
        let present = replies.compactMap { $0 }
        let message: JSONValue? = parsed.isBatch ? (present.isEmpty ? nil : .array(present)) : present.first
        guard service.store != nil, position > 0 else {
            finish(message, shutdown: parsed.requestsShutdown, context: context)
            return
        }
        afterDurable(position, message, shutdown: parsed.requestsShutdown, context: context)
    }

    /// A reply that needs no heap (a parse error, an oversized message): at once, unless earlier
    /// replies of this connection still wait for the disk, in which case it queues behind them.
    private func reply(_ message: JSONValue, context: ChannelHandlerContext) {
        if awaitingDurability > 0, let store = service.store {
            afterDurable(store.position, message, shutdown: false, context: context)
        } else {
            write(message, context: context)
        }
    }

    private func afterDurable(_ position: UInt64, _ message: JSONValue?, shutdown: Bool,
                              context: ChannelHandlerContext) {
        guard let store = service.store else { return }
        // Known at once (everysec / no: this thread writes the journal; always: already
        // fsynced) and nothing queued before it: the reply goes with this read's replies.
        if awaitingDurability == 0, let now = store.durableNow(position) {
            finish(Self.reply(message, after: now), shutdown: shutdown, context: context)
            return
        }
        // --fsync always: the reply waits until its change is on disk. Replies of later
        // requests queue behind it (the store releases waiters in order, and each release is a
        // task on this event loop), so replies stay in request order.
        awaitingDurability += 1
        let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        store.whenDurable(position) { error in
            loopBound.eventLoop.execute {
                let (handler, context) = loopBound.value
                handler.awaitingDurability -= 1
                handler.finish(Self.reply(message, after: error.map { .failure($0) } ?? .success(())),
                               shutdown: shutdown, context: context)
                handler.flushPending(context)
                handler.closeIfDone(context)
            }
        }
    }

    /// Writes this connection's pending events, then the reply (events always precede it).
    private func finish(_ message: JSONValue?, shutdown: Bool, context: ChannelHandlerContext) {
        writeEvents(context)
        if let message { write(message, context: context) }
        if shutdown {
            flushPending(context)
            onShutdownRequest()
        }
    }

    /// Hands this connection's pending events to the channel, after the replies before them.
    private func writeEvents(_ context: ChannelHandlerContext) {
        let events = outbox.drain()
        guard !events.isEmpty else { return }
        writePending(context)
        for b in events { context.write(NIOAny(b), promise: nil) }
    }

    private func writePending(_ context: ChannelHandlerContext) {
        guard let buffer = pendingOutput else { return }
        pendingOutput = nil
        context.write(NIOAny(buffer), promise: nil)
    }

    private func flushPending(_ context: ChannelHandlerContext) {
        writePending(context)
        context.flush()
    }

    /// The reply once durability is settled: as it is, or, for a change that could not be made
    /// durable, an error (the client must not believe it is safe).
    private static func reply(_ message: JSONValue?, after durability: Result<Void, Error>) -> JSONValue? {
        guard let message, case .failure(let error) = durability else { return message }
        func replace(_ m: JSONValue) -> JSONValue {
            guard let id = m["id"].flatMap(RPCID.init(json:)) else { return m }
            return RPCEnvelope.errorResponse(id: id, error: .internalError("not durable: \(error)"))
        }
        if case .array(let items) = message { return .array(items.map(replace)) }
        return replace(message)
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case ChannelEvent.inputClosed = event {
            // A last NDJSON line without its newline is still a request.
            if var rest = inbound {
                inbound = nil
                decodeFrames(from: &rest, atEOF: true, context: context)
            }
            inputClosed = true
            flushPending(context)
            closeIfDone(context)
            return
        }
        context.fireUserInboundEventTriggered(event)
    }

    private func closeIfDone(_ context: ChannelHandlerContext) {
        guard inputClosed, awaitingDurability == 0 else { return }
        writeEvents(context)
        writePending(context)
        context.writeAndFlush(NIOAny(context.channel.allocator.buffer(capacity: 0))).whenComplete { _ in
            context.close(promise: nil)
        }
    }

    private func register(_ context: ChannelHandlerContext) -> ConnectionID {
        let id = service.connect(channel: context.channel, outbox: outbox, framing: framing)
        connection = id
        return id
    }

    private func write(_ message: JSONValue, context: ChannelHandlerContext) {
        var buffer = pendingOutput ?? context.channel.allocator.buffer(capacity: 256)
        pendingOutput = nil   // uniquely referenced while appending: no copy
        RPCFrameEncoder.frame(encoding: message, framing: framing, into: &buffer)
        pendingOutput = buffer
    }

    /// Back-pressure: while the peer does not read (the channel is over its high watermark),
    /// stop reading its requests; once it drains, resume and pass on the events that waited.
    func channelWritabilityChanged(context: ChannelHandlerContext) {
        let writable = context.channel.isWritable
        context.channel.setOption(ChannelOptions.autoRead, value: writable).whenComplete { _ in }
        if writable {
            writeEvents(context)
            flushPending(context)
            context.read()
        }
        context.fireChannelWritabilityChanged()
    }

    /// Registered on connect (so stats count it); the framing is set by the first message.
    func channelActive(context: ChannelHandlerContext) {
        _ = register(context)
        context.fireChannelActive()
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        flushPending(context)
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
