import JSONRPC
import XCTest

final class JSONCodecTests: XCTestCase {
    func testNestedRoundTrip() throws {
        let value: JSONValue = [
            "null": nil, "t": true, "f": false, "int": -42, "max": .int(.max), "min": .int(.min),
            "double": 0.5, "string": "é😀\n\"\\\u{1}", "nul": "a\u{0}b",
            "array": [1, [2, [3, []]], [:]], "object": ["z": ["y": ["x": "deep"]]],
        ]
        XCTAssertEqual(try JSONCodec.parse(JSONCodec.encode(value)), value)
    }

    func testKeyOrderIsPreserved() throws {
        let text = #"{"b":1,"a":2,"c":{"z":1,"y":2}}"#
        let value = try JSONCodec.parse(text)
        XCTAssertEqual(value.objectValue?.map(\.0), ["b", "a", "c"])
        XCTAssertEqual(JSONCodec.encodeString(value), text)
    }

    func testDictionaryLiteralKeepsOrder() {
        let value: JSONValue = ["zeta": 1, "alpha": 2]
        XCTAssertEqual(JSONCodec.encodeString(value), #"{"zeta":1,"alpha":2}"#)
    }

    func testDoublesRoundTripExactly() throws {
        for number in [7.6, 0.1, 1e300, -2.5e-308, 3.0, Double.pi] {
            XCTAssertEqual(try JSONCodec.parse(JSONCodec.encode(.double(number))), .double(number))
        }
        XCTAssertEqual(try JSONCodec.parse(JSONCodec.encode([7.6]))[0]?.doubleValue, 7.6)
        // An integral double stays a real on the wire.
        XCTAssertEqual(JSONCodec.encodeString(.double(3)), "3.0")
    }

    func testNonFiniteDoublesEncodeAsNull() {
        XCTAssertEqual(JSONCodec.encodeString([.double(.nan), .double(.infinity)]), "[null,null]")
    }

    func testOutputIsCompactWithoutTrailingNewline() {
        XCTAssertEqual(JSONCodec.encodeString(["a": [1, 2], "b": "x"]), #"{"a":[1,2],"b":"x"}"#)
        XCTAssertEqual(JSONCodec.encodeString("top"), #""top""#)
    }

    func testInvalidUTF8IsAParseError() {
        XCTAssertThrowsError(try JSONCodec.parse([0x22, 0xFF, 0x22])) { error in
            XCTAssertTrue((error as? JSONParseError)?.message.contains("unable to decode byte") == true, "\(error)")
        }
    }

    func testDuplicateKeysAreRejected() {
        XCTAssertThrowsError(try JSONCodec.parse(#"{"a":1,"a":2}"#)) { error in
            let parseError = error as? JSONParseError
            XCTAssertTrue(parseError?.message.contains("duplicate object key") == true, "\(error)")
            XCTAssertEqual(parseError?.line, 1)
            XCTAssertEqual(parseError?.position, 10)
        }
    }

    func testDeepNestingIsAParseErrorNotACrash() {
        let deep = [UInt8](repeating: UInt8(ascii: "["), count: 100_000)
        XCTAssertThrowsError(try JSONCodec.parse(deep)) { error in
            XCTAssertTrue((error as? JSONParseError)?.message.contains("maximum parsing depth") == true, "\(error)")
        }
    }

    func testHugeIntegerIsAParseErrorWithAMessage() {
        XCTAssertThrowsError(try JSONCodec.parse("123456789012345678901234567890")) { error in
            XCTAssertEqual((error as? JSONParseError)?.message, "too big integer")
        }
    }

    func testEmptyInputAndTrailingGarbageAreErrors() {
        XCTAssertThrowsError(try JSONCodec.parse(""))
        XCTAssertThrowsError(try JSONCodec.parse("1 2"))
        XCTAssertThrowsError(try JSONCodec.parse(#"{"a":1"#))
    }

    func testScalarsAtTopLevelParse() throws {
        XCTAssertEqual(try JSONCodec.parse("  17 "), 17)
        XCTAssertEqual(try JSONCodec.parse("null"), nil)
        XCTAssertEqual(try JSONCodec.parse(#""\u00e9""#), "é")
    }

    func testRawIsEmbeddedAfterNormalisation() throws {
        let value: JSONValue = ["id": 1, "data": .raw(bytes("[1, 2,\n {\"k\" : 7.6}]"))]
        XCTAssertEqual(JSONCodec.encodeString(value), #"{"id":1,"data":[1,2,{"k":7.5999999999999996}]}"#)
        XCTAssertEqual(try JSONCodec.parse(JSONCodec.encode(value))["data"], [1, 2, ["k": 7.6]])
        XCTAssertEqual(JSONCodec.encodeString(.raw(bytes(" true "))), "true")
    }

    func testInvalidRawIsReportedByEncodeChecked() {
        XCTAssertThrowsError(try JSONCodec.encodeChecked(["data": .raw(bytes("[1,"))])) { error in
            guard case .invalidRaw? = error as? JSONEncodeError else { return XCTFail("\(error)") }
        }
    }

    func testTooDeepValueIsReportedByEncodeChecked() {
        var value: JSONValue = 0
        for _ in 0..<(JSONCodec.maximumEncodingDepth + 1) { value = [value] }
        XCTAssertThrowsError(try JSONCodec.encodeChecked(value)) { error in
            XCTAssertEqual(error as? JSONEncodeError, .tooDeep(limit: JSONCodec.maximumEncodingDepth))
        }
        // One level less is fine.
        guard case .array(let inner) = value else { return XCTFail() }
        XCTAssertNoThrow(try JSONCodec.encodeChecked(inner[0]))
    }

    func testDuplicateKeysBuiltInSwiftEncodeLastWins() {
        let value: JSONValue = .object([("a", 1), ("b", 2), ("a", 3)])
        XCTAssertEqual(value["a"], 3)
        XCTAssertEqual(JSONCodec.encodeString(value), #"{"a":3,"b":2}"#)
    }

    func testBootstrapIsIdempotent() {
        JSONCodec.bootstrap()
        JSONCodec.bootstrap()
    }
}
