/// Refcount-zero deallocation: CPython 3.11's `subtype_dealloc`, without recursion.
///
/// For each dying object, in this order (CPYTHON-GC.md §4.1):
/// 1. untrack it (leave its generation list; `count0` drops if positive);
/// 2. its finalizer event, unless it already ran (`finalized`);
/// 3. clear the weakrefs to it and report callbacks, newest callback-weakref first; a weakref
///    that is itself dying has already left the list, so it never calls back;
/// 4. release its fields in the type's key order; a field whose target reaches zero deallocates
///    that target completely before the next field is released (depth-first, as the C recursion).
///
/// The recursion of step 4 is an explicit stack. When the last field of an object is released,
/// the object's frame is popped first, so a chain of any length needs a stack of depth one
/// (CPython's trashcan serves the same purpose; 3.11's trashcan also reorders siblings below
/// depth ~48, which we do not emulate: this is 3.13's depth-first order).
extension Heap {
    mutating func deallocate(_ root: Slot, _ events: inout HeapEvents) {
        // Most deaths release at most one field: follow such a chain without the stack.
        var slot = root
        while true {
            beginDeallocation(slot, &events)
            let r = table.records[Int(slot)]
            if r.fieldCount > 1 { break }
            let target: Slot? = r.fieldCount == 1 ? FieldPool.target(fieldPool[r.fieldsAt]) : nil
            finishDeallocation(slot)
            guard let target else { return }
            table.records[Int(target)].refcount -= 1
            guard table.records[Int(target)].refcount == 0 else { return }
            slot = target
        }
        deallocateWithStack(slot, &events)
    }

    /// The general cascade for an object (already begun) with several fields.
    private mutating func deallocateWithStack(_ root: Slot, _ events: inout HeapEvents) {
        var stack = deallocStack
        deallocStack = []  // keep the buffer uniquely referenced while it grows
        stack.removeAll(keepingCapacity: true)
        stack.append((root, 0))
        while let (slot, next) = stack.last {
            let count = table.records[Int(slot)].fieldCount
            guard next < count else {
                stack.removeLast()
                finishDeallocation(slot)
                continue
            }
            let target = FieldPool.target(fieldPool[table.records[Int(slot)].fieldsAt + UInt32(next)])
            if next + 1 == count {
                stack.removeLast()
                finishDeallocation(slot)
            } else {
                stack[stack.count - 1].next = next + 1
            }
            table.records[Int(target)].refcount -= 1
            if table.records[Int(target)].refcount == 0 {
                beginDeallocation(target, &events)
                stack.append((target, 0))
            }
        }
        deallocStack = stack
    }

    /// Steps 1-3: the object is dead from here on; its fields are still to be released.
    private mutating func beginDeallocation(_ slot: Slot, _ events: inout HeapEvents) {
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
        types.remove(table.records[Int(slot)].type, size: size)
        totalBytes -= size
        origins.forget(slot)
        if flags.contains(.hasData) { table.data[slot] = nil }
    }

    /// Step 4 done: the slot and its field block go back to their pools.
    private mutating func finishDeallocation(_ slot: Slot) {
        let r = table.records[Int(slot)]
        fieldPool.freeBlock(at: r.fieldsAt, count: Int(r.fieldCount))
        if r.flags.contains(.bigSize) { table.bigSizes[slot] = nil }
        table.releaseSlot(slot)
    }

    /// `PyObject_ClearWeakRefs`: every weakref to `slot` reads null from now on; those with a
    /// callback report it, newest first (3.11 inserts callback weakrefs at the list's front).
    mutating func clearWeakrefs(to slot: Slot, reportingTo events: inout HeapEvents) {
        let referentID = table.id(of: slot)
        let refs = table.weakrefs.clear(slot)
        table.records[Int(slot)].flags.remove(.hasWeakrefs)
        for w in refs.reversed() where table.records[Int(w)].flags.contains(.weakrefHasCallback) {
            events.append(.weakrefCallback(weakref: table.id(of: w), referent: referentID))
        }
    }

    /// A weakref that dies or is cleared leaves its referent's list (it will never call back).
    mutating func detachWeakref(_ w: Slot) {
        guard let (referent, emptied) = table.weakrefs.detach(w), emptied else { return }
        table.records[Int(referent)].flags.remove(.hasWeakrefs)
    }
}
