import JSONRPC
import XCTest

final class RPCEnvelopeTests: XCTestCase {
    /// Decodes `text` and returns a Sendable summary of the result.
    private enum Outcome: Equatable {
        case request(id: RPCID?, method: String, params: JSONValue?)
        case invalid(id: RPCID?, error: RPCError)
    }

    private func envelope(_ text: String) throws -> Outcome {
        try bytes(text).withUnsafeBytes { buffer in
            try JSONCodec.withParsed(buffer) { node in
                switch RPCEnvelope.decodeEnvelope(node) {
                case .request(let id, let method, let params):
                    return .request(id: id, method: method, params: params?.toValue())
                case .invalid(let id, let error):
                    return .invalid(id: id, error: error)
                }
            }
        }
    }

    private func invalid(_ id: RPCID?, _ message: String) -> Outcome {
        .invalid(id: id, error: RPCError(code: .invalidRequest, message: message))
    }

    func testRequestWithParams() throws {
        XCTAssertEqual(
            try envelope(#"{"jsonrpc":"2.0","id":1,"method":"alloc","params":{"n":2}}"#),
            .request(id: .number(1), method: "alloc", params: ["n": 2]))
        XCTAssertEqual(
            try envelope(#"{"jsonrpc":"2.0","id":"a","method":"m","params":[1]}"#),
            .request(id: .string("a"), method: "m", params: [1]))
    }

    func testNotificationHasNoID() throws {
        XCTAssertEqual(
            try envelope(#"{"jsonrpc":"2.0","method":"ping"}"#), .request(id: nil, method: "ping", params: nil))
    }

    func testNullIDIsARequest() throws {
        XCTAssertEqual(
            try envelope(#"{"jsonrpc":"2.0","id":null,"method":"m"}"#), .request(id: .null, method: "m", params: nil))
    }

    func testIntegralRealIDIsAccepted() throws {
        XCTAssertEqual(
            try envelope(#"{"jsonrpc":"2.0","id":3.0,"method":"m"}"#),
            .request(id: .number(3), method: "m", params: nil))
    }

    func testFractionalIDIsInvalid() throws {
        XCTAssertEqual(
            try envelope(#"{"jsonrpc":"2.0","id":1.5,"method":"m"}"#),
            invalid(nil, #""id" must be an integer, string or null, got real 1.5"#))
    }

    func testStructuredIDIsInvalid() throws {
        XCTAssertEqual(
            try envelope(#"{"jsonrpc":"2.0","id":[1],"method":"m"}"#),
            invalid(nil, #""id" must be an integer, string or null, got array"#))
        XCTAssertEqual(
            try envelope(#"{"jsonrpc":"2.0","id":true,"method":"m"}"#),
            invalid(nil, #""id" must be an integer, string or null, got bool"#))
    }

    func testNotAnObject() throws {
        XCTAssertEqual(try envelope("1"), invalid(nil, "request must be an object, got integer"))
        XCTAssertEqual(try envelope("[]"), invalid(nil, "request must be an object, got array"))
    }

    func testJSONRPCVersion() throws {
        XCTAssertEqual(
            try envelope(#"{"id":1,"method":"m"}"#), invalid(.number(1), #""jsonrpc" is missing; it must be "2.0""#))
        XCTAssertEqual(
            try envelope(#"{"jsonrpc":"1.0","id":1,"method":"m"}"#),
            invalid(.number(1), #""jsonrpc" must be "2.0", got "1.0""#))
        XCTAssertEqual(
            try envelope(#"{"jsonrpc":2.0,"method":"m"}"#), invalid(nil, #""jsonrpc" must be "2.0", got real"#))
    }

    func testMethod() throws {
        XCTAssertEqual(try envelope(#"{"jsonrpc":"2.0","id":"x"}"#), invalid(.string("x"), #""method" is missing"#))
        XCTAssertEqual(
            try envelope(#"{"jsonrpc":"2.0","id":5,"method":1,"params":"bar"}"#),
            invalid(.number(5), #""method" must be a string, got integer"#))
    }

    func testParamsMustBeStructured() throws {
        XCTAssertEqual(
            try envelope(#"{"jsonrpc":"2.0","id":2,"method":"m","params":"bar"}"#),
            invalid(.number(2), #""params" must be an object or array, got string"#))
        XCTAssertEqual(
            try envelope(#"{"jsonrpc":"2.0","method":"m","params":null}"#),
            invalid(nil, #""params" must be an object or array, got null"#))
    }

    func testUnknownMembersAreIgnored() throws {
        XCTAssertEqual(
            try envelope(#"{"extra":{"x":1},"jsonrpc":"2.0","id":9,"method":"m","result":0}"#),
            .request(id: .number(9), method: "m", params: nil))
    }

    func testReplyIDOfInvalidMessageDefaultsToNull() throws {
        try bytes(#"{"method":"m"}"#).withUnsafeBytes { buffer in
            try JSONCodec.withParsed(buffer) { node in
                XCTAssertEqual(RPCEnvelope.decodeEnvelope(node).replyID, .null)
            }
        }
    }

    func testClassify() throws {
        func classify(_ text: String) throws -> String {
            try bytes(text).withUnsafeBytes { buffer in
                try JSONCodec.withParsed(buffer) { node in
                    switch RPCEnvelope.classify(node) {
                    case .single(let message): return "single \(message.kind.rawValue)"
                    case .batch(let elements): return "batch \(elements.map(\.kind.rawValue))"
                    case .emptyBatch: return "empty"
                    case .notStructured: return "scalar"
                    }
                }
            }
        }
        XCTAssertEqual(try classify("{}"), "single object")
        XCTAssertEqual(try classify(#"[{}, 1]"#), #"batch ["object", "integer"]"#)
        XCTAssertEqual(try classify("[]"), "empty")
        XCTAssertEqual(try classify("\"x\""), "scalar")
    }
}
