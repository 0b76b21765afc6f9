/// The refcount cascade: what `Py_DECREF` does when a count reaches zero, written once for the
/// heap and for `apply`'s dry run (`BatchSimulation`), so both free the same objects in the same
/// order and give their slots back in the same order (slot reuse order is id order).
///
/// CPython 3.11 deallocates recursively (`subtype_dealloc` releases each field, a field at zero
/// deallocates its target before the next field), with the trashcan bounding the depth
/// (Objects/object.c, `_PyTrash_begin` / `_PyTrash_end` / `_PyTrash_thread_destroy_chain`;
/// CPYTHON-GC.md §4.4):
/// - every instance dealloc is `Py_TRASHCAN_BEGIN` ... `Py_TRASHCAN_END`; BEGIN defers the
///   object when `trash_delete_nesting >= _PyTrash_UNWIND_LEVEL` (50): it is pushed on
///   `trash_delete_later` with refcount 0 and its whole body (finalizer, weakrefs, fields) is
///   skipped, so its fields stay alive; otherwise BEGIN increments the nesting;
/// - END decrements it; back at 0 it drains `trash_delete_later` LIFO, at nesting 1 (so each
///   drained object runs at level 2), and objects deferred during the drain join the same list.
///
/// Here the recursion is an explicit stack whose frames carry their nesting level (1 for an
/// object whose count reached zero outside any deallocation: every heapd decref is such a
/// top-level one, as `unref`, `set`, `tp_clear` in `delete_garbage`, `gc.garbage.clear`, scope
/// exit and session close are in CPython, probed on 3.11.7). The stack never exceeds 50
/// frames. An object's frame is popped when its last field is released, before that field's
/// target dies: the slot goes back first (the C code frees it after, an order nobody sees),
/// and a chain is followed without growing the stack.
///
/// An instance whose attributes live in a materialised `__dict__` (3.11's shared-keys limits,
/// CPYTHON-GC.md §4.1) releases them through `dict_dealloc`, itself a trashcan level: its fields'
/// targets see one more level of nesting, and when the instance runs at level 50 it is the dict
/// that `_PyTrash_begin` defers (the instance's own dealloc is done; its fields wait for the
/// drain, where the dict's body runs at level 2). That is why s32 splits one node earlier when R
/// shares the chain's class: R was given new names after ~29 instances existed.
protocol RefcountCascading {
    /// What deallocation reports (the heap's events; nothing for the dry run).
    associatedtype Events

    /// `Py_DECREF` without the dealloc: true when that was the last reference.
    mutating func dropsLastReference(_ slot: Slot) -> Bool
    /// `subtype_dealloc` up to the fields: untrack, finalizer, weakrefs. The object is dead.
    mutating func beginDeallocation(_ slot: Slot, _ events: inout Events)
    /// Whether the object's fields live in its own `__dict__` (released by `dict_dealloc`).
    func releasesThroughDict(_ slot: Slot) -> Bool
    /// The object's fields in release (key) order.
    func fieldCount(_ slot: Slot) -> Int
    func fieldTarget(_ slot: Slot, _ i: Int) -> Slot
    /// The slot and its fields go back to their pools (the targets' references are the
    /// cascade's to drop).
    mutating func finishDeallocation(_ slot: Slot)
    /// Buffers kept between cascades, to avoid an allocation per cascade.
    var cascadeScratch: CascadeScratch { get set }
}

/// The explicit recursion stack and the trashcan's `trash_delete_later` list.
struct CascadeScratch: Sendable {
    /// A deallocation in progress: its next field to release and its trashcan nesting level.
    var stack: [(slot: Slot, next: UInt16, level: UInt8)] = []
    /// `trash_delete_later`, drained last in, first out: objects at refcount 0 whose
    /// deallocation has not begun, or (`dictOnly`) the own dict of one whose has, its fields
    /// still to release.
    var deleteLater: [(slot: Slot, dictOnly: Bool)] = []
}

enum Trashcan {
    /// `_PyTrash_UNWIND_LEVEL` (3.11 Objects/object.c): BEGIN defers at this nesting or deeper.
    static let unwindLevel = 50
    /// `_PyTrash_thread_destroy_chain` runs each drained dealloc at nesting 1, so its body at 2.
    static let drainLevel = 2
}

extension RefcountCascading {
    /// Drops one strong reference from outside any deallocation; at zero the object is
    /// deallocated at once, with its cascade.
    @inline(__always)
    mutating func decref(_ slot: Slot, _ events: inout Events) {
        if dropsLastReference(slot) { deallocate(slot, &events) }
    }

    /// The object's count reached zero at nesting 0: it runs at level 1.
    mutating func deallocate(_ root: Slot, _ events: inout Events) {
        deallocateInline(root, &events)
    }

    /// `deallocate`, inlined into a caller whose loop is mostly deaths (`PlainGarbageSweep`):
    /// a call per death there cost more than the death's bookkeeping.
    @inline(__always)
    mutating func deallocateInline(_ root: Slot, _ events: inout Events) {
        // Most deaths release at most one field: follow such a chain without the stack. Its
        // frames are all gone when its end defers, so the drain (the next object to run) would
        // pop that object at once: it continues at the drain's level.
        var slot = root
        var level = 1
        while true {
            beginDeallocation(slot, &events)
            let count = fieldCount(slot)
            if count > 1 || (count == 1 && releasesThroughDict(slot)) { break }
            let target: Slot? = count == 1 ? fieldTarget(slot, 0) : nil
            finishDeallocation(slot)
            guard let target, dropsLastReference(target) else { return }
            slot = target
            level = level >= Trashcan.unwindLevel ? Trashcan.drainLevel : level + 1
        }
        deallocateWithStack(slot, level: level, &events)
    }

    /// The general cascade from an object (already begun) with several fields, at `level`,
    /// then the drain of whatever the trashcan deferred.
    private mutating func deallocateWithStack(_ root: Slot, level: Int, _ events: inout Events) {
        var scratch = cascadeScratch
        cascadeScratch = CascadeScratch()  // keep the buffers uniquely referenced while they grow
        scratch.stack.removeAll(keepingCapacity: true)
        push(root, level: level, &scratch)
        while true {
            while let (slot, next, level) = scratch.stack.last {
                let count = fieldCount(slot)
                guard Int(next) < count else {
                    scratch.stack.removeLast()
                    finishDeallocation(slot)
                    continue
                }
                let target = fieldTarget(slot, Int(next))
                if Int(next) + 1 == count {
                    scratch.stack.removeLast()
                    finishDeallocation(slot)
                } else {
                    scratch.stack[scratch.stack.count - 1].next = next + 1
                }
                guard dropsLastReference(target) else { continue }
                // `_PyTrash_begin` sees the nesting of the dealloc releasing the field: the
                // object's, or its dict's one level deeper.
                if Int(level) >= Trashcan.unwindLevel {
                    scratch.deleteLater.append((target, false))
                } else {
                    beginDeallocation(target, &events)
                    push(target, level: Int(level) + 1, &scratch)
                }
            }
            // The outermost `Py_TRASHCAN_END`: nesting is back at 0, drain.
            guard let (deferred, dictOnly) = scratch.deleteLater.popLast() else { break }
            if dictOnly {
                // The dict's body runs at the drain's level: its values' targets see it.
                scratch.stack.append((deferred, 0, UInt8(Trashcan.drainLevel)))
            } else {
                beginDeallocation(deferred, &events)
                push(deferred, level: Trashcan.drainLevel, &scratch)
            }
        }
        cascadeScratch = scratch
    }

    /// A begun object whose body runs at `level`. A frame's level is the nesting its fields'
    /// targets see: the object's own, or for an own dict one more (`dict_dealloc`'s BEGIN),
    /// unless the object runs at 50, where the dict itself is deferred.
    private func push(_ slot: Slot, level: Int, _ scratch: inout CascadeScratch) {
        guard releasesThroughDict(slot), fieldCount(slot) > 0 else {
            scratch.stack.append((slot, 0, UInt8(level)))
            return
        }
        if level >= Trashcan.unwindLevel {
            scratch.deleteLater.append((slot, true))
        } else {
            scratch.stack.append((slot, 0, UInt8(level + 1)))
        }
    }
}
