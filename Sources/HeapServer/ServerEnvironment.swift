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

    package init(
        openRPCDocument: [UInt8], started: ContinuousClock.Instant,
        persistence: @escaping @Sendable () -> JSONValue = { ["mode": "memory"] },
        snapshots: SnapshotCatalog = SnapshotCatalog()
    ) {
        self.openRPCDocument = openRPCDocument
        self.started = started
        self.persistence = persistence
        self.snapshots = snapshots
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
