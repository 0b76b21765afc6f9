/// The order `referrers` and `inspect` list holders in: by generation, then id (a documented
/// deviation from CPython's list order: see ``Heap/referrers(of:index:)``). The lists are found
/// inside the heap's lock and can be put in order after it: for an object with a million
/// holders the sort took 49 ms of the 53 the request held the lock.
enum HolderOrder {
    /// Generation above the id's 53 bits: one integer that sorts as (generation, id).
    static func key(generation: Int, id: ObjectID) -> UInt64 { UInt64(generation) << 53 | id.raw }
    static func id(_ key: UInt64) -> ObjectID { ObjectID(raw: key & (1 << 53 - 1)) }
}

/// `referrers`' holders as found, not yet in order (``HolderOrder``).
public struct UnorderedReferrers: Sendable {
    let keys: [UInt64]

    public var count: Int { keys.count }
    public func inOrder() -> [ObjectID] { keys.sorted().map(HolderOrder.id) }
}

/// `inspect`'s answer with its holders not yet in order (``HolderOrder``): the rest is final.
public struct UnorderedInspection: Sendable {
    let rest: ObjectInspection
    /// Each holder's key, with where the names of its fields that hold the object (in field
    /// order) are in `fieldNames`.
    let holders: [(key: UInt64, fields: Range<Int32>)]
    let fieldNames: [String]

    public var holderCount: Int { holders.count }

    public func inOrder() -> ObjectInspection {
        var inspection = rest
        inspection.referrers.reserveCapacity(holders.count)
        inspection.heldByFields.reserveCapacity(fieldNames.count)
        for (key, fields) in holders.sorted(by: { $0.key < $1.key }) {
            let id = HolderOrder.id(key)
            inspection.referrers.append(id)
            for name in fieldNames[Int(fields.lowerBound)..<Int(fields.upperBound)] {
                inspection.heldByFields.append(ObjectInspection.FieldHolder(object: id, field: name))
            }
        }
        return inspection
    }
}
