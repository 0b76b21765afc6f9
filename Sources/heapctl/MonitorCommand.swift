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

    func run() throws {
        let c = try options.connect(anonymous: true)
        _ = try options.call(c, SubscribeRequest.name, ["events": ["monitor"]])
        if !options.json { output("monitoring \(options.socketPath) (ctrl-c to stop)") }
        var seen = 0
        while count.map({ seen < $0 }) ?? true {
            let note: (method: String, params: JSONValue)
            do { note = try c.nextNotification() } catch {
                printError("\(error)")
                throw ExitCode(3)
            }
            guard note.method == EventKind.monitor.rawValue else { continue }
            seen += 1
            output(options.json ? JSONCodec.encodeString(note.params) : Self.describe(note.params))
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
