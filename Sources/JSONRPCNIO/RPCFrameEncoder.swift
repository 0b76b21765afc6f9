import JSONRPC
import NIOCore

/// Writes JSON texts with the framing a connection uses. A plain helper rather than a channel
/// handler, so servers can frame a whole batch of replies into one buffer and write once.
public enum RPCFrameEncoder {
    /// Appends `json` to `buffer` framed as `framing`.
    ///
    /// - Precondition for ``Framing/ndjson``: `json` contains no newline. Output of
    ///   ``JSONCodec/encode(_:)`` never does (it is compact and escapes newlines in strings).
    public static func frame<Bytes: Collection<UInt8>>(
        _ json: Bytes, framing: Framing, into buffer: inout ByteBuffer
    ) {
        switch framing {
        case .ndjson:
            buffer.reserveCapacity(minimumWritableBytes: json.count + 1)
            buffer.writeBytes(json)
            buffer.writeInteger(UInt8(ascii: "\n"))
        case .contentLength:
            buffer.reserveCapacity(minimumWritableBytes: json.count + 32)
            buffer.writeString("Content-Length: \(json.count)\r\n\r\n")
            buffer.writeBytes(json)
        }
    }

    /// Frames a built document. NDJSON, the common case, is dumped straight into `buffer`; LSP
    /// framing needs the length first, so the text goes through a scratch buffer.
    public static func frame(_ document: borrowing JSONDocument, framing: Framing, into buffer: inout ByteBuffer) {
        switch framing {
        case .ndjson:
            buffer.writeJSON(document)
            buffer.writeInteger(UInt8(ascii: "\n"))
        case .contentLength:
            var text = ByteBufferAllocator().buffer(capacity: 256)
            text.writeJSON(document)
            buffer.writeString("Content-Length: \(text.readableBytes)\r\n\r\n")
            buffer.writeBuffer(&text)
        }
    }

    /// Encodes `value` with ``JSONCodec/encode(_:)`` and frames it. Labelled so that an array
    /// literal argument is not silently taken as bytes by the overload above.
    ///
    /// - Precondition: `value` encodes (see ``JSONCodec/encode(_:)``).
    public static func frame(encoding value: JSONValue, framing: Framing, into buffer: inout ByteBuffer) {
        do {
            frame(try JSONDocument(value), framing: framing, into: &buffer)
        } catch {
            preconditionFailure("RPCFrameEncoder: \(error)")
        }
    }
}
