import Glibc

/// How the load generator recognises the end of a reply without parsing it: that is what
/// keeps it cheap enough not to be the bottleneck.
enum ReplyFraming {
    /// heapd, one JSON text per line.
    case ndjson
    /// heapd, LSP-style `Content-Length` headers.
    case contentLength
    /// Redis RESP, for single-line replies (`:1\r\n`, `+PONG\r\n`, `-ERR ...\r\n`).
    case resp
}

/// Counts complete replies in a byte stream, and how many of them were errors.
struct ReplyCounter {
    let framing: ReplyFraming
    private(set) var errors = 0
    /// Content-Length: header bytes seen so far of the reply being read.
    private var header: [UInt8] = []
    /// Content-Length: body bytes of the current reply still to come.
    private var bodyLeft = 0
    /// NDJSON / RESP: whether the next byte starts a reply.
    private var atReplyStart = true

    init(framing: ReplyFraming) { self.framing = framing }

    /// Consumes `bytes` and returns how many replies they completed.
    mutating func consume(_ bytes: UnsafeRawBufferPointer) -> Int {
        switch framing {
        case .ndjson: return countLines(bytes, isError: Self.isJSONError)
        case .resp: return countLines(bytes) { $0.first == UInt8(ascii: "-") }
        case .contentLength: return countContentLength(bytes)
        }
    }

    /// heapd writes `{"jsonrpc":"2.0","id":…,"error":…}`: looks for `"error"` in the first
    /// bytes of a reply (ids are short in a benchmark).
    private static func isJSONError(_ start: UnsafeRawBufferPointer) -> Bool {
        let needle: StaticString = "\"error\""
        let window = min(start.count, 48)
        guard window >= needle.utf8CodeUnitCount else { return false }
        return needle.withUTF8Buffer { n in
            (0...(window - n.count)).contains { i in memcmp(start.baseAddress! + i, n.baseAddress!, n.count) == 0 }
        }
    }

    private mutating func countLines(_ bytes: UnsafeRawBufferPointer, isError: (UnsafeRawBufferPointer) -> Bool) -> Int
    {
        guard var p = bytes.baseAddress else { return 0 }
        let end = p + bytes.count
        var replies = 0
        while p < end {
            if atReplyStart, isError(UnsafeRawBufferPointer(start: p, count: end - p)) { errors += 1 }
            guard let nl = memchr(p, Int32(UInt8(ascii: "\n")), end - p) else {
                atReplyStart = false
                break
            }
            replies += 1
            atReplyStart = true
            p = UnsafeRawPointer(nl) + 1
        }
        return replies
    }

    private mutating func countContentLength(_ bytes: UnsafeRawBufferPointer) -> Int {
        var i = 0
        var replies = 0
        while i < bytes.count {
            if bodyLeft > 0 {
                let take = min(bodyLeft, bytes.count - i)
                if header.isEmpty == false {
                    // First body bytes of this reply: is it an error?
                    if Self.isJSONError(UnsafeRawBufferPointer(rebasing: bytes[i..<(i + take)])) { errors += 1 }
                    header.removeAll(keepingCapacity: true)
                }
                bodyLeft -= take
                i += take
                if bodyLeft == 0 { replies += 1 }
                continue
            }
            header.append(bytes[i])
            i += 1
            if header.count >= 4, header.suffix(4).elementsEqual("\r\n\r\n".utf8) {
                bodyLeft = Self.contentLength(header)
                if bodyLeft == 0 { replies += 1; header.removeAll(keepingCapacity: true) }
            }
        }
        return replies
    }

    /// The value of the `Content-Length` header (case-insensitive name), 0 if missing.
    private static func contentLength(_ header: [UInt8]) -> Int {
        let name = Array("content-length:".utf8)
        let lower = header.map { $0 >= 65 && $0 <= 90 ? $0 + 32 : $0 }
        guard
            let start = (0...(max(0, lower.count - name.count))).first(where: {
                lower[$0..<min(lower.count, $0 + name.count)].elementsEqual(name)
            })
        else { return 0 }
        var value = 0
        for b in lower[(start + name.count)...] {
            if b == UInt8(ascii: " ") { continue }
            guard b >= 48 && b <= 57 else { break }
            value = value * 10 + Int(b - 48)
        }
        return value
    }
}
