/// Entering, leaving and merging the generation lists, keeping each object's list code and the
/// codes' counts right (`GenerationCodes`). Generation g's list head is slot g (3: permanent).
extension ObjectTable {
    func generation(of slot: Slot) -> Int { Int(codes.generation[Int(records[Int(slot)].listCode)]) }

    func generationSize(_ g: Int) -> Int { codes.size(ofGeneration: g) }

    /// `_PyObject_GC_TRACK` into generation `g`'s list (at its tail).
    @inline(__always)
    mutating func enterGeneration(_ slot: Slot, _ g: Int) {
        listAppend(slot, to: Slot(g))
        let code = codes.current[g]
        records[Int(slot)].listCode = code
        codes.members[Int(code)] += 1
    }

    /// `_PyObject_GC_UNTRACK`: the object leaves its generation for good (it is dying).
    @inline(__always)
    mutating func leaveGeneration(_ slot: Slot) {
        listRemove(slot)
        codes.members[Int(records[Int(slot)].listCode)] -= 1
    }

    /// `gc_list_move` to the tail of generation `g`.
    mutating func moveToGeneration(_ slot: Slot, _ g: Int) {
        codes.members[Int(records[Int(slot)].listCode)] -= 1
        listRemove(slot)
        enterGeneration(slot, g)
    }

    /// `gc_list_merge`: generation `from` joins the tail of `into` and ends empty. O(1), except
    /// when the codes have run out (see `GenerationCodes`).
    mutating func mergeGeneration(_ from: Int, into: Int) {
        listMerge(Slot(from), into: Slot(into))
        if !codes.relabel(from, into: into) { relabelLists() }
    }

    /// Every object of generation g gets code g again: one walk over every list.
    mutating func relabelLists() {
        var sizes = [0, 0, 0, 0]
        for g in 0...3 {
            var s = records[g].gcNext
            while s != Slot(g) {
                records[Int(s)].listCode = UInt8(g)
                sizes[g] += 1
                s = records[Int(s)].gcNext
            }
        }
        codes.reset(sizes: sizes)
    }

    // MARK: the collector

    /// Start of a collection of generations 0...g: their objects (all on g's list by now) stop
    /// being counted; the collector re-labels each one, as survivor or as garbage, and counts
    /// them again with `countRelabelled`. Returns the code the collection labels with, the
    /// current code of `labelGeneration` (the generation survivors go to), and the collected
    /// generations' codes (one bit each) with how many objects they held.
    mutating func uncountForCollection(
        upTo g: Int, labelGeneration: Int
    ) -> (label: UInt8, youngCodes: UInt16, youngCount: Int) {
        let (mask, members) = codes.codes(upTo: g)
        for c in 0..<GenerationCodes.codeCount where mask & (1 << c) != 0 { codes.members[c] = 0 }
        return (codes.current[labelGeneration], mask, members)
    }

    /// `n` objects were labelled with `code` by the collector.
    mutating func countRelabelled(_ n: Int, code: UInt8) {
        codes.members[Int(code)] += n
    }
}
