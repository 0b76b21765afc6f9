import JSONRPC
import JSONRPCNIO
import NIOCore
import XCTest

final class FrameEncoderTests: XCTestCase {
    func testNDJSON() {
        var buffer = ByteBuffer()
        RPCFrameEncoder.frame(bytes("{\"a\":1}"), framing: .ndjson, into: &buffer)
        RPCFrameEncoder.frame(encoding: ["b": 2], framing: .ndjson, into: &buffer)
        XCTAssertEqual(String(buffer: buffer), "{\"a\":1}\n{\"b\":2}\n")
    }

    func testContentLengthCountsBytesNotCharacters() {
        var buffer = ByteBuffer()
        RPCFrameEncoder.frame(encoding: .string("é"), framing: .contentLength, into: &buffer)
        XCTAssertEqual(String(buffer: buffer), "Content-Length: 4\r\n\r\n\"é\"")
    }

    func testEncoderOutputDecodesBack() {
        for framing in [Framing.ndjson, .contentLength] {
            var buffer = ByteBuffer()
            RPCFrameEncoder.frame(encoding: ["text": "line1\nline2"], framing: framing, into: &buffer)
            RPCFrameEncoder.frame(encoding: [1, 2], framing: framing, into: &buffer)
            var decoder = RPCFrameDecoder(maximumMessageSize: 100)
            XCTAssertEqual(decoder.next(from: &buffer), message("{\"text\":\"line1\\nline2\"}"))
            XCTAssertEqual(decoder.next(from: &buffer), message("[1,2]"))
            XCTAssertEqual(decoder.framing, framing)
        }
    }
}
