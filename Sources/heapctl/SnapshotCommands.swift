import ArgumentParser
import Foundation
import HeapProtocol
import JSONRPC

// Snapshots and exact diffs (SPEC §5): save which objects are alive, then see exactly what was
// allocated and freed since, as DevTools' Comparison view and tracemalloc's compare_to.

struct Snapshot: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Save which objects are alive, and diff two moments exactly (new and freed objects, by type).",
        subcommands: [Save.self, List.self, Delete.self, Diff.self, Leaks.self])

    struct Save: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Remember which objects are alive now (replaces a snapshot of the same name).")
        @OptionGroup var options: GlobalOptions
        @Argument var name: String

        func run() throws {
            try options.run(SnapshotSaveRequest.name, ["name": .string(name)]) { r in
                "saved \(r["name"]?.stringValue ?? name): \(objects(r["objects"])), "
                    + "\(bytesText(r["bytes"]))"
                    + (r["replaced"]?.boolValue == true ? " (replaced the earlier one)" : "")
            }
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "The saved snapshots, oldest first.")
        @OptionGroup var options: GlobalOptions

        func run() throws {
            try options.run(SnapshotListRequest.name) { r in
                let snapshots = r["snapshots"]?.arrayValue ?? []
                if snapshots.isEmpty { return "(no snapshots)" }
                var table = TextTable([
                    ("NAME", .left), ("TAKEN", .left), ("OBJECTS", .right), ("SIZE", .right), ("STORED", .right),
                ])
                for s in snapshots {
                    let taken = Date(timeIntervalSince1970: s["created"]?.doubleValue ?? 0)
                    table.append([
                        s["name"]?.stringValue ?? "?", Format.clock(taken), Pretty.int(s["objects"]),
                        bytesText(s["bytes"]), bytesText(s["stored_bytes"]),
                    ])
                }
                return table.text
            }
        }
    }

    struct Delete: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Forget a saved snapshot.")
        @OptionGroup var options: GlobalOptions
        @Argument var name: String

        func run() throws {
            try options.run(SnapshotDeleteRequest.name, ["name": .string(name)]) { _ in "deleted \(name)" }
        }
    }

    struct Diff: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Exactly which objects were allocated and freed between two snapshots (or since one).")
        @OptionGroup var options: GlobalOptions
        @Argument(help: "The earlier snapshot.") var from: String
        @Argument(help: "The later snapshot (default: the heap now).") var to: String?
        @Option(help: "Most ids listed per side.") var limit: Int = 20

        func run() throws {
            var params: [(String, JSONValue)] = [("from", .string(from)), ("limit", .int(Int64(limit)))]
            if let to { params.append(("to", .string(to))) }
            try options.run(SnapshotDiffRequest.name, .object(params)) { r in
                let new = r["new"]
                let freed = r["freed"]
                var lines = [
                    "\(from) → \(to ?? "now"): \(Pretty.int(new?["count"])) new (\(bytesText(new?["bytes"]))), "
                        + "\(Pretty.int(freed?["count"])) freed (\(bytesText(freed?["bytes"])))"
                ]
                let rows = r["by_type"]?.arrayValue ?? []
                if !rows.isEmpty {
                    var table = TextTable([
                        ("TYPE", .left), ("NEW", .right), ("FREED", .right), ("Δ COUNT", .right), ("Δ SIZE", .right),
                    ])
                    for t in rows {
                        table.append([
                            t["type"]?.stringValue ?? "?", Pretty.int(t["new"]), Pretty.int(t["freed"]),
                            signed(t["count_delta"]?.intValue ?? 0), signedBytes(t["bytes_delta"]?.intValue ?? 0),
                        ])
                    }
                    lines.append(table.text)
                }
                lines.append("new ids: " + idList(new))
                lines.append("freed ids: " + idList(freed))
                return lines.joined(separator: "\n")
            }
        }
    }

    struct Leaks: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Objects allocated between two snapshots that are still alive at a third (or now).",
            discussion: """
                The three-snapshot technique: save s1, run the suspect operation, save s2, run it \
                again (save s3 or not); what the first run left behind is listed.
                """)
        @OptionGroup var options: GlobalOptions
        @Argument var first: String
        @Argument var second: String
        @Argument(help: "Default: the heap now.") var third: String?
        @Option(help: "Most ids listed.") var limit: Int = 20

        func run() throws {
            var params: [(String, JSONValue)] = [
                ("first", .string(first)), ("second", .string(second)), ("limit", .int(Int64(limit))),
            ]
            if let third { params.append(("third", .string(third))) }
            try options.run(SnapshotLeaksRequest.name, .object(params)) { r in
                let leaked = r["leaked"]
                var lines = [
                    "allocated between \(first) and \(second), still alive \(third.map { "at \($0)" } ?? "now"): "
                        + "\(objects(leaked?["count"])) (\(bytesText(leaked?["bytes"])))"
                ]
                let rows = r["by_type"]?.arrayValue ?? []
                if !rows.isEmpty {
                    var table = TextTable([("COUNT", .right), ("SIZE", .right), ("TYPE", .left)])
                    for t in rows {
                        table.append([Pretty.int(t["count"]), bytesText(t["bytes"]), t["type"]?.stringValue ?? "?"])
                    }
                    lines.append(table.text)
                    lines.append("ids: " + idList(leaked))
                }
                return lines.joined(separator: "\n")
            }
        }
    }
}

private func bytesText(_ v: JSONValue?) -> String { TextTable.bytes(v?.intValue ?? 0) }

/// `1 object`, `3 objects`.
private func objects(_ v: JSONValue?) -> String {
    let n = v?.intValue ?? 0
    return n == 1 ? "1 object" : "\(n) objects"
}

private func signed(_ n: Int64) -> String { n > 0 ? "+\(n)" : String(n) }

private func signedBytes(_ n: Int64) -> String {
    n > 0 ? "+" + TextTable.bytes(n) : n < 0 ? "-" + TextTable.bytes(n.magnitude > Int64.max ? .max : -n) : "0 B"
}

/// `3, 4, 9` or `(none)`, with `…` when the daemon cut the list.
private func idList(_ part: JSONValue?) -> String {
    let ids = (part?["ids"]?.arrayValue ?? []).map { Pretty.int($0) }
    if ids.isEmpty { return "(none)" }
    return ids.joined(separator: ", ") + (part?["truncated"]?.boolValue == true ? ", …" : "")
}
