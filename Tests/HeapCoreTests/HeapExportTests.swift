import Foundation
import XCTest

@testable import HeapCore

/// The export view and the snapshot encoder on small heaps: what each node and edge holds, that
/// the text is the same whatever the chunk size, and that hostile names survive as JSON.
final class HeapExportTests: HeapTestCase {
    func testViewHoldsObjectsFieldsWeakEdgesAndHolders() throws {
        let b = alloc("B")
        let a = alloc("A", [("next", b), ("again", b)])
        let w = weak(b)
        try heap.setRoot("r", to: a, events: &events)
        let v = heap.exportView()
        XCTAssertEqual(v.objectCount, 3)
        XCTAssertEqual(v.nodeCount, 1 + 2 + 3)  // root, the session and root r, three objects
        let ordinal = { (id: ObjectID) in v.ids.firstIndex(of: id.raw)! }
        let ordinals = v.ordinals()  // targets are slots
        let object = { (slot: Slot) in Int(ordinals[Int(slot)]) }
        let oa = ordinal(a)
        XCTAssertEqual(v.strings[Int(v.typeNames[oa])], "A")
        let edges = Int(v.edgeStart[oa])..<Int(v.edgeStart[oa + 1])
        XCTAssertEqual(edges.map { v.strings[Int(v.edgeName[$0])] }, ["next", "again"])
        XCTAssertEqual(edges.map { object(v.edgeTarget[$0]) }, [ordinal(b), ordinal(b)])
        XCTAssertEqual(v.weak.map { [object($0.source), object($0.target)] }, [[ordinal(w), ordinal(b)]])
        XCTAssertEqual(v.holders.map { v.strings[Int($0.name)] }, ["(session #\(session.raw))", "(root r)"])
        XCTAssertEqual(v.holders[0].targets.map(object), [b, a, w].map(ordinal).sorted())
        XCTAssertEqual(v.holders[1].propertyName.map { v.strings[Int($0)] }, "r")
        XCTAssertEqual(v.edgeCount, 2 + 3 + 1 + 2 + 1)
        try heap.setRoot("r", to: nil, events: &events)
        for o in [a, b, w] { drop(o) }
    }

    func testTextIsTheSameInAnyChunkSizeAndParses() throws {
        let hostile = "q\"b\\s\n\t\u{1}\u{1f} ü 😀"
        let x = alloc(hostile)
        let y = alloc("Y", [(hostile, x)])
        var whole: [UInt8] = []
        var encoder = HeapSnapshotEncoder(heap.exportView())
        let bytes = encoder.encode { whole.append(contentsOf: $0) }
        XCTAssertEqual(bytes, whole.count)
        var pieces: [UInt8] = []
        var chunks = 0
        var small = HeapSnapshotEncoder(heap.exportView(), chunkSize: 7)
        small.encode {
            pieces.append(contentsOf: $0)
            chunks += 1
        }
        XCTAssertEqual(pieces, whole)
        XCTAssertGreaterThan(chunks, 5)  // flushed at row ends, never holding much more than a chunk
        let doc = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(whole)) as? [String: Any])
        let strings = try XCTUnwrap(doc["strings"] as? [String])
        XCTAssertTrue(strings.contains(hostile))
        let nodes = try XCTUnwrap(doc["nodes"] as? [Int])
        XCTAssertEqual(nodes.count, 7 * 4)  // root, the session, x, y
        XCTAssertEqual(Set([nodes[16], nodes[23]]), [Int(2 * x.raw + 1), Int(2 * y.raw + 1)])
        let edges = try XCTUnwrap(doc["edges"] as? [Int])
        XCTAssertEqual(edges.count, 3 * (1 + 2 + 1))
        drop(y)
        drop(x)
    }
}
