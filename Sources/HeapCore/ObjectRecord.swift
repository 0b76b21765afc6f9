/// Slot index in the object table. Slots below `ObjectTable.reservedSlots` are list sentinels.
public typealias Slot = UInt32

/// Per-object bits, kept in one 16-bit word of the record.
struct ObjectFlags: OptionSet, Sendable {
    let rawValue: UInt16
    static let live = ObjectFlags(rawValue: 1 << 0)
    /// The type has `__del__`: a `finalize` event precedes the object's death.
    static let hasFinalizer = ObjectFlags(rawValue: 1 << 1)
    /// `gc.is_finalized`: set the first (and only) time the finalizer runs.
    static let finalized = ObjectFlags(rawValue: 1 << 2)
    static let isWeakref = ObjectFlags(rawValue: 1 << 3)
    static let weakrefHasCallback = ObjectFlags(rawValue: 1 << 4)
    static let hasData = ObjectFlags(rawValue: 1 << 5)
    /// Some weakref points at this object (its list lives in a side table).
    static let hasWeakrefs = ObjectFlags(rawValue: 1 << 6)
    /// The object has its own `__dict__` (CPython materialised one when a name no longer fit
    /// the class's shared keys): its fields sit in the pool in insertion order, not key order,
    /// and the dict is one more GC object (CPYTHON-GC.md §4.1 step 5).
    static let ownDict = ObjectFlags(rawValue: 1 << 7)
    /// That dict is GC-tracked: it got a value once, and no full collection found it empty
    /// since (`MAINTAIN_TRACKING`, `untrack_dicts`). `collect` counts it with its owner.
    static let dictTracked = ObjectFlags(rawValue: 1 << 8)
    static let explicitSize = ObjectFlags(rawValue: 1 << 9)
    /// `size` did not fit 32 bits and lives in a side table.
    static let bigSize = ObjectFlags(rawValue: 1 << 10)
    /// In the generations being collected, not yet found reachable (`PREV_MASK_COLLECTING`):
    /// while it is set, `gcPrev` holds the object's gc_refs, or, once `move_unreachable` set the
    /// object aside (its list code then the permanent generation's), its place in `unreachable`.
    static let collecting = ObjectFlags(rawValue: 1 << 11)
    /// Bits 12-15 hold the object's list code: which generation it is in is the code's
    /// (`ObjectTable+Generations.swift`), so that merging whole lists never visits objects.
    static let listCodeShift: UInt16 = 12
    static let listCodeMask: UInt16 = 0b1111 << 12
}

/// One object: 32 bytes (two per cache line). Everything variable-sized (fields, data, weakref lists) lives in pools
/// or side tables so the common object (a type, a couple of fields, no data) stays compact.
struct ObjectRecord: Sendable {
    /// Strong references from every holder: fields, sessions, roots, gc.garbage.
    var refcount: UInt32 = 0
    var type: TypeID = 0
    /// Intrusive doubly linked generation list (gcmodule.c's `_gc_prev` / `_gc_next`). As in
    /// gcmodule.c, `gcPrev` holds the collector's gc_refs while the object is `collecting`.
    var gcPrev: Slot = 0
    var gcNext: Slot = 0
    /// First entry of this object's block in the field pool (valid when fieldCount > 0).
    var fieldsAt: UInt32 = 0
    var fieldCount: UInt16 = 0
    var flags: ObjectFlags = []
    /// How often this slot was reused: the high part of the object's id.
    var reuse: UInt32 = 0
    /// Bytes the object accounts for (UInt32.max: see `ObjectTable.bigSizes`).
    var size: UInt32 = 0

    var listCode: UInt8 {
        get { UInt8((flags.rawValue & ObjectFlags.listCodeMask) >> ObjectFlags.listCodeShift) }
        set {
            flags = ObjectFlags(
                rawValue: (flags.rawValue & ~ObjectFlags.listCodeMask)
                    | (UInt16(newValue) << ObjectFlags.listCodeShift))
        }
    }
}
