import ArgumentParser
import HeapProtocol
import JSONRPC

// Leak hunting over the heap graph (SPEC §5): why is it alive, cycles, retained sizes, types.

/// A root holder as people read it: `session heapctl-alice`, `root cache`, `gc.garbage`.
private func holderText(_ root: JSONValue?) -> String {
    switch root?["kind"]?.stringValue {
    case "session":
        root?["name"]?.stringValue.map { "session \($0)" } ?? "anonymous session #\(Pretty.int(root?["session"]))"
    case "root": "root \(root?["name"]?.stringValue ?? "?")"
    case "permanent": "permanent generation (gc.freeze)"
    case "garbage": "gc.garbage"
    default: "?"
    }
}

private func bytesText(_ v: JSONValue?) -> String { TextTable.bytes(v?.intValue ?? 0) }

struct Why: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Why is this object alive: shortest paths from the roots (sessions, roots, frozen, gc.garbage).")
    @OptionGroup var options: GlobalOptions
    @Argument(transform: ObjectIDArgument.parse) var id: Int64
    @Option(help: "Paths from up to this many distinct holders.") var limit: Int = 5

    func run() throws {
        try options.run(PathRequest.name, ["id": .int(id), "limit": .int(Int64(limit))]) { r in
            let paths = r["paths"]?.arrayValue ?? []
            guard r["reachable"]?.boolValue == true else {
                return "object \(Pretty.int(r["id"])) is not reachable from any root: only a cycle keeps it alive "
                    + "(the collector would free it; see `heapctl cycles \(Pretty.int(r["id"]))`)"
            }
            var table = TextTable([("DISTANCE", .right), ("HELD BY", .left), ("PATH", .left)])
            for p in paths {
                let ids = (p["ids"]?.arrayValue ?? []).map { Pretty.int($0) }
                let fields = (p["fields"]?.arrayValue ?? []).map { $0.stringValue ?? "?" }
                var text = ids.first ?? "?"
                for (f, next) in zip(fields, ids.dropFirst()) { text += " .\(f) → \(next)" }
                table.append([String(fields.count), holderText(p["root"]), text])
            }
            return table.text
        }
    }
}

struct Cycles: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Reference cycles (strongly connected components), largest first, garbage included.")
    @OptionGroup var options: GlobalOptions
    @Argument(help: "Only the cycle holding this object.", transform: ObjectIDArgument.parse) var id: Int64?
    @Option var limit: Int = 20

    func run() throws {
        var params: [(String, JSONValue)] = [("limit", .int(Int64(limit)))]
        if let id { params.append(("id", .int(id))) }
        try options.run(CyclesRequest.name, .object(params)) { r in
            let components = r["components"]?.arrayValue ?? []
            if components.isEmpty { return id.map { "object \($0) is in no cycle" } ?? "no cycles" }
            var table = TextTable([("OBJECTS", .right), ("SIZE", .right), ("IDS", .left)])
            for c in components {
                let ids = c["ids"]?.arrayValue ?? []
                let shown =
                    ids.prefix(12).map { Pretty.int($0) }.joined(separator: ", ")
                    + (ids.count > 12 ? ", …" : "")
                table.append([String(ids.count), bytesText(c["bytes"]), shown])
            }
            return table.text
        }
    }
}

struct Retained: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Retained sizes (dominators): the biggest retainers, or what one object keeps alive.")
    @OptionGroup var options: GlobalOptions
    @Argument(help: "One object (default: the top retainers of the heap).", transform: ObjectIDArgument.parse) var id:
        Int64?
    @Option var limit: Int = 20

    func run() throws {
        var params: [(String, JSONValue)] = [("limit", .int(Int64(limit)))]
        if let id { params.append(("id", .int(id))) }
        try options.run(DominatorsRequest.name, .object(params)) { r in
            if id != nil {
                guard r["reachable"]?.boolValue == true else {
                    return "object \(Pretty.int(r["id"])) is not reachable from any root (only a cycle keeps it)"
                }
                let idom = r["idom"].flatMap { $0.isNull ? nil : Pretty.int($0) }
                return "object \(Pretty.int(r["id"])): retains \(Pretty.int(r["retained_count"])) objects, "
                    + "\(bytesText(r["retained_bytes"])); "
                    + "immediate dominator: \(idom.map { "object \($0)" } ?? "the roots")"
            }
            var table = TextTable([
                ("ID", .right), ("TYPE", .left), ("RETAINED", .right), ("OBJECTS", .right),
                ("IDOM", .left),
            ])
            for e in r["top"]?.arrayValue ?? [] {
                let idom = e["idom"].flatMap { $0.isNull ? nil : Pretty.int($0) } ?? "(roots)"
                table.append([
                    Pretty.int(e["id"]), e["type"]?.stringValue ?? "?", bytesText(e["retained_bytes"]),
                    Pretty.int(e["retained_count"]), idom,
                ])
            }
            return table.text
        }
    }
}

struct Histogram: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Live objects by type: count and bytes, most bytes first.")
    @OptionGroup var options: GlobalOptions
    // Not `--session`: that global option names the session heapctl runs in.
    @Option(name: .customLong("held-by"), help: "Only what this named session holds.") var session: String?
    @Option(help: "Only this generation: 0, 1, 2 or permanent.") var generation: String?
    @Flag(help: "With --held-by: what only that session keeps alive (what closing it would free).")
    var retained = false
    @Option(help: "Group by type (default) or by allocation site (tracemalloc's statistics by line).")
    var by: String = "type"

    func run() throws {
        guard by == "type" || by == "site" else { throw ValidationError("--by: type or site, got \(by)") }
        if by == "site" { return try runBySite() }
        var params: [(String, JSONValue)] = []
        if let session { params.append(("session", .string(session))) }
        if retained { params.append(("retained", .bool(true))) }
        if let generation {
            params.append(("generation", Int64(generation).map { .int($0) } ?? .string(generation)))
        }
        try options.run(HistogramRequest.name, .object(params)) { r in
            var table = TextTable([("COUNT", .right), ("SIZE", .right), ("TYPE", .left)])
            var count: Int64 = 0
            var bytes: Int64 = 0
            for t in r["types"]?.arrayValue ?? [] {
                count += t["count"]?.intValue ?? 0
                bytes += t["bytes"]?.intValue ?? 0
                table.append([Pretty.int(t["count"]), bytesText(t["bytes"]), t["type"]?.stringValue ?? "?"])
            }
            table.append([String(count), TextTable.bytes(bytes), "(total)"])
            return table.text
        }
    }

    private func runBySite() throws {
        try options.run(HistogramRequest.name, .object([("by", .string("site"))])) { r in
            var table = TextTable([("COUNT", .right), ("SIZE", .right), ("SITE", .left)])
            for s in r["sites"]?.arrayValue ?? [] {
                table.append([Pretty.int(s["count"]), bytesText(s["bytes"]), s["site"]?.stringValue ?? "(no site)"])
            }
            return table.text
        }
    }
}
