import JSONRPC
import XCTest

final class RPCReplyTests: XCTestCase {
    func testBuiltMessages() {
        XCTAssertEqual(
            JSONCodec.encodeString(RPCEnvelope.response(id: .number(1), result: ["ok": true])),
            #"{"jsonrpc":"2.0","id":1,"result":{"ok":true}}"#)
        XCTAssertEqual(
            JSONCodec.encodeString(RPCEnvelope.errorResponse(id: .null, error: .parseError("bad"))),
            #"{"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"bad"}}"#)
        XCTAssertEqual(
            JSONCodec.encodeString(
                RPCEnvelope.errorResponse(
                    id: .string("q"),
                    error: RPCError(code: RPCErrorCode(rawValue: -32001), message: "no object 7", data: ["id": 7]))),
            #"{"jsonrpc":"2.0","id":"q","error":{"code":-32001,"message":"no object 7","data":{"id":7}}}"#)
        XCTAssertEqual(
            JSONCodec.encodeString(RPCEnvelope.notification(method: "collected", params: ["ids": [1]])),
            #"{"jsonrpc":"2.0","method":"collected","params":{"ids":[1]}}"#)
        XCTAssertEqual(
            JSONCodec.encodeString(RPCEnvelope.request(id: .number(4), method: "stats", params: nil)),
            #"{"jsonrpc":"2.0","id":4,"method":"stats"}"#)
        XCTAssertEqual(
            JSONCodec.encodeString(RPCEnvelope.request(id: .number(4), method: "get", params: [1])),
            #"{"jsonrpc":"2.0","id":4,"method":"get","params":[1]}"#)
    }

    func testErrorHelpers() {
        XCTAssertEqual(RPCError.methodNotFound("frob").message, "method 'frob' not found")
        XCTAssertEqual(RPCError.methodNotFound("frob").code, .methodNotFound)
        XCTAssertEqual(RPCError.invalidParams("x").code.rawValue, -32602)
        XCTAssertEqual(RPCError.invalidRequest("x").code.rawValue, -32600)
        XCTAssertEqual(RPCErrorCode.invalidParams.name, "invalidParams")
        XCTAssertNil(RPCErrorCode(rawValue: 5).name)
    }

    func testDecodeReplies() throws {
        func reply(_ text: String) throws -> RPCReply? { RPCEnvelope.decodeReply(try JSONCodec.parse(text)) }
        XCTAssertEqual(try reply(#"{"jsonrpc":"2.0","id":1,"result":[1]}"#), .result(id: .number(1), [1]))
        XCTAssertEqual(
            try reply(#"{"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"bad","data":1}}"#),
            .error(id: .null, RPCError(code: .parseError, message: "bad", data: 1)))
        XCTAssertEqual(
            try reply(#"{"jsonrpc":"2.0","method":"collected","params":{"n":1}}"#),
            .notification(method: "collected", params: ["n": 1]))
        XCTAssertEqual(try reply(#"{"jsonrpc":"2.0","method":"tick"}"#), .notification(method: "tick", params: nil))
        XCTAssertEqual(try reply(#"{"jsonrpc":"2.0","id":"s","result":null}"#)?.id, .string("s"))
        XCTAssertNil(try reply(#"{"id":1,"result":1}"#), "missing jsonrpc")
        XCTAssertNil(try reply(#"{"jsonrpc":"2.0","id":1}"#), "neither result nor error")
        XCTAssertNil(try reply(#"{"jsonrpc":"2.0","id":1,"error":{"code":"x","message":"m"}}"#))
        XCTAssertNil(try reply(#"{"jsonrpc":"2.0","id":1,"method":"m"}"#), "requests are not replies")
        XCTAssertNil(try reply("[1]"))
    }

    func testRoundTripThroughBuilders() throws {
        let built = RPCEnvelope.errorResponse(id: .number(3), error: .invalidParams("\"n\" must be an integer"))
        let decoded = RPCEnvelope.decodeReply(try JSONCodec.parse(JSONCodec.encode(built)))
        XCTAssertEqual(decoded, .error(id: .number(3), .invalidParams("\"n\" must be an integer")))
    }
}
