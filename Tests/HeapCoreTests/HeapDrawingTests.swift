import XCTest

@testable import HeapCore

/// `graph`'s drawing in the core: which nodes and edges, in which order, what "N more" counts,
/// and that drawing changes nothing.
final class HeapDrawingTests: HeapTestCase {
    private func objects(_ d: HeapDrawing) -> [ObjectID] {
        d.nodes.compactMap { if case .object(let o) = $0 { o.id } else { nil } }
    }

    private func object(_ d: HeapDrawing, _ id: ObjectID) -> HeapDrawing.Object? {
        for case .object(let o) in d.nodes where o.id == id { return o }
        return nil
    }

    /// (from, to, label) with objects as ids and holders as their kind's name.
    private func edges(_ d: HeapDrawing) -> Set<String> {
        func name(_ i: Int) -> String {
            switch d.nodes[i] {
            case .object(let o): "\(o.id)"
            case .holder(let h): h.kind.name + (h.name.map { ":\($0)" } ?? "")
            case .more(let n, let referrers): "more(\(n),\(referrers ? "in" : "out"))"
            }
        }
        return Set(
            d.edges.map { e in
                let label: String =
                    switch e.kind {
                    case .field(let f): f + (e.inCycle ? "*" : "")
                    case .weak: "~weak"
                    case .held: "held"
                    case .more: "more"
                    }
                return "\(name(e.from))-\(label)->\(name(e.to))"
            })
    }

    func testThePersonCycleWithADog() throws {
        let alice = alloc("Person")
        let bob = alloc("Person", finalizer: true)
        let dog = alloc("Dog")
        link(alice, "partner", bob)
        link(bob, "partner", alice)
        link(alice, "pet", dog)
        drop(dog)
        let w = weak(dog)
        try heap.setRoot("couple", to: alice, events: &events)
        let before = heap.checkInvariants()

        let d = try heap.drawing(around: alice, depth: 2, maxNodes: 200)
        XCTAssertEqual(d.focus, 0)
        XCTAssertFalse(d.truncated)
        XCTAssertEqual(objects(d), [alice, bob, dog])
        XCTAssertEqual(
            edges(d),
            [
                "\(alice)-partner*->\(bob)", "\(bob)-partner*->\(alice)", "\(alice)-pet->\(dog)",
                "session-held->\(alice)", "session-held->\(bob)", "root:couple-held->\(alice)",
            ])
        XCTAssertEqual(object(d, bob)?.finalizer, true)
        XCTAssertEqual(object(d, alice)?.finalizer, false)
        XCTAssertEqual(object(d, alice)?.refcount, refcount(alice))
        XCTAssertEqual(object(d, alice)?.cycle, 0)
        XCTAssertEqual(object(d, bob)?.cycle, 0)
        XCTAssertNil(object(d, dog)?.cycle)

        // Around the dog: the weakref is a referrer, its edge weak.
        let around = try heap.drawing(around: dog, depth: 1, maxNodes: 200)
        XCTAssertEqual(Set(objects(around)), [dog, alice, w])
        XCTAssertTrue(edges(around).contains("\(w)-~weak->\(dog)"))
        XCTAssertEqual(heap.checkInvariants(), before)
        drop(w)
        try heap.setRoot("couple", to: nil, events: &events)
    }

    func testFanOutPastMaxNodesCountsTheRest() throws {
        let hub = alloc("Hub")
        let leaves = (0..<30).map { _ in alloc("Leaf") }
        for (i, leaf) in leaves.enumerated() {
            link(hub, "f\(i)", leaf)
            drop(leaf)
        }
        let d = try heap.drawing(around: hub, depth: 1, maxNodes: 10)
        XCTAssertTrue(d.truncated)
        XCTAssertEqual(objects(d).count, 10)
        // Referents come first: nine leaves (in field order) fit, 21 do not, nor the session.
        XCTAssertEqual(Array(objects(d).dropFirst()), Array(leaves.prefix(9)))
        XCTAssertTrue(edges(d).contains("\(hub)-more->more(21,out)"))
        XCTAssertTrue(edges(d).contains("more(1,in)-more->\(hub)"))
        let all = try heap.drawing(around: hub, depth: 1, maxNodes: 100)
        XCTAssertFalse(all.truncated)
        XCTAssertEqual(all.nodes.count, 32)
    }

    func testACycleThatClosesOutsideThePictureStillMarksItsMembers() throws {
        let ring = (0..<10).map { _ in alloc("Ring") }
        for (i, o) in ring.enumerated() { link(o, "next", ring[(i + 1) % ring.count]) }
        let tail = alloc("Tail")
        link(ring[0], "tail", tail)
        let d = try heap.drawing(around: ring[0], depth: 1, maxNodes: 200)
        XCTAssertEqual(Set(objects(d)), [ring[0], ring[1], ring[9], tail])
        for o in [ring[0], ring[1], ring[9]] { XCTAssertEqual(object(d, o)?.cycle, 0) }
        XCTAssertNil(object(d, tail)?.cycle)
        XCTAssertTrue(edges(d).contains("\(ring[0])-next*->\(ring[1])"))
        XCTAssertTrue(edges(d).contains("\(ring[0])-tail->\(tail)"))
        for o in ring + [tail] { drop(o) }
    }

    func testDepthZeroIsTheObjectAlone() throws {
        let a = alloc("A")
        let b = alloc("B", [("x", a)])
        let d = try heap.drawing(around: a, depth: 0, maxNodes: 5)
        XCTAssertEqual(d.nodes.count, 1)
        XCTAssertEqual(d.edges, [])
        drop(b)
    }

    func testWholeHeapHoldersFirstThenGarbageById() throws {
        let kept = alloc("Kept")
        let x = alloc("Node")
        let y = alloc("Node")
        link(x, "next", y)
        link(y, "next", x)
        drop(x)
        drop(y)
        let d = try heap.drawing(around: nil, maxNodes: 200)
        XCTAssertNil(d.focus)
        XCTAssertFalse(d.truncated)
        guard case .holder(let h) = d.nodes.first else { return XCTFail("no holder first") }
        XCTAssertEqual(h.kind, .session)
        XCTAssertEqual(objects(d), [kept, x, y])
        XCTAssertEqual(object(d, x)?.cycle, 0)
        XCTAssertNil(object(d, kept)?.cycle)
        let cut = try heap.drawing(around: nil, maxNodes: 2)
        XCTAssertTrue(cut.truncated)
        XCTAssertEqual(objects(cut), [kept])
        XCTAssertThrowsError(try heap.drawing(around: ObjectID(raw: 999), maxNodes: 5))
    }
}
