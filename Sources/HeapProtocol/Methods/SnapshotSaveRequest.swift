import HeapCore
import JSONRPC

/// `snapshot.save {name}` → `{name, objects, bytes, created, replaced}`: remembers which objects
/// are alive now (live garbage included; the collector does not run), with their types and
/// sizes, for `snapshot.diff` and `snapshot.leaks`. Not a copy of the heap: about 3 bytes per
/// live object. A name already saved is replaced (`replaced: true`). With a data directory the
/// snapshot is a file and survives restarts; under `--memory` it lasts as long as the daemon.
/// Errors: a bad name (-32602), 64 snapshots already saved (-32003), the disk (-32012 when full).
public struct SnapshotSaveRequest: HeapMethod {
    public static let name = "snapshot.save"
    public var name: String

    public init(name: String) { self.name = name }

    public init(params p: ParamsReader) throws(RPCError) {
        name = try p.snapshotName("name")
    }

    public var params: JSONValue? { ["name": .string(name)] }

    public struct Result: HeapResult {
        public var snapshot: SnapshotSummary
        public var replaced: Bool

        public init(snapshot: SnapshotSummary, replaced: Bool) {
            self.snapshot = snapshot
            self.replaced = replaced
        }

        public func write(to o: JSONObjectWriter) {
            snapshot.write(to: o)
            o.set("replaced", replaced)
        }
    }
}

/// A saved snapshot as `snapshot.save` and `snapshot.list` show it.
public struct SnapshotSummary: Sendable {
    public var name: String
    /// Seconds since 1970 when it was taken.
    public var created: Double
    public var objects: Int
    public var bytes: UInt64
    /// What keeping it costs: its file's size (or, under `--memory`, its encoded size).
    public var storedBytes: Int

    public init(name: String, created: Double, objects: Int, bytes: UInt64, storedBytes: Int) {
        self.name = name
        self.created = created
        self.objects = objects
        self.bytes = bytes
        self.storedBytes = storedBytes
    }

    public func write(to o: JSONObjectWriter) {
        o.set("name", name)
        o.set("objects", objects)
        o.set("bytes", bytes)
        o.set("created", created)
        o.set("stored_bytes", storedBytes)
    }
}
