import XCTest

@testable import HeapCore
@testable import HeapServer

/// DOT quoting and the DOT writer (Graphviz itself reads them back in Tests/integration/test_graph.py).
final class DOTStringTests: XCTestCase {
    func testQuotesBackslashesAmpersandsAndControlCharacters() {
        XCTAssertEqual(DOTString.label(["plain"]), "\"plain\"")
        XCTAssertEqual(DOTString.label(["a\"b"]), #""a\"b""#)
        XCTAssertEqual(DOTString.label(["a\\nb"]), #""a\\nb""#, "a backslash stays a backslash")
        XCTAssertEqual(DOTString.label(["&lt;"]), "\"&amp;lt;\"", "no entity is read")
        XCTAssertEqual(DOTString.label(["one\ntwo\u{7}"]), "\"one\u{240A}two\u{2407}\"")
        XCTAssertEqual(DOTString.label(["<b>{x|y}</b> ünï ✓"]), "\"<b>{x|y}</b> ünï ✓\"")
        XCTAssertEqual(DOTString.label(["type", "id 1"]), #""type\nid 1""#)
        XCTAssertEqual(
            DOTString.label([String(repeating: "x", count: 100)]), "\"" + String(repeating: "x", count: 63) + "…\"")
    }

    func testTheTextDrawsEveryNodeAndEdgeOnce() {
        var heap = Heap()
        var events = HeapEvents()
        let session = try! heap.openSession()
        func alloc(_ type: String, finalizer: Bool = false) -> ObjectID {
            try! heap.allocate(AllocationSpec(type: type, finalizer: finalizer), session: session, events: &events)
        }
        let a = alloc("Person")
        let b = alloc("Person", finalizer: true)
        try! heap.set(a, fields: [(name: "partner", target: b)], events: &events)
        try! heap.set(b, fields: [(name: "partner", target: a)], events: &events)
        let drawing = try! heap.drawing(around: a, depth: 2, maxNodes: 10)
        let text = drawing.dot
        let lines = text.split(separator: "\n")
        XCTAssertEqual(lines.first, "digraph heap {")
        XCTAssertEqual(lines.last, "}")
        XCTAssertEqual(lines.filter { $0.contains(" -> ") }.count, drawing.edges.count)
        XCTAssertEqual(
            lines.filter { $0.hasPrefix("  o") || $0.hasPrefix("  h") || $0.hasPrefix("  m") }.count
                - drawing.edges.count, drawing.nodes.count)
        XCTAssertTrue(text.contains("  o\(a.raw) -> o\(b.raw) [label=\"partner\", color=\"#cc0000\", penwidth=2];"))
        XCTAssertTrue(text.contains("label=\"Person\\nid \(b.raw)  refcount 2\\nhas __del__\""))
        XCTAssertTrue(text.contains("shape=octagon"))
    }
}
