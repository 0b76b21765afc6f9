import ArgumentParser
import Foundation
import HeapProtocol
import JSONRPC

/// `heapctl monitor`: every request the daemon runs, as it runs, as Redis's MONITOR.
struct Monitor: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show every request the daemon runs, with its session and time (like Redis MONITOR).")
    @OptionGroup var options: GlobalOptions
    @Option(help: "Exit after this many requests.") var count: Int?
    @Flag(help: "Exit (status 3) when the daemon goes away instead of waiting for it to come back.")
    var noReconnect = false

    func run() throws {
        try options.follow(["monitor"], banner: "monitoring", count: count, reconnect: !noReconnect) {
            method, params in
            guard method == EventKind.monitor.rawValue else { return false }
            output(options.json ? JSONCodec.encodeString(params) : Self.describe(params))
            return true
        }
    }

    /// `14:03:07.215 [#3 heapctl-root] allocate {"type":"Person"}`
    static func describe(_ p: JSONValue) -> String {
        let time = Format.clock(Date(timeIntervalSince1970: p["time"]?.doubleValue ?? 0))
        let session = p["session"]?.stringValue ?? "anonymous"
        let params = p["params"].map { " " + JSONCodec.encodeString($0) } ?? ""
        return "\(time) [#\(Pretty.int(p["connection"])) \(session)] \(p["method"]?.stringValue ?? "?")\(params)"
    }
}
