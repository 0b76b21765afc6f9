import JSONRPC
import JSONRPCNIO
import NIOCore
import XCTest

final class ContentLengthFrameDecoderTests: XCTestCase {
    private func lsp(_ body: String) -> String {
        "Content-Length: \(body.utf8.count)\r\n\r\n" + body
    }

    func testOneByteAtATime() throws {
        let frames = try decodeFrames(byteByByte(lsp("{\"a\":1}") + lsp("[2]")))
        XCTAssertEqual(frames, [message("{\"a\":1}"), message("[2]")])
    }

    func testTwoMessagesInOneChunk() throws {
        let frames = try decodeFrames([bytes(lsp("{\"a\":1}") + lsp("{\"b\":\"é\"}"))])
        XCTAssertEqual(frames, [message("{\"a\":1}"), message("{\"b\":\"é\"}")])
    }

    func testHeaderNameIsCaseInsensitiveAndOtherHeadersIgnored() throws {
        let text = "content-length:7\r\nContent-Type: application/vscode-jsonrpc; charset=utf-8\r\n\r\n{\"a\":1}"
        let frames = try decodeFrames([bytes(text)])
        XCTAssertEqual(frames, [message("{\"a\":1}")])
    }

    func testBodyMayContainNewlines() throws {
        let frames = try decodeFrames([bytes(lsp("{\n\"a\": 1\n}"))])
        XCTAssertEqual(frames, [message("{\n\"a\": 1\n}")])
    }

    func testOversizedContentLengthFollowedByGoodFrame() throws {
        let big = String(repeating: "x", count: 200)
        let frames = try decodeFrames([bytes(lsp(big) + lsp("{\"ok\":1}"))], maximumMessageSize: 64)
        XCTAssertEqual(frames, [.oversized(declaredOrSeen: 200), message("{\"ok\":1}")])
    }

    func testOversizedBodySkippedAcrossChunks() throws {
        var chunks = [bytes("Content-Length: 1000\r\n\r\n")]
        chunks += Array(repeating: bytes(String(repeating: "y", count: 100)), count: 10)
        chunks += [bytes(lsp("[1]"))]
        let frames = try decodeFrames(chunks, maximumMessageSize: 64)
        XCTAssertEqual(frames, [.oversized(declaredOrSeen: 1000), message("[1]")])
    }

    func testOversizedBodySkippedOneByteAtATime() throws {
        let frames = try decodeFrames(
            byteByByte(lsp(String(repeating: "z", count: 70)) + lsp("[1]")), maximumMessageSize: 64)
        XCTAssertEqual(frames, [.oversized(declaredOrSeen: 70), message("[1]")])
    }

    func testMissingContentLengthIsBrokenAndEndsDecoding() throws {
        let frames = try decodeFrames([bytes("Content-Type: x\r\n\r\n{}"), bytes(lsp("[1]"))])
        XCTAssertEqual(frames, [.brokenHeader("missing Content-Length header")])
    }

    func testInvalidContentLengthIsBroken() throws {
        for value in ["abc", "-5", "", "1 2", "99999999999999999999999"] {
            let frames = try decodeFrames([bytes("Content-Length: \(value)\r\n\r\n{}")])
            guard case .brokenHeader(let reason) = frames.first, frames.count == 1 else {
                return XCTFail("\(value): \(frames)")
            }
            XCTAssertTrue(reason.hasPrefix("invalid Content-Length"), reason)
        }
    }

    func testMalformedHeaderLineIsBroken() throws {
        let frames = try decodeFrames([bytes("Content-Length: 2\r\nnonsense\r\n\r\n{}")])
        XCTAssertEqual(frames, [.brokenHeader("malformed header line \"nonsense\"")])
    }

    func testHeaderBlockOverEightKiBIsBroken() throws {
        let chunk = bytes("Content-Length: 2\r\nX-Padding: " + String(repeating: "p", count: 9000))
        let frames = try decodeFrames([chunk, bytes("\r\n\r\n{}")])
        XCTAssertEqual(frames, [.brokenHeader("header block exceeds 8192 bytes")])
    }

    func testEOFInsideBodyDropsIt() throws {
        let frames = try decodeFrames([bytes(lsp("[1]") + "Content-Length: 10\r\n\r\n{\"a\"")], eof: true)
        XCTAssertEqual(frames, [message("[1]")])
    }

    func testStandaloneDetectsFramingFromLowercaseC() {
        var decoder = RPCFrameDecoder(maximumMessageSize: 100)
        var buffer = ByteBuffer(string: "content-length: 2\r\n\r\n{}")
        XCTAssertEqual(decoder.next(from: &buffer), message("{}"))
        XCTAssertEqual(decoder.framing, .contentLength)
    }
}
