/// Index of an interned type name.
typealias TypeID = UInt32

/// Interned type names and, per type, the table of field names in first-use order.
///
/// A type is a (name, finalizer) pair: in CPython `__del__` belongs to the class, so objects of
/// one name with and without a finalizer are two classes with two shared-keys tables (as the
/// differential harness builds them). Both show under the one name (histogram rows merge).
///
/// CPython 3.11 keeps instance attributes in a class-wide shared-keys table and releases them in
/// that table's order when an instance dies (CPYTHON-GC.md §4.1 step 5). Each type here keeps the
/// same table; an object's fields store the key's index and stay sorted by it, so releasing them
/// in order is a plain walk.
struct TypeRegistry: Sendable {
    struct Entry: Sendable {
        let name: String
        /// Every field name used on the type, by key index. The first `sharedCount` are the
        /// class's shared keys; later ones were only ever used by objects with their own dict.
        var keys: [String] = []
        var keyIndex: [String: UInt32] = [:]
        /// How many of `keys` are in CPython's shared-keys table.
        var sharedCount = 0
        /// The shared-keys table's `dk_usable`: starts at `sharedKeysMax`, drops by one per new
        /// shared name and per instance created (down to 1); at 0 no new name fits ever again.
        var usable = TypeRegistry.sharedKeysMax
        /// Whether the type (class) has `__del__`: part of its identity.
        var finalizer = false
    }

    /// `SHARED_KEYS_MAX_SIZE` (3.11 `Include/internal/pycore_dict.h`).
    static let sharedKeysMax = 30

    private(set) var entries: [Entry] = []
    /// Live objects of each type and the bytes they account for (the type histogram); kept
    /// apart from `entries` so the per-object update touches one flat array.
    private(set) var counts: [Int] = []
    private(set) var bytes: [UInt64] = []
    /// The same for the permanent generation alone. `histogram {generation}` reads it for
    /// generation 3 and subtracts it for the others (`Heap.typeHistogram`): the permanent
    /// generation is the one big list no collection bounds, and `gc.freeze` fills it in O(types).
    private(set) var frozenCounts: [Int] = []
    private(set) var frozenBytes: [UInt64] = []
    struct Key: Hashable, Sendable {
        let name: String
        let finalizer: Bool
    }
    private var index: [Key: TypeID] = [:]
    /// Types whose last live object died during the current operation; `forgetUnused` forgets
    /// those still without objects when the operation ends.
    private var unused: [TypeID] = []
    /// Ids of forgotten types, reused first (their entries hold an empty name meanwhile).
    private(set) var free: [TypeID] = []
    /// Type 0, `weakref`, is never forgotten: its field order is the harness's to set.
    static let permanent: TypeID = 0

    /// Live types (with an interned name), the bound of the registry's memory together with
    /// the free ids: at most the live objects' distinct types + 1.
    var liveTypeCount: Int { index.count }

    mutating func intern(_ name: String, finalizer: Bool = false) -> TypeID {
        let key = Key(name: name, finalizer: finalizer)
        if let id = index[key] { return id }
        let id: TypeID
        if let reused = free.popLast() {
            id = reused
            entries[Int(id)] = Entry(name: name)
        } else {
            id = appendEntry(name)
        }
        entries[Int(id)].finalizer = finalizer
        index[key] = id
        return id
    }

    /// A new type id at the end of the tables (counts and bytes 0).
    private mutating func appendEntry(_ name: String) -> TypeID {
        let id = TypeID(entries.count)
        entries.append(Entry(name: name))
        counts.append(0)
        bytes.append(0)
        frozenCounts.append(0)
        frozenBytes.append(0)
        return id
    }

    /// Forgets every type that has had no live object since its last one died in this
    /// operation: its name and its field-key table go. A later object of that name starts a
    /// new type with a new key table, as a Python program that re-creates a class gets a new
    /// class with new shared keys (CPYTHON-GC.md §4.1: the key order belongs to the class).
    /// Forgetting at the end of an operation, not at the death itself, keeps the key table of
    /// a type whose last instance dies inside an operation that then makes another (an
    /// allocation whose automatic collection frees the last one, an `apply` batch), as the
    /// Python caller holding the class would.
    mutating func forgetUnused() {
        guard !unused.isEmpty else { return }
        // In id order, so that a heap restored from a snapshot (which lists every type without
        // objects as unused) reuses the same ids as the heap that wrote it.
        for t in Set(unused).sorted() where counts[Int(t)] == 0 && !entries[Int(t)].name.isEmpty {
            index[Key(name: entries[Int(t)].name, finalizer: entries[Int(t)].finalizer)] = nil
            entries[Int(t)] = Entry(name: "")
            free.append(t)
        }
        unused.removeAll(keepingCapacity: true)
    }

    /// A snapshot's type, at the next id (a restore lists types in id order, so the ids held
    /// free by placeholders before it must not be reused for it). Nil if the name came before.
    mutating func restoreNamed(_ name: String, finalizer: Bool) -> TypeID? {
        let key = Key(name: name, finalizer: finalizer)
        guard index[key] == nil else { return nil }
        let id = appendEntry(name)
        entries[Int(id)].finalizer = finalizer
        index[key] = id
        return id
    }

    /// A snapshot's placeholder for a forgotten type id.
    mutating func restoreForgotten() {
        free.append(appendEntry(""))
    }

    func lookup(_ name: String, finalizer: Bool = false) -> TypeID? { index[Key(name: name, finalizer: finalizer)] }

    func name(_ type: TypeID) -> String { entries[Int(type)].name }

    /// The key index of a field name, if any object of the type ever used it.
    func key(_ name: String, of type: TypeID) -> UInt32? { entries[Int(type)].keyIndex[name] }

    /// `init_inline_values`: each instance created takes one from `dk_usable` while it is > 1.
    mutating func instanceCreated(_ type: TypeID) {
        if entries[Int(type)].usable > 1 { entries[Int(type)].usable -= 1 }
    }

    /// `insert_into_dictkeys`: the shared key index of `name`, interning it if the table has
    /// room; nil when it is not shared and no longer fits (the object then needs its own dict).
    /// Type `weakref` has no limit: heapd's weakref fields stand for `__slots__`, not a dict.
    mutating func sharedKey(_ name: String, of type: TypeID) -> UInt32? {
        if let k = entries[Int(type)].keyIndex[name] {
            return type == Self.permanent || Int(k) < entries[Int(type)].sharedCount ? k : nil
        }
        if type == Self.permanent { return internKey(name, of: type) }
        guard entries[Int(type)].usable > 0 else { return nil }
        // While names still fit, every interned name is shared (own dicts only start once
        // `usable` is 0, which lasts), so the new key index is `sharedCount`.
        entries[Int(type)].usable -= 1
        entries[Int(type)].sharedCount += 1
        return internKey(name, of: type)
    }

    func finalizer(of type: TypeID) -> Bool { entries[Int(type)].finalizer }

    func sharedState(of type: TypeID) -> (sharedCount: Int, usable: Int) {
        (entries[Int(type)].sharedCount, entries[Int(type)].usable)
    }

    /// A snapshot's shared-keys state for a restored type.
    mutating func restoreShared(_ type: TypeID, sharedCount: Int, usable: Int) {
        entries[Int(type)].sharedCount = sharedCount
        entries[Int(type)].usable = usable
    }

    /// The key index of a field name, adding it to the type's table on first use.
    mutating func internKey(_ name: String, of type: TypeID) -> UInt32 {
        if let k = entries[Int(type)].keyIndex[name] { return k }
        let k = UInt32(entries[Int(type)].keys.count)
        entries[Int(type)].keys.append(name)
        entries[Int(type)].keyIndex[name] = k
        return k
    }

    func keyName(_ key: UInt32, of type: TypeID) -> String { entries[Int(type)].keys[Int(key)] }

    /// One more live object of `type`, of `size` bytes. The heap's quota check keeps its
    /// total within UInt64, and a type's bytes are part of it, so the sums cannot overflow.
    mutating func add(_ type: TypeID, size: UInt64) {
        counts[Int(type)] += 1
        bytes[Int(type)] += size
    }

    mutating func remove(_ type: TypeID, size: UInt64) {
        counts[Int(type)] -= 1
        bytes[Int(type)] -= size
        if counts[Int(type)] == 0 { noteUnused(type) }
    }

    /// Raw counts and bytes per type, for a sweep that does what `remove` does and calls
    /// `noteUnused` afterwards for each type it emptied.
    mutating func withRawHistogram<R>(_ body: (UnsafeMutablePointer<Int>, UnsafeMutablePointer<UInt64>) -> R) -> R {
        counts.withUnsafeMutableBufferPointer { c in
            bytes.withUnsafeMutableBufferPointer { b in body(c.baseAddress!, b.baseAddress!) }
        }
    }

    mutating func noteUnused(_ type: TypeID) {
        if type != Self.permanent { unused.append(type) }
    }

    mutating func resize(_ type: TypeID, from old: UInt64, to new: UInt64) {
        bytes[Int(type)] = bytes[Int(type)] - old + new
    }

    // MARK: the permanent generation's share

    /// `gc.freeze`: every live object is in the permanent generation now.
    mutating func freezeAll() {
        frozenCounts = counts
        frozenBytes = bytes
    }

    /// `gc.unfreeze`: none is.
    mutating func unfreezeAll() {
        frozenCounts = [Int](repeating: 0, count: counts.count)
        frozenBytes = [UInt64](repeating: 0, count: counts.count)
    }

    /// A frozen object of `type` died (after `remove`).
    mutating func removeFrozen(_ type: TypeID, size: UInt64) {
        frozenCounts[Int(type)] -= 1
        frozenBytes[Int(type)] -= size
    }

    mutating func resizeFrozen(_ type: TypeID, from old: UInt64, to new: UInt64) {
        frozenBytes[Int(type)] = frozenBytes[Int(type)] - old + new
    }

    /// One more frozen object, counted while restoring a snapshot (from zero).
    mutating func restoreFrozen(_ type: TypeID, size: UInt64) {
        frozenCounts[Int(type)] += 1
        frozenBytes[Int(type)] += size
    }

    /// A snapshot's counts, as they were written.
    mutating func restoreCounts(_ type: TypeID, count: Int, bytes total: UInt64) {
        counts[Int(type)] = count
        bytes[Int(type)] = total
        if count == 0 { noteUnused(type) }
    }
}
