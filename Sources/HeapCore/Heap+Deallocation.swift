/// Refcount-zero deallocation: CPython 3.11's `subtype_dealloc`, the heap's side of the one
/// refcount cascade (`RefcountCascading`, which holds the order and the trashcan).
///
/// For each dying object, in this order (CPYTHON-GC.md §4.1):
/// 1. untrack it (leave its generation list; `count0` drops if positive);
/// 2. its finalizer event, unless it already ran (`finalized`);
/// 3. clear the weakrefs to it and report callbacks, newest callback-weakref first; a weakref
///    that is itself dying never calls back (it left the list, or the trashcan holds it at
///    refcount 0);
/// 4. release its fields in the type's key order (the cascade does it).
extension Heap: RefcountCascading {
    typealias Events = HeapEvents

    @inline(__always)
    mutating func dropsLastReference(_ slot: Slot) -> Bool {
        table.records[Int(slot)].refcount -= 1
        return table.records[Int(slot)].refcount == 0
    }

    @inline(__always)
    func releasesThroughDict(_ slot: Slot) -> Bool { table.records[Int(slot)].flags.contains(.ownDict) }
    func fieldCount(_ slot: Slot) -> Int { Int(table.records[Int(slot)].fieldCount) }

    @inline(__always)
    func fieldTarget(_ slot: Slot, _ i: Int) -> Slot {
        FieldPool.target(fieldPool[table.records[Int(slot)].fieldsAt + UInt32(i)])
    }

    /// Steps 1-3: the object is dead from here on; its fields are still to be released.
    mutating func beginDeallocation(_ slot: Slot, _ events: inout HeapEvents) {
        table.leaveGeneration(slot)
        if gc.counts[0] > 0 { gc.counts[0] -= 1 }
        var flags = table.records[Int(slot)].flags
        if flags.contains(.hasFinalizer) && !flags.contains(.finalized) {
            flags.insert(.finalized)
            events.append(.finalize(id: table.id(of: slot), type: typeName(slot)))
        }
        flags.remove(.live)
        table.records[Int(slot)].flags = flags
        if flags.contains(.hasWeakrefs) { clearWeakrefs(to: slot, reportingTo: &events) }
        if flags.contains(.isWeakref) { detachWeakref(slot) }
        events.freed(table.id(of: slot))
        let size = table.size(slot)
        let type = table.records[Int(slot)].type
        types.remove(type, size: size)
        if table.generation(of: slot) == 3 { types.removeFrozen(type, size: size) }
        totalBytes -= size
        origins.forget(slot)
        if flags.contains(.hasData) { table.data[slot] = nil }
    }

    /// Step 4 done: the slot and its field block go back to their pools.
    mutating func finishDeallocation(_ slot: Slot) {
        let r = table.records[Int(slot)]
        fieldPool.freeBlock(at: r.fieldsAt, count: Int(r.fieldCount))
        if r.flags.contains(.bigSize) { table.bigSizes[slot] = nil }
        table.releaseSlot(slot)
    }

    /// `PyObject_ClearWeakRefs`: every weakref to `slot` reads null from now on; those with a
    /// callback report it, newest first (3.11 inserts callback weakrefs at the list's front),
    /// unless their own refcount is 0 (`Py_REFCNT(current) > 0` in weakrefobject.c): a weakref
    /// the trashcan deferred is dying and never calls back.
    mutating func clearWeakrefs(to slot: Slot, reportingTo events: inout HeapEvents) {
        let referentID = table.id(of: slot)
        let refs = table.weakrefs.clear(slot)
        table.records[Int(slot)].flags.remove(.hasWeakrefs)
        for w in refs.reversed()
        where table.records[Int(w)].flags.contains(.weakrefHasCallback) && table.records[Int(w)].refcount > 0 {
            events.append(.weakrefCallback(weakref: table.id(of: w), referent: referentID))
        }
    }

    /// A weakref that dies or is cleared leaves its referent's list (it will never call back).
    mutating func detachWeakref(_ w: Slot) {
        guard let (referent, emptied) = table.weakrefs.detach(w), emptied else { return }
        table.records[Int(referent)].flags.remove(.hasWeakrefs)
    }
}
