import JSONRPC
import NIOCore

/// Newline-delimited JSON: a line is one JSON text; `\r\n` endings are accepted; blank lines
/// (only spaces, tabs or `\r`) are skipped, so `printf '...\n\n'` by hand works.
extension RPCFrameDecoder {
    private static let newline = UInt8(ascii: "\n")
    private static let carriageReturn = UInt8(ascii: "\r")

    mutating func stepNDJSONLine(_ buffer: inout ByteBuffer, scanned: Int, atEOF: Bool) -> Step {
        let readable = buffer.readableBytes
        guard readable > 0 else { return .needMoreData }
        if let newlineOffset = Self.firstNewline(in: buffer, from: scanned) {
            state = .ndjsonLine(scanned: 0)
            return takeLine(&buffer, length: newlineOffset, terminatorLength: 1)
        }
        if atEOF {
            return takeLine(&buffer, length: readable, terminatorLength: 0)
        }
        // Without a newline yet, more than limit + 1 bytes (the 1 for a possible "\r") cannot fit.
        if readable > maximumMessageSize + 1 {
            buffer.moveReaderIndex(to: buffer.writerIndex)
            state = .ndjsonDiscarding
            return .frame(.oversized(declaredOrSeen: readable))
        }
        state = .ndjsonLine(scanned: readable)
        return .needMoreData
    }

    mutating func stepNDJSONDiscarding(_ buffer: inout ByteBuffer) -> Step {
        guard buffer.readableBytes > 0 else { return .needMoreData }
        guard let newlineOffset = Self.firstNewline(in: buffer, from: 0) else {
            buffer.moveReaderIndex(to: buffer.writerIndex)
            return .needMoreData
        }
        buffer.moveReaderIndex(forwardBy: newlineOffset + 1)
        state = .ndjsonLine(scanned: 0)
        return .progress
    }

    /// Consumes a line of `length` bytes plus its terminator and turns it into a frame.
    private mutating func takeLine(_ buffer: inout ByteBuffer, length: Int, terminatorLength: Int) -> Step {
        let view = buffer.readableBytesView.prefix(length)
        var contentLength = length
        if view.last == Self.carriageReturn { contentLength -= 1 }
        let isBlank = view.allSatisfy {
            $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\t") || $0 == Self.carriageReturn
        }
        guard !isBlank else {
            buffer.moveReaderIndex(forwardBy: length + terminatorLength)
            return .progress
        }
        guard contentLength <= maximumMessageSize else {
            buffer.moveReaderIndex(forwardBy: length + terminatorLength)
            return .frame(.oversized(declaredOrSeen: contentLength))
        }
        let line = buffer.readSlice(length: contentLength)!
        buffer.moveReaderIndex(forwardBy: length - contentLength + terminatorLength)
        return .frame(.message(line))
    }

    /// Offset from the reader index of the first `\n` at or after `offset`.
    private static func firstNewline(in buffer: ByteBuffer, from offset: Int) -> Int? {
        buffer.withUnsafeReadableBytes { bytes in
            bytes[offset...].firstIndex(of: newline)
        }
    }
}
