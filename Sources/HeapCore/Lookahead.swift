import CPrefetch

/// `move_unreachable`'s view of the objects it will walk next. Once the walk has set objects
/// aside, it moves them back to the young list's tail as they prove reachable, and after the
/// list's first pass it walks them in that order, scattered over the table: following their
/// links, each record, its fields and its referents' counts would be cache misses taken one
/// after another. The objects moved back are also kept here in order, so the walk can ask the
/// CPU for what it will read a few objects ahead, and the misses overlap. Only hints: what the
/// walk does is unchanged.
struct Lookahead {
    /// How far ahead, in objects moved back, each read is asked for: a record first, then (that
    /// record in cache) its fields, then (those in cache) their referents' records.
    /// A miss costs hundreds of cycles; the walk spends tens per object.
    static let record = 12
    static let fields = 8
    static let referents = 4

    private var revived: [Slot] = []
    /// The walk's place in `revived`, once it reached the first object moved back.
    private var walked = -1
    /// What the walk can set aside, hence move back: room for all of them, made at the first.
    let room: Int

    init(room: Int) { self.room = room }

    /// An object set aside by the walk came back to the young list's tail.
    @inline(__always)
    mutating func revive(_ s: Slot) {
        if revived.capacity == 0 { revived.reserveCapacity(room) }
        revived.append(s)
    }

    /// Before the walk visits `s`.
    @inline(__always)
    mutating func prefetch(visiting s: Slot, _ v: RecordView) {
        if walked < 0 {
            guard !revived.isEmpty && revived[0] == s else { return }
            walked = 0
        } else {
            walked += 1
        }
        let i = walked
        revived.withUnsafeBufferPointer { q in
            if i + Self.record < q.count { heapd_prefetch(v[q[i + Self.record]]) }
            if i + Self.fields < q.count { heapd_prefetch(v.pool + Int(v[q[i + Self.fields]].pointee.fieldsAt)) }
            if i + Self.referents < q.count {
                let u = q[i + Self.referents]
                for f in 0..<UInt32(v[u].pointee.fieldCount) {
                    let t = v.target(u, f)
                    heapd_prefetch(v[t])
                }
            }
        }
    }
}
