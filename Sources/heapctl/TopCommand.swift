import ArgumentParser
import Foundation
import HeapClient
import HeapProtocol
import JSONRPC

/// `heapctl top`: a live view of the heap, refreshed in place (as htop or `redis-cli --stat`):
/// objects and bytes per generation, collections and requests per second, the biggest types,
/// the sessions. `--once` prints one frame (rates over one interval) for scripts.
struct Top: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "A live view of the heap (ctrl-c to quit).")
    @OptionGroup var options: GlobalOptions
    @Option(help: "Seconds between refreshes.") var interval: Double = 1
    @Flag(help: "Print one frame and exit.") var once = false

    func validate() throws {
        guard interval >= 0.1, interval <= 3600 else { throw ValidationError("--interval must be 0.1 to 3600 seconds") }
    }

    func run() throws {
        let c = try options.connect(anonymous: true)
        var previous = try Sample(c, options)
        let clearScreen = !once && isatty(1) != 0
        while true {
            usleep(useconds_t(interval * 1_000_000))
            let now = try Sample(c, options)
            let frame = Self.render(now, since: previous, socket: options.socketPath)
            output((clearScreen ? "\u{1B}[H\u{1B}[2J" : "") + frame)
            if once { return }
            previous = now
        }
    }

    /// What one refresh reads: `stats` and `session.list`, and when.
    struct Sample {
        var stats: JSONValue
        var sessions: [JSONValue]
        var at: Date

        init(_ c: HeapConnection, _ options: GlobalOptions) throws {
            stats = try options.call(c, StatsRequest.name)
            sessions = try options.call(c, SessionListRequest.name)["sessions"]?.arrayValue ?? []
            at = Date()
        }

        func collections() -> Int64 {
            (stats["generations"]?.arrayValue ?? []).reduce(0) { $0 + ($1["collections"]?.intValue ?? 0) }
        }
    }

    static func render(_ s: Sample, since p: Sample, socket: String) -> String {
        let seconds = max(s.at.timeIntervalSince(p.at), 0.001)
        func rate(_ now: Int64, _ before: Int64) -> String {
            Format.significant(Double(max(0, now - before)) / seconds)
        }
        let requests = rate(s.stats["requests"]?.intValue ?? 0, p.stats["requests"]?.intValue ?? 0)
        let collections = rate(s.collections(), p.collections())
        let st = s.stats
        var lines = [
            "heapd at \(socket)  up \(Format.seconds(st["uptime_s"]?.doubleValue ?? 0))  "
                + "\(requests) requests/s  \(collections) collections/s",
            "objects \(Pretty.int(st["objects"]))  bytes \(Format.bytes(st["bytes"]?.intValue ?? 0))  "
                + "roots \(Pretty.int(st["roots"]))  garbage \(Pretty.int(st["garbage"]))  "
                + "connections \(Pretty.int(st["connections"]))",
            "",
        ]
        let generations =
            (st["generations"]?.arrayValue ?? []).enumerated().map { i, g in
                [
                    String(i), Pretty.int(g["objects"]), "\(Pretty.int(g["count"]))/\(Pretty.int(g["threshold"]))",
                    Pretty.int(g["collections"]),
                ]
            } + [["permanent", Pretty.int(st["permanent"]), "-", "-"]]
        lines.append(Format.table(["generation", "objects", "count", "collections"], generations))
        let types = (st["types"]?.arrayValue ?? []).sorted {
            ($0["bytes"]?.intValue ?? 0) > ($1["bytes"]?.intValue ?? 0)
        }
        lines += [
            "",
            Format.table(
                ["type", "count", "bytes"],
                types.prefix(10).map {
                    [$0["type"]?.stringValue ?? "?", Pretty.int($0["count"]), Format.bytes($0["bytes"]?.intValue ?? 0)]
                }),
        ]
        lines += [
            "",
            Format.table(
                ["session", "connected", "references", "objects", "bytes"],
                s.sessions.prefix(10).map {
                    [
                        $0["name"]?.stringValue ?? "(anonymous #\(Pretty.int($0["id"])))",
                        $0["connected"]?.boolValue == true ? "yes" : "no", Pretty.int($0["references"]),
                        Pretty.int($0["objects"]),
                        Format.bytes($0["bytes"]?.intValue ?? 0),
                    ]
                }),
        ]
        return lines.joined(separator: "\n")
    }
}
