/// Index of an interned type name.
typealias TypeID = UInt32

/// Interned type names and, per type, the table of field names in first-use order.
///
/// CPython 3.11 keeps instance attributes in a class-wide shared-keys table and releases them in
/// that table's order when an instance dies (CPYTHON-GC.md §4.1 step 5). Each type here keeps the
/// same table; an object's fields store the key's index and stay sorted by it, so releasing them
/// in order is a plain walk.
struct TypeRegistry: Sendable {
    struct Entry: Sendable {
        let name: String
        var keys: [String] = []
        var keyIndex: [String: UInt32] = [:]
    }

    private(set) var entries: [Entry] = []
    /// Live objects of each type and the bytes they account for (the type histogram); kept
    /// apart from `entries` so the per-object update touches one flat array.
    private(set) var counts: [Int] = []
    private(set) var bytes: [UInt64] = []
    private var index: [String: TypeID] = [:]

    mutating func intern(_ name: String) -> TypeID {
        if let id = index[name] { return id }
        let id = TypeID(entries.count)
        entries.append(Entry(name: name))
        counts.append(0)
        bytes.append(0)
        index[name] = id
        return id
    }

    func lookup(_ name: String) -> TypeID? { index[name] }

    func name(_ type: TypeID) -> String { entries[Int(type)].name }

    /// The key index of a field name, if any object of the type ever used it.
    func key(_ name: String, of type: TypeID) -> UInt32? { entries[Int(type)].keyIndex[name] }

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
    }

    mutating func resize(_ type: TypeID, from old: UInt64, to new: UInt64) {
        bytes[Int(type)] = bytes[Int(type)] - old + new
    }

    /// A snapshot's counts, as they were written.
    mutating func restoreCounts(_ type: TypeID, count: Int, bytes total: UInt64) {
        counts[Int(type)] = count
        bytes[Int(type)] = total
    }
}
