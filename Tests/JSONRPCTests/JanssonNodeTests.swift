import JSONRPC
import XCTest

final class JanssonNodeTests: XCTestCase {
    private func withNode<R>(_ text: String, _ body: (JanssonNode) throws -> R) throws -> R {
        try bytes(text).withUnsafeBytes { try JSONCodec.withParsed($0, body) }
    }

    func testTypedAccess() throws {
        try withNode(#"{"i":5,"r":2.5,"s":"x\u0000y","t":true,"n":null,"a":[1,"two"],"o":{"z":1,"y":2}}"#) { root in
            XCTAssertEqual(root.kind, .object)
            XCTAssertEqual(root.count, 7)
            XCTAssertEqual(root["i"]?.int64, 5)
            XCTAssertEqual(root["i"]?.double, 5.0)
            XCTAssertNil(root["r"]?.int64)
            XCTAssertEqual(root["r"]?.double, 2.5)
            XCTAssertEqual(root["r"]?.kind, .real)
            XCTAssertEqual(root["s"]?.string, "x\u{0}y")
            XCTAssertEqual(root["t"]?.bool, true)
            XCTAssertEqual(root["n"]?.isNull, true)
            XCTAssertNil(root["missing"])
            XCTAssertNil(root["i"]?["x"])
            let array = try XCTUnwrap(root["a"])
            XCTAssertEqual(array.count, 2)
            XCTAssertEqual(array[1].string, "two")
            XCTAssertEqual(array[1].kind.rawValue, "string")
            var keys: [String] = []
            root["o"]?.forEachMember { key, value in keys.append("\(key)=\(value.int64!)") }
            XCTAssertEqual(keys, ["z=1", "y=2"])
            XCTAssertEqual(root["o"]?.toValue(), ["z": 1, "y": 2])
            XCTAssertEqual(String(decoding: root["a"]!.encoded(), as: UTF8.self), #"[1,"two"]"#)
        }
    }

    func testEncodedRealUsesSeventeenDigits() throws {
        let text = try withNode("[7.6]") { String(decoding: $0[0].encoded(), as: UTF8.self) }
        XCTAssertEqual(text, "7.5999999999999996")
        XCTAssertEqual(try JSONCodec.parse(text), 7.6)
    }

    func testParseFailureThrowsJSONParseError() {
        XCTAssertThrowsError(try withNode("{") { _ in XCTFail("body must not run") }) { error in
            XCTAssertTrue(error is JSONParseError, "\(error)")
        }
    }

    func testBodyErrorsPropagate() {
        struct Marker: Error {}
        XCTAssertThrowsError(try withNode("[]") { _ in throw Marker() }) { error in
            XCTAssertTrue(error is Marker)
        }
    }

    func testToValueOfDeepestParsableTree() throws {
        let depth = 2048
        let text = String(repeating: "[", count: depth) + String(repeating: "]", count: depth)
        let value = try JSONCodec.parse(text)
        XCTAssertEqual(JSONCodec.encodeString(value), text)
        // Wrapped in a reply it is one level deeper and must still encode.
        XCTAssertEqual(
            JSONCodec.encodeString(RPCEnvelope.response(id: .number(1), result: value)),
            #"{"jsonrpc":"2.0","id":1,"result":"# + text + "}")
    }
}
