import NIOCore

/// Writes JSON texts with the framing a connection uses. A plain helper rather than a channel
/// handler, so servers can frame a whole batch of replies into one buffer and write once.
public struct RPCFrameEncoder {
    /// Appends `json` to `buffer` framed as `framing`.
    ///
    /// - Precondition for ``Framing/ndjson``: `json` contains no newline. Output of
    ///   ``JSONCodec/encode(_:)`` never does (it is compact and escapes newlines in strings).
    public static func frame(_ json: [UInt8], framing: Framing, into buffer: inout ByteBuffer) {
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

    /// Encodes `value` with ``JSONCodec/encode(_:)`` and frames it. Labelled so that an array
    /// literal argument is not silently taken as bytes by the overload above. NDJSON, the common
    /// case, is dumped straight into `buffer`.
    public static func frame(encoding value: JSONValue, framing: Framing, into buffer: inout ByteBuffer) {
        switch framing {
        case .ndjson:
            JSONCodec.encode(value, appendingTo: &buffer)
            buffer.writeInteger(UInt8(ascii: "\n"))
        case .contentLength:
            frame(JSONCodec.encode(value), framing: framing, into: &buffer)
        }
    }
}
