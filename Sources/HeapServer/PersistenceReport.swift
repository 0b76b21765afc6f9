import HeapStore
import JSONRPC

/// The `persistence` section of `stats`.
enum PersistenceReport {
    static func json(_ store: HeapStore?) -> JSONValue {
        guard let store else { return ["mode": "memory"] }
        var members: [(String, JSONValue)] = [("mode", "disk")]
        for (k, v) in store.state() { members.append((k, Int64(v).map { .int($0) } ?? .string(v))) }
        let r = store.recovery
        members.append(("recovered", [
            "objects": .int(Int64(r.objects)), "replayed_operations": .int(Int64(r.replayedOperations)),
            "dropped_torn_bytes": .int(Int64(r.droppedTornBytes)), "seconds": .double(Double.binaryRounded(r.seconds)),
        ]))
        return .object(members)
    }
}
