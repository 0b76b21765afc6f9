import HeapCore
import HeapProtocol
import HeapStore
import JSONRPC
import JSONRPCNIO
import NIOCore
import NIOPosix

/// One client connection: cuts the bytes it reads into frames, parses each with Jansson on this
/// event loop, decodes it into typed requests, hands them to the heap's owner in one batch, and
/// writes the outbox (events) and then the replies. `ConnectionStateMachine` decides when frames
/// may run and when the connection closes; this handler performs what it says.
///
/// Framing is done here rather than by a `ByteToMessageHandler` in front: frames then reach the
/// parser straight from the read buffer, without a channel hop and an `NIOAny` box each.
package final class RPCConnectionHandler: ChannelInboundHandler {
    package typealias InboundIn = ByteBuffer
    package typealias OutboundOut = ByteBuffer

    /// Replies of one read are collected into one buffer and written when the read completes;
    /// past this many bytes they are handed to the channel at once, so that its writability
    /// (the peer reads) is known before more frames run.
    static let outputChunk = 256 << 10

    private let service: HeapService
    /// Detects the framing from the first byte, then cuts frames (and skips oversized ones).
    private var decoder: RPCFrameDecoder
    /// Bytes read and not yet cut into frames: a partial frame, or frames that wait.
    private var inbound: ByteBuffer?
    private var outbox: Outbox?
    private var machine = ConnectionStateMachine()
    private let onShutdownRequest: @Sendable () -> Void
    private var connection: ConnectionID?
    private var framingReported = false
    /// Replies framed back to back, written as one buffer when the read completes (one write,
    /// one syscall, for a pipelined burst). Events go out before it only after it has been
    /// handed over, so the order on the wire stays the order of the heap.
    private var pendingOutput: ByteBuffer?

    package init(service: HeapService, onShutdownRequest: @escaping @Sendable () -> Void) {
        self.service = service
        self.decoder = RPCFrameDecoder(maximumMessageSize: service.maximumMessageSize)
        self.onShutdownRequest = onShutdownRequest
    }

    /// The connection's framing (NDJSON until its first byte says otherwise).
    private var framing: Framing { decoder.framing ?? .ndjson }

    // MARK: Connection life

    /// Registered on connect (so stats count it); the framing is set by the first message.
    package func channelActive(context: ChannelHandlerContext) {
        let bound = NIOLoopBound(WeakHandler(handler: self, context: context), eventLoop: context.eventLoop)
        let outbox = Outbox(limit: service.outboxLimit) { signal in
            bound.eventLoop.execute {
                guard let handler = bound.value.handler, let context = bound.value.context else { return }
                handler.outboxSignaled(signal, context: context)
            }
        }
        self.outbox = outbox
        connection = service.connect(outbox: outbox, framing: framing)
        if connection == nil {
            var buffer = context.channel.allocator.buffer(capacity: 128)
            let error = RPCError(code: .quotaExceeded, message: "no session can be opened for this connection")
            ReplyEncoder.frame(error: error, id: .null, framing: .ndjson, into: &buffer)
            let channel = context.channel
            context.writeAndFlush(NIOAny(buffer)).whenComplete { _ in channel.close(promise: nil) }
        }
        context.fireChannelActive()
    }

    package func channelInactive(context: ChannelHandlerContext) {
        machine.channelClosed()
        if let connection { service.disconnect(connection) }
        connection = nil
        outbox = nil
        context.fireChannelInactive()
    }

    package func errorCaught(context: ChannelHandlerContext, error: Error) {
        service.logger.debug("connection error: \(error)")
        context.close(promise: nil)
    }

    package func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        guard case ChannelEvent.inputClosed = event else { return context.fireUserInboundEventTriggered(event) }
        machine.inputClosed()
        // A last NDJSON line without its newline is still a request.
        runFrames(context)
        flushPending(context)
        perform(machine.closeIfDone(), context)
    }

    // MARK: Reading

    package func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var read = unwrapInboundIn(data)
        if var pending = inbound, pending.readableBytes > 0 {
            inbound = nil  // uniquely referenced while appending: no copy of what waits
            pending.writeBuffer(&read)
            inbound = pending
        } else {
            inbound = read
        }
        runFrames(context)
    }

    package func channelReadComplete(context: ChannelHandlerContext) {
        flushPending(context)
    }

    /// Runs the complete frames in `inbound` while the state machine allows it; the rest waits.
    private func runFrames(_ context: ChannelHandlerContext) {
        guard var buffer = inbound else { return }
        inbound = nil
        let atEOF = machine.state == .inputClosed
        while machine.mayRunFrames, let frame = decoder.next(from: &buffer, atEOF: atEOF) {
            frameArrived(frame, context: context)
            if (pendingOutput?.readableBytes ?? 0) >= Self.outputChunk {
                writePending(context)  // lets the channel say whether the peer keeps up
            }
        }
        // Keep only what waits; a fully consumed buffer goes back to NIO's pool.
        if buffer.readableBytes > 0 {
            buffer.discardReadBytes()
            inbound = buffer
        }
    }

    private func frameArrived(_ frame: InboundFrame, context: ChannelHandlerContext) {
        switch frame {
        case .oversized(let size):
            let limit = service.maximumMessageSize
            let error = RPCError(
                code: .requestTooLarge,
                message: "message of \(size) bytes or more exceeds the limit of \(limit) bytes",
                data: ["limit": .int(Int64(limit))])
            replyAtOnce(error: error, context: context)
        case .brokenHeader(let reason):
            replyAtOnce(error: .parseError("broken header: \(reason)"), context: context)
            inbound = nil
            machine.inputClosed()
            perform(machine.closeIfDone(), context)
        case .message(let buffer):
            handle(buffer, context: context)
        }
    }

    private func handle(_ buffer: ByteBuffer, context: ChannelHandlerContext) {
        let parsed: ParsedFrame
        do {
            let monitored = service.isMonitored
            parsed = try JSONCodec.withParsed(buffer) { root in ParsedFrame(root, keepingParams: monitored) }
        } catch {
            let reason = (error as? JSONParseError)?.description ?? "\(error)"
            return replyAtOnce(error: .parseError("parse error: \(reason)"), context: context)
        }
        if let immediate = parsed.immediateError { return replyAtOnce(error: immediate, context: context) }
        guard let id = connection else {
            return replyAtOnce(error: ServerError.connectionClosed.rpcError, context: context)
        }
        if !framingReported {
            service.setFraming(framing, for: id)
            framingReported = true
        }
        if parsed.isBatch { return handleBatch(parsed, from: id, context: context) }
        let (replies, position) = service.execute(
            parsed.requests, from: id, finishingPending: service.offload == nil, slicing: service.offload != nil)
        if let pool = service.offload, replies.contains(where: \.isPending) {
            return finishOffLoop(replies, position, parsed, on: pool, context: context)
        }
        answer(replies, position, (parsed.isBatch, parsed.requestsShutdown), context: context)
    }

    /// Runs a deferred method's slow half on the thread pool; meanwhile this connection reads and
    /// runs nothing more (its reply comes first), and other connections on this loop go on.
    private func finishOffLoop(
        _ replies: [Reply], _ position: UInt64, _ parsed: ParsedFrame, on pool: NIOThreadPool,
        context: ChannelHandlerContext
    ) {
        perform(machine.offloadStarted(), context)
        let frame = (isBatch: parsed.isBatch, requestsShutdown: parsed.requestsShutdown)
        let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        pool.runIfActive(eventLoop: context.eventLoop) { HeapService.finishPending(replies) }.whenComplete { result in
            let (handler, context) = bound.value
            let stopping = RPCError(code: .shuttingDown, message: "the daemon is shutting down")
            let finished = (try? result.get()) ?? replies.map { Reply(id: $0.id, outcome: .failure(stopping)) }
            handler.answer(finished, position, frame, context: context)
            handler.flushPending(context)
            handler.perform(handler.machine.offloadFinished(), context)
        }
    }

    /// Sends one frame's replies: at once, or once their changes are durable.
    private func answer(
        _ replies: [Reply], _ position: UInt64, _ parsed: (isBatch: Bool, requestsShutdown: Bool),
        context: ChannelHandlerContext
    ) {
        var replies = replies
        var position = position
        // Known at once (memory only; everysec / no: this thread writes the journal; always:
        // already fsynced) and nothing queued before it: encoded straight into this read's
        // output, after the events.
        if let store = service.store, position > 0 || machine.repliesWaitForDisk {
            // A reply that changed nothing still queues behind earlier replies waiting for the
            // disk (replies stay in request order): it waits for the journal's end as it is now.
            if position == 0 { position = store.position }
            guard !machine.repliesWaitForDisk, let now = store.durableNow(position) else {
                var bytes = context.channel.allocator.buffer(capacity: 256)
                ReplyEncoder.frame(replies, isBatch: parsed.isBatch, framing: framing, into: &bytes)
                let answer = Answer(
                    bytes: bytes, ids: replies.map(\.id), isBatch: parsed.isBatch,
                    shutdown: parsed.requestsShutdown)
                return afterDurable(position, answer, context: context)
            }
            if case .failure(let error) = now { replies = Self.notDurable(ids: replies.map(\.id), error) }
        }
        writeEvents(context)
        var output = pendingOutput ?? context.channel.allocator.buffer(capacity: 256)
        pendingOutput = nil  // uniquely referenced while appending: no copy
        ReplyEncoder.frame(replies, isBatch: parsed.isBatch, framing: framing, into: &output)
        pendingOutput = output
        if parsed.requestsShutdown {
            flushPending(context)
            onShutdownRequest()
        }
    }

    /// Most bytes of replies one batch may produce; past them its remaining requests do not run
    /// (and say so), so one 16 MiB message cannot make the daemon build gigabytes of replies.
    static let batchReplyBudget = 64 << 20
    /// Requests run per trip into the heap's lock while a batch's replies are counted.
    static let batchChunk = 16

    /// A batch runs in chunks, each chunk's replies encoded at once, until the reply budget is
    /// spent; the replies go out as one frame (after the events, as any reply).
    private func handleBatch(_ parsed: ParsedFrame, from id: ConnectionID, context: ChannelHandlerContext) {
        var body = context.channel.allocator.buffer(capacity: 256)
        var ids: [RPCID] = []
        var position: UInt64 = 0
        var next = 0
        let notRun = RPCError(
            code: .requestTooLarge,
            message: "not run: this batch's replies passed \(Self.batchReplyBudget) bytes; send fewer requests at once")
        while next < parsed.requests.count {
            let chunk = parsed.requests[next..<min(next + Self.batchChunk, parsed.requests.count)]
            next = chunk.endIndex
            let replies: [Reply]
            if body.readableBytes > Self.batchReplyBudget {
                replies = chunk.compactMap { request in request.id.map { Reply(id: $0, outcome: .failure(notRun)) } }
            } else {
                let executed = service.execute(Array(chunk), from: id)
                replies = executed.replies
                position = max(position, executed.journalPosition)
            }
            for reply in replies {
                body.writeString(ids.isEmpty ? "[" : ",")
                body.writeJSON(JSONDocument(object: { ReplyEncoder.write(reply, to: $0) }))
                ids.append(reply.id)
            }
        }
        var bytes = context.channel.allocator.buffer(capacity: body.readableBytes + 32)
        if !ids.isEmpty {  // a batch of notifications only gets no reply
            body.writeString("]")
            RPCFrameEncoder.frame(body.readableBytesView, framing: framing, into: &bytes)
        }
        let answer = Answer(bytes: bytes, ids: ids, isBatch: true, shutdown: parsed.requestsShutdown)
        if let store = service.store, position > 0 || machine.repliesWaitForDisk {
            afterDurable(position > 0 ? position : store.position, answer, context: context)
        } else {
            finish(answer, context: context)
        }
    }

    /// The same replies as "not durable" errors: the client must not believe them safe.
    private static func notDurable(ids: [RPCID], _ error: Error) -> [Reply] {
        let failure = RPCError.internalError("not durable: \(error)")
        return ids.map { Reply(id: $0, outcome: .failure(failure)) }
    }

    /// A reply that needs no heap (a parse error, an oversized message): at once, unless earlier
    /// replies of this connection wait for the disk, in which case it queues behind them.
    private func replyAtOnce(error: RPCError, context: ChannelHandlerContext) {
        var bytes = context.channel.allocator.buffer(capacity: 128)
        ReplyEncoder.frame(error: error, id: .null, framing: framing, into: &bytes)
        let answer = Answer(bytes: bytes, ids: [], isBatch: false, shutdown: false)
        if machine.repliesWaitForDisk, let store = service.store {
            afterDurable(store.position, answer, context: context)
        } else {
            finish(answer, context: context)
        }
    }

    // MARK: Durability

    /// The encoded reply to one frame, and what is needed to replace it by an error.
    private struct Answer {
        var bytes: ByteBuffer
        var ids: [RPCID]
        var isBatch: Bool
        var shutdown: Bool

        /// The same replies as "not durable" errors: the client must not believe them safe.
        func notDurable(_ error: Error, framing: Framing) -> Answer {
            var copy = self
            copy.bytes.clear()
            let replies = RPCConnectionHandler.notDurable(ids: ids, error)
            ReplyEncoder.frame(replies, isBatch: isBatch, framing: framing, into: &copy.bytes)
            return copy
        }
    }

    private func afterDurable(_ position: UInt64, _ answer: Answer, context: ChannelHandlerContext) {
        guard let store = service.store else { return finish(answer, context: context) }
        // Known at once (everysec / no: this thread writes the journal; always: already
        // fsynced) and nothing queued before it: the reply goes with this read's replies.
        if !machine.repliesWaitForDisk, let now = store.durableNow(position) {
            return finish(settled(answer, now), context: context)
        }
        // --fsync always: the reply waits until its change is on disk. Replies of later
        // requests queue behind it (the store releases waiters in order, and each release is a
        // task on this event loop), so replies stay in request order.
        let size = answer.bytes.readableBytes
        perform(machine.awaitDurability(bytes: size), context)
        let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        store.whenDurable(position) { error in
            bound.eventLoop.execute {
                let (handler, context) = bound.value
                handler.finish(handler.settled(answer, error.map { .failure($0) } ?? .success(())), context: context)
                handler.flushPending(context)
                handler.perform(handler.machine.durabilitySettled(bytes: size), context)
            }
        }
    }

    private func settled(_ answer: Answer, _ durability: Result<Void, Error>) -> Answer {
        guard case .failure(let error) = durability else { return answer }
        return answer.notDurable(error, framing: framing)
    }

    // MARK: Writing

    /// Writes this connection's pending events, then the reply (events always precede it).
    private func finish(_ answer: Answer, context: ChannelHandlerContext) {
        writeEvents(context)
        var bytes = answer.bytes
        if pendingOutput == nil {
            pendingOutput = bytes
        } else {
            pendingOutput!.writeBuffer(&bytes)
        }
        if answer.shutdown {
            flushPending(context)
            onShutdownRequest()
        }
    }

    /// Hands this connection's pending events to the channel, after the replies before them.
    private func writeEvents(_ context: ChannelHandlerContext) {
        guard let events = outbox?.drain(), !events.isEmpty else { return }
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

    // MARK: Back-pressure and actions

    /// While the peer does not read (the channel is over its high watermark), stop reading and
    /// running its requests; once it drains, resume and pass on the events that waited.
    package func channelWritabilityChanged(context: ChannelHandlerContext) {
        perform(machine.writabilityChanged(to: context.channel.isWritable), context)
        context.fireChannelWritabilityChanged()
    }

    private func outboxSignaled(_ signal: Outbox.Signal, context: ChannelHandlerContext) {
        switch signal {
        case .wake:
            // A peer that does not read keeps its events in the outbox, not in the channel.
            guard machine.writable else { return }
            writeEvents(context)
            context.flush()
        case .overflowed:
            service.logger.warning("connection does not read its events; closing it")
            perform(machine.outboxOverflowed(), context)
        }
    }

    private func perform(_ action: ConnectionStateMachine.Action, _ context: ChannelHandlerContext) {
        switch action {
        case .none:
            break
        case .pauseReading:
            context.channel.setOption(ChannelOptions.autoRead, value: false).whenComplete { _ in }
        case .resume:
            context.channel.setOption(ChannelOptions.autoRead, value: true).whenComplete { _ in }
            writeEvents(context)
            runFrames(context)
            flushPending(context)
            perform(machine.closeIfDone(), context)
            context.read()
        case .close:
            writeEvents(context)
            writePending(context)
            let channel = context.channel
            context.writeAndFlush(NIOAny(channel.allocator.buffer(capacity: 0))).whenComplete { _ in
                channel.close(promise: nil)
            }
        case .abort:
            pendingOutput = nil
            context.close(promise: nil)
        }
    }
}

/// The handler as the outbox's signal reaches it: weak, so the outbox (which the heap's state
/// also holds) does not keep a closed connection's handler alive.
private struct WeakHandler {
    weak var handler: RPCConnectionHandler?
    weak var context: ChannelHandlerContext?
}

/// What one frame held, decoded on the parsing thread into values that may cross to the owner.
struct ParsedFrame {
    /// Most requests in one batch. With the reply budget (`batchReplyBudget`) this bounds what
    /// one batch can make the daemon hold: 64 MiB of replies, plus a short error per request
    /// that did not run.
    static let maximumBatch = 100_000

    var requests: [DecodedRequest] = []
    var isBatch = false
    /// An error that needs no heap: empty batch, a scalar at the top level.
    var immediateError: RPCError?
    var requestsShutdown = false

    /// - Parameter keepingParams: keep each request's params text (for `monitor` subscribers).
    init(_ root: JanssonNode, keepingParams: Bool = false) {
        switch RPCEnvelope.classify(root) {
        case .single(let node):
            requests = [decode(node, keepingParams)]
        case .batch(let nodes):
            isBatch = true
            guard nodes.count <= Self.maximumBatch else {
                immediateError = .invalidRequest(
                    "a batch holds at most \(Self.maximumBatch) requests, got \(nodes.count); nothing ran")
                return
            }
            for node in nodes { requests.append(decode(node, keepingParams)) }
        case .emptyBatch:
            immediateError = .invalidRequest("empty batch: a batch must hold at least one request")
        case .notStructured:
            immediateError = .invalidRequest(
                "a message must be a request object or a batch array, got \(root.kind.rawValue)")
        }
    }

    private mutating func decode(_ node: JanssonNode, _ keepingParams: Bool) -> DecodedRequest {
        switch RPCEnvelope.decodeEnvelope(node) {
        case .invalid(let id, let error):
            return DecodedRequest(id: id ?? .null, method: .failure(error))
        case .request(let id, let method, let params):
            let decoded = Result { () throws(RPCError) in try ServerMethods.decode(method: method, params: params) }
            // Only a shutdown that decoded stops the daemon (one with bad params gets -32602).
            if method == ShutdownRequest.name, case .success = decoded { requestsShutdown = true }
            return DecodedRequest(
                id: id, method: decoded, monitoredParams: keepingParams ? Self.monitored(params) : nil)
        }
    }

    /// Params as a `monitor` line shows them: at most 64 KiB (one big request must not overflow
    /// every monitor's outbox), else `{"truncated_bytes": N}`.
    static func monitored(_ params: JanssonNode?) -> [UInt8]? {
        guard let text = params?.encoded() else { return nil }
        return text.count <= 64 << 10 ? text : Array("{\"truncated_bytes\":\(text.count)}".utf8)
    }
}
