import JSONRPC
import XCTest

final class JSONValueTests: XCTestCase {
    func testAccessors() {
        let value: JSONValue = ["n": 3, "d": 1.5, "s": "x", "b": true, "a": [1], "o": ["k": nil]]
        XCTAssertEqual(value["n"]?.intValue, 3)
        XCTAssertEqual(value["n"]?.doubleValue, 3.0)
        XCTAssertNil(value["d"]?.intValue)
        XCTAssertEqual(value["d"]?.doubleValue, 1.5)
        XCTAssertEqual(value["s"]?.stringValue, "x")
        XCTAssertEqual(value["b"]?.boolValue, true)
        XCTAssertEqual(value["a"]?.arrayValue, [1])
        XCTAssertEqual(value["o"]?.objectValue?.first?.0, "k")
        XCTAssertEqual(value["o"]?["k"]?.isNull, true)
        XCTAssertNil(value["missing"])
        XCTAssertNil(JSONValue.int(1)["n"])
        XCTAssertEqual(value["a"]?[0], 1)
        XCTAssertNil(value["a"]?[1])
    }

    func testEqualityIsOrderSensitiveAndTypeStrict() {
        XCTAssertNotEqual(["a": 1, "b": 2] as JSONValue, ["b": 2, "a": 1] as JSONValue)
        XCTAssertEqual(["a": [1, ["b": nil]]] as JSONValue, ["a": [1, ["b": nil]]] as JSONValue)
        XCTAssertNotEqual(JSONValue.int(1), .double(1))
        XCTAssertNotEqual(JSONValue.raw(bytes("1")), .int(1))
        XCTAssertEqual(JSONValue.raw(bytes("[1]")), .raw(bytes("[1]")))
        XCTAssertNotEqual(JSONValue.raw(bytes("[1]")), .raw(bytes("[ 1]")))
        XCTAssertNotEqual([1, 2] as JSONValue, [1] as JSONValue)
    }

    func testEqualityOfDeepValues() {
        var a: JSONValue = nil
        var b: JSONValue = nil
        for _ in 0..<JSONCodec.maximumEncodingDepth { a = [a]; b = [b] }
        XCTAssertEqual(a, b)
    }

    func testDescriptionIsCompactJSON() {
        XCTAssertEqual(String(describing: ["k": [true, nil]] as JSONValue), #"{"k":[true,null]}"#)
    }
}
