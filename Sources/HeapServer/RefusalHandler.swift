import JSONRPC
import JSONRPCNIO
import NIOCore

/// Answers a connection the daemon will not serve (too many clients, credentials not admitted)
/// with one error, in the framing the client speaks, then closes it. The framing is known from
/// the client's first byte; a client that sends nothing within `patience` gets NDJSON.
final class RefusalHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer

    static let patience = TimeAmount.milliseconds(200)

    private let error: RPCError
    private var answered = false
    private var waiting = false

    init(_ error: RPCError) { self.error = error }

    /// Added after the credentials check, usually to a channel that is already active.
    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { wait(context) }
    }

    func channelActive(context: ChannelHandlerContext) {
        wait(context)
        context.fireChannelActive()
    }

    private func wait(_ context: ChannelHandlerContext) {
        guard !waiting else { return }
        waiting = true
        let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        context.eventLoop.scheduleTask(in: Self.patience) {
            let (handler, context) = bound.value
            handler.answer(.ndjson, context: context)
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let read = unwrapInboundIn(data)
        guard let first = read.getInteger(at: read.readerIndex, as: UInt8.self) else { return }
        answer(RPCFrameDecoder.framing(startingWith: first), context: context)
    }

    private func answer(_ framing: Framing, context: ChannelHandlerContext) {
        guard !answered else { return }
        answered = true
        var buffer = context.channel.allocator.buffer(capacity: 160)
        RPCFrameEncoder.frame(
            encoding: RPCEnvelope.errorResponse(id: .null, error: error), framing: framing, into: &buffer)
        let channel = context.channel
        context.writeAndFlush(NIOAny(buffer)).whenComplete { _ in channel.close(promise: nil) }
    }
}
