import ArgumentParser
import HeapProtocol
import JSONRPC

/// `heapctl leaks`: leak candidates in one report, as Eclipse MAT's "leak suspects".
struct Leaks: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Leak candidates: the biggest retainers, what only cycles keep alive, and types that grew.",
        discussion: """
            With --since SNAPSHOT (see `heapctl snapshot save`), also the types with more objects \
            or bytes now than then.
            """)
    @OptionGroup var options: GlobalOptions
    @Option(help: "A snapshot to compare the heap now with.") var since: String?
    @Option(help: "Most entries per section.") var limit: Int = 10

    func run() throws {
        var params: [(String, JSONValue)] = [("limit", .int(Int64(limit)))]
        if let since { params.append(("since", .string(since))) }
        try options.run(LeaksRequest.name, .object(params)) { r in
            var sections: [String] = []
            let retainers = r["retainers"]?.arrayValue ?? []
            if retainers.isEmpty {
                sections.append("Biggest retainers: none (no root holds anything)")
            } else {
                var table = TextTable([("ID", .right), ("TYPE", .left), ("RETAINED", .right), ("OBJECTS", .right)])
                for e in retainers {
                    table.append([
                        Pretty.int(e["id"]), e["type"]?.stringValue ?? "?",
                        TextTable.bytes(e["retained_bytes"]?.intValue ?? 0), Pretty.int(e["retained_count"]),
                    ])
                }
                sections.append("Biggest retainers (what each alone keeps alive):\n" + table.text)
            }
            let unreachable = r["unreachable"]
            let count = unreachable?["count"]?.intValue ?? 0
            if count == 0 {
                sections.append("Unreachable: nothing (every live object is reachable from a root)")
            } else {
                var text = "Unreachable: \(count) object\(count == 1 ? "" : "s") "
                    + "(\(TextTable.bytes(unreachable?["bytes"]?.intValue ?? 0))), "
                    + "kept only by cycles until the next collection"
                let cycles = unreachable?["cycles"]?.arrayValue ?? []
                if !cycles.isEmpty {
                    var table = TextTable([("OBJECTS", .right), ("SIZE", .right), ("IDS", .left)])
                    for c in cycles {
                        let ids = c["ids"]?.arrayValue ?? []
                        let shown = ids.prefix(12).map { Pretty.int($0) }.joined(separator: ", ")
                        table.append([String(ids.count), TextTable.bytes(c["bytes"]?.intValue ?? 0),
                                      shown + (ids.count > 12 ? ", …" : "")])
                    }
                    text += ":\n" + table.text
                }
                sections.append(text)
            }
            if let growth = r["growth"] {
                let types = growth["types"]?.arrayValue ?? []
                let name = growth["since"]?.stringValue ?? "?"
                if types.isEmpty {
                    sections.append("Growing since \(name): nothing")
                } else {
                    var table = TextTable([("TYPE", .left), ("Δ COUNT", .right), ("Δ SIZE", .right)])
                    for t in types {
                        let dc = t["count_delta"]?.intValue ?? 0
                        let db = t["bytes_delta"]?.intValue ?? 0
                        table.append([
                            t["type"]?.stringValue ?? "?", dc > 0 ? "+\(dc)" : String(dc),
                            db > 0 ? "+" + TextTable.bytes(db) : db < 0 ? "-" + TextTable.bytes(-db) : "0 B",
                        ])
                    }
                    sections.append("Growing since \(name):\n" + table.text)
                }
            } else {
                sections.append("Growth: save a snapshot first (`heapctl snapshot save base`), then `heapctl leaks --since base`")
            }
            return sections.joined(separator: "\n\n")
        }
    }
}
