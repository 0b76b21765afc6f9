import JSONRPC
import NIOCore

/// What ``RPCFrameDecoder`` produces for each frame.
public enum InboundFrame: Sendable, Equatable {
    /// One complete JSON text (not yet parsed; it may still be invalid JSON).
    case message(ByteBuffer)
    /// A message larger than the limit. Its bytes are skipped as they arrive, never buffered,
    /// and the connection stays usable: reply with ``RPCErrorCode/requestTooLarge`` (id null, as
    /// the id was not read). The size is the declared Content-Length, or for NDJSON the number
    /// of bytes seen when the limit was passed (the line may be longer).
    case oversized(declaredOrSeen: Int)
    /// The LSP header block could not be understood. The stream cannot be resynchronised, so the
    /// decoder yields nothing more: reply with a parse error and close the connection.
    case brokenHeader(String)
}
