import JSONRPC
import NIOCore

/// LSP base-protocol framing: header lines separated by `\r\n`, a blank line, then exactly
/// `Content-Length` bytes of JSON. Header names are case-insensitive; headers other than
/// `Content-Length` (e.g. `Content-Type`) are ignored.
extension RPCFrameDecoder {
    private static let headerTerminator: [UInt8] = Array("\r\n\r\n".utf8)

    mutating func stepLSPHeader(_ buffer: inout ByteBuffer, scanned: Int) -> Step {
        let searchable = min(buffer.readableBytes, Self.maximumHeaderSize)
        // Restart 3 bytes back: the terminator may straddle what was scanned and what is new.
        let terminator = buffer.withUnsafeReadableBytes { bytes -> Int? in
            var index = max(0, scanned - 3)
            while index + 4 <= searchable {
                if bytes[index] == 13, bytes[index + 1] == 10, bytes[index + 2] == 13, bytes[index + 3] == 10 {
                    return index
                }
                index += 1
            }
            return nil
        }
        guard let terminator else {
            if buffer.readableBytes >= Self.maximumHeaderSize {
                return breakStream(&buffer, reason: "header block exceeds \(Self.maximumHeaderSize) bytes")
            }
            state = .lspHeader(scanned: buffer.readableBytes)
            return .needMoreData
        }
        let header = buffer.readableBytesView.prefix(terminator)
        switch Self.contentLength(inHeader: Array(header)) {
        case .failure(let reason):
            return breakStream(&buffer, reason: reason.message)
        case .success(let length):
            buffer.moveReaderIndex(forwardBy: terminator + Self.headerTerminator.count)
            if length > maximumMessageSize {
                state = .lspSkipping(remaining: length)
                return .frame(.oversized(declaredOrSeen: length))
            }
            state = .lspBody(length: length)
            return .progress
        }
    }

    /// Enters the terminal state: without a trustworthy length the next message boundary is
    /// unknown, so nothing after a broken header can be decoded.
    private mutating func breakStream(_ buffer: inout ByteBuffer, reason: String) -> Step {
        buffer.moveReaderIndex(to: buffer.writerIndex)
        state = .broken
        return .frame(.brokenHeader(reason))
    }

    struct HeaderProblem: Error {
        let message: String
    }

    /// Extracts the Content-Length from a header block (without its final blank line).
    static func contentLength(inHeader header: [UInt8]) -> Result<Int, HeaderProblem> {
        var length: Int?
        for line in header.split(separator: 10, omittingEmptySubsequences: false) {
            var line = line[...]
            if line.last == 13 { line = line.dropLast() }
            // A stray blank line before the headers is tolerated.
            if line.isEmpty { continue }
            guard let colon = line.firstIndex(of: UInt8(ascii: ":")) else {
                return .failure(HeaderProblem(message: "malformed header line \(quoted(line))"))
            }
            let name = String(decoding: trimmed(line[..<colon]), as: UTF8.self)
            guard name.lowercased() == "content-length" else { continue }
            let value = trimmed(line[(colon + 1)...])
            guard !value.isEmpty, value.count <= 18, value.allSatisfy({ $0 >= 48 && $0 <= 57 }),
                let parsed = Int(String(decoding: value, as: UTF8.self))
            else {
                return .failure(HeaderProblem(message: "invalid Content-Length \(quoted(value))"))
            }
            if let length, length != parsed {
                return .failure(HeaderProblem(message: "conflicting Content-Length headers"))
            }
            length = parsed
        }
        guard let length else { return .failure(HeaderProblem(message: "missing Content-Length header")) }
        return .success(length)
    }

    private static func trimmed(_ bytes: ArraySlice<UInt8>) -> ArraySlice<UInt8> {
        let isSpace: (UInt8) -> Bool = { $0 == 32 || $0 == 9 }
        guard let start = bytes.firstIndex(where: { !isSpace($0) }),
            let end = bytes.lastIndex(where: { !isSpace($0) })
        else { return bytes[bytes.endIndex...] }
        return bytes[start...end]
    }

    /// The bytes as a JSON string literal, truncated, for error messages.
    private static func quoted(_ bytes: ArraySlice<UInt8>) -> String {
        let text = String(decoding: bytes.prefix(60), as: UTF8.self) + (bytes.count > 60 ? "…" : "")
        return JSONCodec.encodeString(.string(text))
    }
}
