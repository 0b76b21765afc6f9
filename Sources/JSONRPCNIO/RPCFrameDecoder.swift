import JSONRPC
import NIOCore

/// Splits a byte stream into JSON-RPC frames, in either ``Framing``, with bounded memory.
///
/// The framing is detected from the first byte of the connection: `C` or `c` (the start of
/// `Content-Length`) selects ``Framing/contentLength``, anything else ``Framing/ndjson``.
/// No more than `maximumMessageSize` (plus one byte, or the 8 KiB LSP header block) is ever
/// buffered: larger messages are reported as ``InboundFrame/oversized(declaredOrSeen:)`` and their
/// bytes dropped as they arrive, so a client cannot make the daemon hold a huge message.
///
/// Works as a `ByteToMessageDecoder` inside `ByteToMessageHandler`, or stand-alone through
/// ``next(from:atEOF:)`` (e.g. in a blocking client).
public struct RPCFrameDecoder: ByteToMessageDecoder {
    public typealias InboundOut = InboundFrame

    /// Largest JSON text accepted, in bytes (NDJSON: excluding the line terminator).
    public let maximumMessageSize: Int
    /// The framing of this connection, once its first byte has arrived.
    public private(set) var framing: Framing?
    var state: State

    /// LSP header blocks (including the terminating blank line) may not exceed this.
    public static let maximumHeaderSize = 8192

    /// Where in the stream the decoder is. `scanned` counts readable bytes already searched for a
    /// terminator, so bytes arriving one at a time are not searched again (linear, not quadratic).
    enum State {
        case detecting
        case ndjsonLine(scanned: Int)
        /// Dropping the rest of an oversized line up to and including its newline.
        case ndjsonDiscarding
        case lspHeader(scanned: Int)
        case lspBody(length: Int)
        /// Dropping the body of an oversized LSP message.
        case lspSkipping(remaining: Int)
        /// After a broken LSP header: everything is dropped.
        case broken
    }

    /// The result of one decoding step.
    enum Step {
        case frame(InboundFrame)
        /// State changed or bytes were consumed without producing a frame; step again.
        case progress
        case needMoreData
    }

    /// - Parameter framing: fixes the framing instead of detecting it (for clients that know it).
    public init(maximumMessageSize: Int, framing: Framing? = nil) {
        precondition(maximumMessageSize > 0, "maximumMessageSize must be positive")
        self.maximumMessageSize = maximumMessageSize
        self.framing = framing
        switch framing {
        case nil: state = .detecting
        case .ndjson: state = .ndjsonLine(scanned: 0)
        case .contentLength: state = .lspHeader(scanned: 0)
        }
    }

    /// The framing a connection uses, from its first byte: `C`/`c` (`Content-Length:`) is LSP.
    public static func framing(startingWith first: UInt8) -> Framing {
        first == UInt8(ascii: "C") || first == UInt8(ascii: "c") ? .contentLength : .ndjson
    }

    /// The next frame in `buffer`, consuming its bytes; `nil` when more data is needed.
    /// With `atEOF`, a final NDJSON line without newline counts as a message, and an incomplete
    /// LSP message is dropped.
    public mutating func next(from buffer: inout ByteBuffer, atEOF: Bool = false) -> InboundFrame? {
        while true {
            switch step(&buffer, atEOF: atEOF) {
            case .frame(let frame): return frame
            case .progress: continue
            case .needMoreData: return nil
            }
        }
    }

    mutating func step(_ buffer: inout ByteBuffer, atEOF: Bool) -> Step {
        switch state {
        case .detecting:
            guard let first = buffer.getInteger(at: buffer.readerIndex, as: UInt8.self) else { return .needMoreData }
            let detected = Self.framing(startingWith: first)
            framing = detected
            state = detected == .contentLength ? .lspHeader(scanned: 0) : .ndjsonLine(scanned: 0)
            return .progress
        case .ndjsonLine(let scanned):
            return stepNDJSONLine(&buffer, scanned: scanned, atEOF: atEOF)
        case .ndjsonDiscarding:
            return stepNDJSONDiscarding(&buffer)
        case .lspHeader(let scanned):
            return stepLSPHeader(&buffer, scanned: scanned)
        case .lspBody(let length):
            guard let body = buffer.readSlice(length: length) else { return .needMoreData }
            state = .lspHeader(scanned: 0)
            return .frame(.message(body))
        case .lspSkipping(let remaining):
            let dropped = min(remaining, buffer.readableBytes)
            guard dropped > 0 || remaining == 0 else { return .needMoreData }
            buffer.moveReaderIndex(forwardBy: dropped)
            state = remaining == dropped ? .lspHeader(scanned: 0) : .lspSkipping(remaining: remaining - dropped)
            return .progress
        case .broken:
            buffer.moveReaderIndex(to: buffer.writerIndex)
            return .needMoreData
        }
    }

    // MARK: ByteToMessageDecoder

    public mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        switch step(&buffer, atEOF: false) {
        case .frame(let frame):
            context.fireChannelRead(Self.wrapInboundOut(frame))
            return .continue
        case .progress:
            return .continue
        case .needMoreData:
            return .needMoreData
        }
    }

    public mutating func decodeLast(
        context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool
    ) throws -> DecodingState {
        while let frame = next(from: &buffer, atEOF: true) {
            context.fireChannelRead(Self.wrapInboundOut(frame))
        }
        return .needMoreData
    }
}
