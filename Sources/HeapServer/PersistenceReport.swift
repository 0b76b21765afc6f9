import HeapStore
import JSONRPC

/// The `persistence` section of `stats`.
enum PersistenceReport {
    static func json(_ store: HeapStore?) -> JSONValue {
        guard let store else { return ["mode": "memory"] }
        var members: [(String, JSONValue)] = [("mode", "disk")]
        for (k, v) in store.state() {
            switch v {
            case .int(let n): members.append((k, .int(Int64(n))))
            case .string(let s): members.append((k, .string(s)))
            case .bool(let b): members.append((k, .bool(b)))
            }
        }
        let r = store.recovery
        members.append(
            (
                "recovered",
                [
                    "objects": .int(Int64(r.objects)), "replayed_operations": .int(Int64(r.replayedOperations)),
                    "dropped_torn_bytes": .int(Int64(r.droppedTornBytes)),
                    "seconds": .double(Double.binaryRounded(r.seconds)),
                ]
            ))
        return .object(members)
    }
}
