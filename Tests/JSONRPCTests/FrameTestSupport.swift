import JSONRPC
import JSONRPCNIO
import NIOCore
import NIOEmbedded
import XCTest

/// Runs an `RPCFrameDecoder` inside a `ByteToMessageHandler` on an `EmbeddedChannel` (NIO's own
/// harness for decoders: it feeds chunks and EOF exactly as a channel does) and collects every
/// frame it fires. The server calls the decoder directly from its connection handler.
func decodeFrames(
    _ chunks: [[UInt8]], maximumMessageSize: Int = 64, eof: Bool = false,
    file: StaticString = #filePath, line: UInt = #line
) throws -> [InboundFrame] {
    let channel = EmbeddedChannel()
    try channel.pipeline.syncOperations.addHandler(
        ByteToMessageHandler(RPCFrameDecoder(maximumMessageSize: maximumMessageSize)))
    var frames: [InboundFrame] = []
    func drain() throws {
        while let frame = try channel.readInbound(as: InboundFrame.self) { frames.append(frame) }
    }
    for chunk in chunks {
        try channel.writeInbound(ByteBuffer(bytes: chunk))
        try drain()
    }
    if eof {
        channel.pipeline.fireUserInboundEventTriggered(ChannelEvent.inputClosed)
        try drain()
    }
    _ = try channel.finish()
    return frames
}

/// Splits `text` into one-byte chunks.
func byteByByte(_ text: String) -> [[UInt8]] {
    Array(text.utf8).map { [$0] }
}

func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }

func message(_ text: String) -> InboundFrame { .message(ByteBuffer(string: text)) }
