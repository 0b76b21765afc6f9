import JSONRPC
import JSONRPCNIO
import NIOCore
import XCTest

final class NDJSONFrameDecoderTests: XCTestCase {
    func testOneByteAtATime() throws {
        let frames = try decodeFrames(byteByByte("{\"a\":1}\n[2]\n"))
        XCTAssertEqual(frames, [message("{\"a\":1}"), message("[2]")])
    }

    func testTwoMessagesInOneChunk() throws {
        let frames = try decodeFrames([bytes("{\"a\":1}\n{\"b\":2}\n")])
        XCTAssertEqual(frames, [message("{\"a\":1}"), message("{\"b\":2}")])
    }

    func testMessageSplitAcrossChunks() throws {
        let frames = try decodeFrames([bytes("{\"a\""), bytes(":1}\n{"), bytes("}\n")])
        XCTAssertEqual(frames, [message("{\"a\":1}"), message("{}")])
    }

    func testCRLFIsStripped() throws {
        let frames = try decodeFrames([bytes("{\"a\":1}\r\n"), bytes("[1]\r"), bytes("\n")])
        XCTAssertEqual(frames, [message("{\"a\":1}"), message("[1]")])
    }

    func testBlankLinesAreSkipped() throws {
        let frames = try decodeFrames([bytes("\n\r\n  \t\n{}\n\n")])
        XCTAssertEqual(frames, [message("{}")])
    }

    func testEOFWithoutNewlineIsStillAMessage() throws {
        let frames = try decodeFrames([bytes("{}\n{\"last\":true}")], eof: true)
        XCTAssertEqual(frames, [message("{}"), message("{\"last\":true}")])
    }

    func testEOFAfterBlankTailProducesNothingMore() throws {
        let frames = try decodeFrames([bytes("{}\n  ")], eof: true)
        XCTAssertEqual(frames, [message("{}")])
    }

    func testOversizedLineFollowedByGoodLine() throws {
        let long = "[" + String(repeating: "1,", count: 100) + "1]"
        let frames = try decodeFrames([bytes(long + "\n{\"ok\":1}\n")], maximumMessageSize: 64)
        XCTAssertEqual(frames, [.oversized(declaredOrSeen: long.utf8.count), message("{\"ok\":1}")])
    }

    func testOversizedLineIsReportedOnceAndNotBuffered() throws {
        // The long line arrives in many chunks; it is reported as soon as the limit is passed.
        var chunks = [bytes("[")]
        chunks += Array(repeating: bytes("1,1,1,1,1,1,1,1,1,1,"), count: 50)
        chunks += [bytes("1]\n{\"ok\":1}\n")]
        let frames = try decodeFrames(chunks, maximumMessageSize: 64)
        XCTAssertEqual(frames.count, 2)
        guard case .oversized(let seen) = frames[0] else { return XCTFail("expected oversized, got \(frames)") }
        XCTAssertGreaterThan(seen, 64)
        XCTAssertLessThan(seen, 100, "reported when the limit was passed, not at the end of the line")
        XCTAssertEqual(frames[1], message("{\"ok\":1}"))
    }

    func testOversizedLineOneByteAtATime() throws {
        let long = String(repeating: "x", count: 80)
        let frames = try decodeFrames(byteByByte(long + "\n[1]\n"), maximumMessageSize: 16)
        XCTAssertEqual(frames, [.oversized(declaredOrSeen: 18), message("[1]")])
    }

    func testLineExactlyAtLimitIsAccepted() throws {
        let exact = "[" + String(repeating: "1", count: 14) + "]"  // 16 bytes
        let frames = try decodeFrames(byteByByte(exact + "\r\n"), maximumMessageSize: 16)
        XCTAssertEqual(frames, [message(exact)])
    }

    func testOversizedFinalLineAtEOF() throws {
        let frames = try decodeFrames([bytes(String(repeating: "x", count: 17))], maximumMessageSize: 16, eof: true)
        XCTAssertEqual(frames, [.oversized(declaredOrSeen: 17)])
    }

    func testStandaloneDetectsFraming() {
        var decoder = RPCFrameDecoder(maximumMessageSize: 100)
        XCTAssertNil(decoder.framing)
        var buffer = ByteBuffer(string: "{}\n")
        XCTAssertEqual(decoder.next(from: &buffer), message("{}"))
        XCTAssertEqual(decoder.framing, .ndjson)
        XCTAssertNil(decoder.next(from: &buffer))
        XCTAssertEqual(buffer.readableBytes, 0)
    }
}
