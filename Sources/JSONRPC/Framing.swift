/// How JSON texts are delimited on a connection.
///
/// Both are accepted on the same socket so that editors' LSP plumbing and line-oriented tools
/// (`socat`, scripts) can talk to the daemon; ``RPCFrameDecoder`` tells them apart by the first
/// byte, and replies use the framing the client chose.
public enum Framing: Sendable, Equatable {
    /// LSP base protocol: `Content-Length: N\r\n\r\n` followed by N bytes of JSON.
    case contentLength
    /// Newline-delimited JSON: one JSON text per line.
    case ndjson
}
