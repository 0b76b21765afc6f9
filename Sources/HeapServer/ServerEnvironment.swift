import Foundation
import HeapProtocol
import HeapStore
import JSONRPC

/// Fixed facts the dispatcher reports: the protocol document and when the daemon started.
/// A class: the dispatcher of every request refers to it, and copying a struct that holds an
/// array and a closure cost retains and releases on each request.
package final class ServerEnvironment: Sendable {
    let openRPCDocument: [UInt8]
    let started: ContinuousClock.Instant
    /// Persistence facts for `stats` (read without the heap's lock).
    let persistence: @Sendable () -> JSONValue
    /// The saved snapshots (`snapshot.*`), behind their own lock.
    let snapshots: SnapshotCatalog
    /// Whether `export` may write a file where a client says. The daemon does (a client that may
    /// use the socket may do anything the heap allows); the fuzzer's in-process server does not,
    /// so random inputs never write files on the machine that runs it.
    let writesFiles: Bool

    package init(
        openRPCDocument: [UInt8], started: ContinuousClock.Instant,
        persistence: @escaping @Sendable () -> JSONValue = { ["mode": "memory"] },
        snapshots: SnapshotCatalog = SnapshotCatalog(), writesFiles: Bool = true
    ) {
        self.openRPCDocument = openRPCDocument
        self.started = started
        self.persistence = persistence
        self.snapshots = snapshots
        self.writesFiles = writesFiles
    }

    func uptimeSeconds() -> Double {
        let d = started.duration(to: .now)
        return Double.binaryRounded(Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18)
    }

    /// The OpenRPC document shipped with the server (Protocol/heapd.openrpc.json).
    package static func bundledOpenRPCDocument() -> [UInt8] {
        guard let url = Bundle.module.url(forResource: "heapd.openrpc", withExtension: "json"),
            let data = try? Data(contentsOf: url)
        else {
            return Array(#"{"openrpc":"1.2.6","info":{"title":"heapd","version":"0"},"methods":[]}"#.utf8)
        }
        return Array(data)
    }
}
