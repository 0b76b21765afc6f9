/// Raw access to the object records and the field pool for the collector's hot loops
/// (update_refs, subtract_refs, move_unreachable), where the bounds and uniqueness checks of
/// array subscripts cost as much as the work itself. Valid only inside `Heap.withRecordView`.
struct RecordView {
    let records: UnsafeMutablePointer<ObjectRecord>
    let pool: UnsafePointer<FieldPool.Entry>

    @inline(__always) subscript(_ s: Slot) -> UnsafeMutablePointer<ObjectRecord> { records + Int(s) }

    @inline(__always) func target(_ s: Slot, _ i: UInt32) -> Slot {
        FieldPool.target(pool[Int(records[Int(s)].fieldsAt + i)])
    }

    @inline(__always) func append(_ node: Slot, to head: Slot) {
        let last = self[head].pointee.gcPrev
        self[node].pointee.gcPrev = last
        self[node].pointee.gcNext = head
        self[last].pointee.gcNext = node
        self[head].pointee.gcPrev = node
    }

    @inline(__always) func remove(_ node: Slot) {
        let prev = self[node].pointee.gcPrev
        let next = self[node].pointee.gcNext
        self[prev].pointee.gcNext = next
        self[next].pointee.gcPrev = prev
    }
}

extension Heap {
    /// Runs `body` with raw access to records and fields. `body` must not allocate objects,
    /// free them or grow the field pool.
    mutating func withRecordView<R>(_ body: (RecordView) -> R) -> R {
        table.records.withUnsafeMutableBufferPointer { recs in
            fieldPool.entries.withUnsafeBufferPointer { pool in
                body(RecordView(records: recs.baseAddress!, pool: pool.baseAddress ?? UnsafePointer(bitPattern: 8)!))
            }
        }
    }
}
