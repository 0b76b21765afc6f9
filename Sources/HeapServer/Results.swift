import HeapCore
import JSONRPC

/// JSON shapes of results (documented in Protocol/heapd.openrpc.json).
enum Results {
    /// At most this many freed ids are listed in a reply; `freed_count` tells the rest.
    static let freedListLimit = 10_000

    static func fields(_ fields: [ObjectSnapshot.Field]) -> JSONValue {
        .object(fields.map { ($0.name, $0.target.json) })
    }

    static func data(_ bytes: [UInt8]?) -> JSONValue { bytes.map { .raw($0) } ?? .null }

    static func object(_ s: ObjectSnapshot) -> JSONValue {
        var members: [(String, JSONValue)] = [
            ("id", s.id.json), ("type", .string(s.type)), ("size", .int(Int64(s.size))),
            ("data", data(s.data)), ("fields", fields(s.fields)), ("refcount", .int(Int64(s.refcount))),
            ("finalizer", .bool(s.finalizer)),
        ]
        if s.isWeakref {
            members.append(("referent", s.referent?.json ?? .null))
            members.append(("callback", .bool(s.hasCallback)))
        }
        return .object(members)
    }

    /// Appends `freed` (and `freed_count` when the list was cut) to a result object.
    static func withFreed(_ base: [(String, JSONValue)], _ events: HeapEvents) -> JSONValue {
        var members = base
        members.append(("freed", .array(events.freedIDs.prefix(freedListLimit).map(\.json))))
        if events.freedCount > min(events.freedIDs.count, freedListLimit) {
            members.append(("freed_count", .int(Int64(events.freedCount))))
        }
        return .object(members)
    }

    static func collect(_ r: CollectResult) -> JSONValue {
        ["generation": .int(Int64(r.generation)), "collected": .int(Int64(r.collected)),
         "uncollectable": .int(Int64(r.uncollectable)), "unreachable": .int(Int64(r.unreachable)),
         "duration_ms": .double(r.durationMilliseconds)]
    }

    static func generation(_ g: Int) -> JSONValue { g == 3 ? "permanent" : .int(Int64(g)) }

    static func inspect(_ i: ObjectInspection) -> JSONValue {
        let s = i.object
        var members: [(String, JSONValue)] = [
            ("id", s.id.json), ("type", .string(s.type)), ("size", .int(Int64(s.size))),
            ("data", data(s.data)),
            ("refcount", .int(Int64(s.refcount))),
            ("getrefcount", .int(Int64(s.refcount + 1))),
            ("holders", [
                "fields": .array(i.heldByFields.map { ["object": $0.object.json, "field": .string($0.field)] }),
                "sessions": .array(i.heldBySessions.map {
                    ["session": .int(Int64($0.session.raw)), "name": $0.name.map { .string($0) } ?? .null,
                     "count": .int(Int64($0.count))]
                }),
                "roots": .array(i.heldByRoots.map { .string($0) }),
                "garbage": .int(Int64(i.heldByGarbage)),
            ]),
            ("fields", fields(s.fields)),
            ("referrers", .array(i.referrers.map(\.json))),
            ("referents", .array(i.referents.map(\.json))),
            ("generation", generation(i.generation)),
            ("tracked", .bool(i.tracked)),
            ("finalizer", .bool(s.finalizer)),
            ("finalized", .bool(i.finalized)),
            ("weakrefs", .array(i.weakrefs.map(\.json))),
        ]
        if s.isWeakref {
            members.append(("referent", s.referent?.json ?? .null))
            members.append(("callback", .bool(s.hasCallback)))
        }
        return .object(members)
    }

    static func gc(_ heap: Heap) -> JSONValue {
        let g = heap.gc
        return [
            "enabled": .bool(g.enabled),
            "threshold": .array(g.thresholds.map { .int(Int64($0)) }),
            "count": .array(g.counts.map { .int(Int64($0)) }),
            "stats": .array(g.stats.map {
                ["collections": .int(Int64($0.collections)), "collected": .int(Int64($0.collected)),
                 "uncollectable": .int(Int64($0.uncollectable))]
            }),
            "debug": .array(g.debug.names.map { .string($0) }),
            "freeze_count": .int(Int64(heap.freezeCount)),
            "garbage": .array(heap.garbageIDs.map(\.json)),
        ]
    }

    static func session(_ s: Heap.SessionSummary, connected: Bool, leaseLeft: Duration?) -> JSONValue {
        var members: [(String, JSONValue)] = [
            ("id", .int(Int64(s.id.raw))), ("name", s.name.map { .string($0) } ?? .null),
            ("connected", .bool(connected)), ("references", .int(Int64(s.references))),
            ("objects", .int(Int64(s.distinctObjects))), ("bytes", .int(Int64(clamping: s.bytes))),
            ("scope_depth", .int(Int64(s.scopeDepth))),
        ]
        if let lease = s.leaseSeconds {
            members.append(("lease_s", .double(lease)))
            let left = leaseLeft.map { Double($0.components.seconds) + Double($0.components.attoseconds) / 1e18 } ?? lease
            members.append(("lease_left_s", .double(Double.binaryRounded(max(0, left)))))
        }
        return .object(members)
    }
}
