import ArgumentParser
import HeapProtocol
import JSONRPC

struct Collect: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Run the cycle collector (gc.collect).")
    @OptionGroup var options: GlobalOptions
    @Argument(help: "Generation 0, 1 or 2.") var generation: Int = 2
    func run() throws {
        try options.run(CollectRequest.name, ["generation": .int(Int64(generation))], human: Pretty.collect)
    }
}

struct Stats: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Heap summary, in sections like Redis INFO.")
    @OptionGroup var options: GlobalOptions
    func run() throws { try options.run(StatsRequest.name, anonymous: true, human: Pretty.stats) }
}

struct Check: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Run the heap invariant checker.")
    @OptionGroup var options: GlobalOptions
    func run() throws {
        let c = try options.connect(anonymous: true)
        let r = try options.call(c, CheckRequest.name)
        if options.json {
            output(Pretty.json(r))
        } else {
            let problems = r["problems"]?.arrayValue?.compactMap(\.stringValue) ?? []
            output(
                problems.isEmpty
                    ? "ok: \(Pretty.int(r["objects"])) objects consistent" : problems.joined(separator: "\n"))
        }
        if r["ok"]?.boolValue != true { throw ExitCode(1) }
    }
}

struct Ping: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Check that the daemon answers.")
    @OptionGroup var options: GlobalOptions
    func run() throws { try options.run(PingRequest.name, anonymous: true) { _ in "pong" } }
}

struct Shutdown: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Stop the daemon.")
    @OptionGroup var options: GlobalOptions
    func run() throws { try options.run(ShutdownRequest.name, anonymous: true) { _ in "heapd is shutting down" } }
}

struct Root: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Named roots: global variables owned by the heap.",
        subcommands: [RootSet.self, RootGet.self, RootList.self])

    struct RootSet: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "set", abstract: "Bind NAME to ID (null deletes).")
        @OptionGroup var options: GlobalOptions
        @Argument var name: String
        @Argument(help: "Object id, or null to delete.") var id: String
        func run() throws {
            let target: JSONValue
            if id == "null" {
                target = .null
            } else if let n = Int64(id) {
                target = .int(n)
            } else {
                throw ValidationError("'\(id)' is not an object id or null")
            }
            try options.run(RootSetRequest.name, ["name": .string(name), "id": target]) { r in
                let freed = Pretty.freed(r)
                return "\(name) = \(r["id"]?.isNull == true ? "null" : Pretty.int(r["id"]))"
                    + (freed.isEmpty ? "" : "; \(freed)")
            }
        }
    }

    struct RootGet: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "get")
        @OptionGroup var options: GlobalOptions
        @Argument var name: String
        func run() throws { try options.run(RootGetRequest.name, ["name": .string(name)]) { Pretty.int($0["id"]) } }
    }

    struct RootList: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "list")
        @OptionGroup var options: GlobalOptions
        func run() throws {
            try options.run(RootListRequest.name, anonymous: true) { r in
                let lines = (r["roots"]?.arrayValue ?? []).map {
                    "\($0["name"]?.stringValue ?? "?") = \(Pretty.int($0["id"]))"
                }
                return lines.isEmpty ? "(no roots)" : lines.joined(separator: "\n")
            }
        }
    }
}

struct Session: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Client sessions (like Redis CLIENT LIST / CLIENT KILL).",
        subcommands: [SessionList.self, SessionClose.self])

    struct SessionList: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "list")
        @OptionGroup var options: GlobalOptions
        func run() throws {
            try options.run(SessionListRequest.name, anonymous: true) { r in
                (r["sessions"]?.arrayValue ?? []).map {
                    let name = $0["name"]?.stringValue ?? "(anonymous #\(Pretty.int($0["id"])))"
                    let state = $0["connected"]?.boolValue == true ? "connected" : "detached"
                    var lease = ""
                    if let seconds = $0["lease_s"]?.doubleValue {
                        let left = Format.seconds($0["lease_left_s"]?.doubleValue ?? 0)
                        lease = "  lease=\(Format.seconds(seconds)) left=\(left)"
                    }
                    return
                        "\(name)  \(state)  references=\(Pretty.int($0["references"])) "
                        + "objects=\(Pretty.int($0["objects"])) bytes=\(Pretty.int($0["bytes"])) "
                        + "scope_depth=\(Pretty.int($0["scope_depth"]))\(lease)"
                }.joined(separator: "\n")
            }
        }
    }

    struct SessionClose: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "close", abstract: "Close a named session (yours by default), dropping its references.")
        @OptionGroup var options: GlobalOptions
        @Argument var name: String?
        func run() throws {
            try options.run(SessionCloseRequest.name, ["name": .string(name ?? options.sessionName)], anonymous: true) {
                r in
                let freed = Pretty.freed(r)
                return "closed \(r["name"]?.stringValue ?? "?"): released \(Pretty.int(r["released"])) references"
                    + (freed.isEmpty ? "" : "; \(freed)")
            }
        }
    }
}

struct Scope: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Scopes (stack frames): references taken inside one are dropped when it exits.",
        subcommands: [ScopeEnter.self, ScopeExit.self])

    struct ScopeEnter: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "enter")
        @OptionGroup var options: GlobalOptions
        func run() throws { try options.run(ScopeEnterRequest.name) { "depth \(Pretty.int($0["depth"]))" } }
    }

    struct ScopeExit: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "exit")
        @OptionGroup var options: GlobalOptions
        func run() throws {
            try options.run(ScopeExitRequest.name) { r in
                let freed = Pretty.freed(r)
                return "depth \(Pretty.int(r["depth"]))" + (freed.isEmpty ? "" : "; \(freed)")
            }
        }
    }
}

struct GC: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gc", abstract: "The gc module: thresholds, debug flags, freeze, gc.garbage.",
        subcommands: [GCGet.self, GCSet.self, GCFreeze.self, GCUnfreeze.self, GCGarbageClear.self])

    static func render(_ r: JSONValue) -> String {
        let nums = { (k: String) in (r[k]?.arrayValue ?? []).map { Pretty.int($0) }.joined(separator: ", ") }
        return """
            enabled: \(r["enabled"]?.boolValue ?? false)
            threshold: (\(nums("threshold")))
            count: (\(nums("count")))
            debug: \((r["debug"]?.arrayValue ?? []).compactMap(\.stringValue).joined(separator: "|"))
            freeze_count: \(Pretty.int(r["freeze_count"]))
            garbage: \(Pretty.ids(r["garbage"]))
            """
    }

    struct GCGet: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "get")
        @OptionGroup var options: GlobalOptions
        func run() throws { try options.run(GCGetRequest.name, anonymous: true, human: GC.render) }
    }

    struct GCSet: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "set", abstract: "gc.enable/disable, set_threshold, set_debug.")
        @OptionGroup var options: GlobalOptions
        @Option(help: "true or false.") var enabled: Bool?
        @Option(parsing: .upToNextOption, help: "1 to 3 thresholds.") var threshold: [Int] = []
        @Option(parsing: .upToNextOption, help: "Debug flags: STATS COLLECTABLE UNCOLLECTABLE SAVEALL LEAK.") var debug:
            [String] = []
        @Flag(help: "Clear every debug flag.") var noDebug = false
        func run() throws {
            var params: [(String, JSONValue)] = []
            if let enabled { params.append(("enabled", .bool(enabled))) }
            if !threshold.isEmpty { params.append(("threshold", .array(threshold.map { .int(Int64($0)) }))) }
            if !debug.isEmpty || noDebug { params.append(("debug", .array(debug.map { .string($0) }))) }
            try options.run(GCSetRequest.name, .object(params), anonymous: true, human: GC.render)
        }
    }

    struct GCFreeze: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "freeze")
        @OptionGroup var options: GlobalOptions
        func run() throws {
            try options.run(GCFreezeRequest.name, anonymous: true) { "freeze_count: \(Pretty.int($0["freeze_count"]))" }
        }
    }

    struct GCUnfreeze: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "unfreeze")
        @OptionGroup var options: GlobalOptions
        func run() throws {
            try options.run(GCUnfreezeRequest.name, anonymous: true) {
                "freeze_count: \(Pretty.int($0["freeze_count"]))"
            }
        }
    }

    struct GCGarbageClear: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "garbage-clear", abstract: "del gc.garbage[:]")
        @OptionGroup var options: GlobalOptions
        func run() throws {
            try options.run(GCGarbageClearRequest.name, anonymous: true) { r in
                "cleared \(Pretty.int(r["cleared"]))" + (Pretty.freed(r).isEmpty ? "" : "; " + Pretty.freed(r))
            }
        }
    }
}
