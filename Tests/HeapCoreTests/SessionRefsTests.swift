import XCTest

@testable import HeapCore

/// `unref` drops the latest reference to an object from the innermost scope holding one in
/// O(1) (it searched the scope's order array: O(references held)); leaving a scope still
/// releases what is left in the order taken. Checked against a plain array model through
/// enough drops to compact the holes many times.
final class SessionRefsTests: XCTestCase {
    func testDropsAndScopesMatchAnArrayModel() {
        var rng = SplitMix64(seed: 16)
        var refs = SessionRefs(name: "s")
        var model: [[Slot]] = [[]]
        for step in 0..<20_000 {
            let r = rng.next() % 100
            if r < 50 {
                let slot = Slot(8 + rng.next() % 300)
                refs.take(slot)
                model[model.count - 1].append(slot)
            } else if r < 95 {
                let slot = Slot(8 + rng.next() % 300)
                let f = model.indices.reversed().first { model[$0].contains(slot) }
                if let f { model[f].remove(at: model[f].lastIndex(of: slot)!) }
                XCTAssertEqual(refs.drop(slot), f != nil, "step \(step)")
            } else if r < 98 {
                refs.enterScope()
                model.append([])
            } else if model.count > 1 {
                XCTAssertEqual(refs.exitScope(), model.removeLast(), "step \(step)")
            }
            if step % 997 == 0 {
                XCTAssertEqual(refs.scopes, model, "step \(step)")
                for slot in Slot(8)..<Slot(308) {
                    XCTAssertEqual(Int(refs.count(slot)), model.reduce(0) { $0 + $1.filter { $0 == slot }.count })
                }
            }
        }
        var restored = SessionRefs(name: "s")
        restored.restore(scopes: refs.scopes)
        XCTAssertEqual(restored.scopes, model)
        XCTAssertEqual(restored.frames.map { $0.mapValues(\.count) }, refs.frames.map { $0.mapValues(\.count) })
    }
}
