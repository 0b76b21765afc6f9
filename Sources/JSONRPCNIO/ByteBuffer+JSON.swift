import JSONRPC
import NIOCore

extension ByteBuffer {
    /// Appends `document` as compact JSON text, dumped by Jansson straight into the buffer's free
    /// space (`json_dumpb`): no intermediate array. If the text does not fit, Jansson says how
    /// long it is and the dump is repeated into enough room.
    public mutating func writeJSON(_ document: borrowing JSONDocument) {
        var room = Swift.max(writableBytes, 256)
        while true {
            reserveCapacity(minimumWritableBytes: room)
            let needed = withUnsafeMutableWritableBytes { document.dump(into: $0) }
            if needed <= writableBytes {
                moveWriterIndex(forwardBy: needed)
                return
            }
            room = needed
        }
    }
}

extension JSONCodec {
    /// Parses the readable bytes of `buffer` without consuming them.
    public static func parse(_ buffer: ByteBuffer) throws(JSONParseError) -> JSONValue {
        let result = buffer.withUnsafeReadableBytes { bytes in
            Result { () throws(JSONParseError) in try parse(bytes) }
        }
        return try result.get()
    }

    /// ``withParsed(_:_:)-(UnsafeRawBufferPointer,_)`` over the readable bytes of a frame.
    public static func withParsed<R>(_ buffer: ByteBuffer, _ body: (JanssonNode) throws -> R) throws -> R {
        try buffer.withUnsafeReadableBytes { bytes in try withParsed(bytes, body) }
    }
}
