import ArgumentParser
import HeapProtocol
import JSONRPC

/// `name=id` pairs from the command line (`name=null` or `name=` deletes, in `set`).
func parseFields(_ pairs: [String], allowNull: Bool) throws -> JSONValue {
    var members: [(String, JSONValue)] = []
    for pair in pairs {
        guard let eq = pair.firstIndex(of: "="), eq != pair.startIndex else {
            throw ValidationError("field '\(pair)' must look like name=ID")
        }
        let name = String(pair[..<eq])
        let value = String(pair[pair.index(after: eq)...])
        if allowNull && (value.isEmpty || value == "null") {
            members.append((name, .null))
        } else if let id = Int64(value), id > 0 {
            members.append((name, .int(id)))
        } else {
            throw ValidationError("field '\(name)': '\(value)' is not an object id\(allowNull ? " or null" : "")")
        }
    }
    return .object(members)
}

func parseJSON(_ text: String, what: String) throws -> JSONValue {
    do { return try JSONCodec.parse(text) } catch { throw ValidationError("\(what) is not valid JSON: \(error)") }
}

struct Allocate: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Allocate an object (refcount 1, held by your session).")
    @OptionGroup var options: GlobalOptions
    @Argument(help: "Type (class) name.") var type: String
    @Argument(help: "Fields as name=ID.") var fields: [String] = []
    @Option(help: "Data, as JSON.") var data: String?
    @Option(help: "Bytes the object accounts for (default: its data's length).") var size: Int?
    @Flag(help: "The type has __del__: a finalize event precedes its death.") var finalizer = false
    @Option(help: "Where it is allocated (file:line, a function): shown by inspect, grouped by histogram --by site.")
    var site: String?

    func run() throws {
        var params: [(String, JSONValue)] = [("type", .string(type))]
        if let site { params.append(("site", .string(site))) }
        if !fields.isEmpty { params.append(("fields", try parseFields(fields, allowNull: false))) }
        if let data { params.append(("data", try parseJSON(data, what: "--data"))) }
        if let size { params.append(("size", .int(Int64(size)))) }
        if finalizer { params.append(("finalizer", true)) }
        try options.run(AllocateRequest.name, .object(params)) { "\(Pretty.int($0["id"]))" }
    }
}

struct Ref: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Take one more reference to an object.")
    @OptionGroup var options: GlobalOptions
    @Argument(transform: ObjectIDArgument.parse) var id: Int64
    func run() throws {
        try options.run(RefRequest.name, ["id": .int(id)]) {
            "object \(Pretty.int($0["id"])): refcount \(Pretty.int($0["refcount"]))"
        }
    }
}

struct Unref: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Drop a reference your session holds (like `del x`).")
    @OptionGroup var options: GlobalOptions
    @Argument(transform: ObjectIDArgument.parse) var id: Int64
    func run() throws {
        try options.run(UnrefRequest.name, ["id": .int(id)]) { r in
            let freed = Pretty.freed(r)
            return "object \(Pretty.int(r["id"])): refcount \(Pretty.int(r["refcount"]))"
                + (freed.isEmpty ? "" : "; \(freed)")
        }
    }
}

struct SetFields: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "set", abstract: "Set fields (name=ID; name=null deletes) and/or data.")
    @OptionGroup var options: GlobalOptions
    @Argument(transform: ObjectIDArgument.parse) var id: Int64
    @Argument(help: "Fields as name=ID or name=null.") var fields: [String] = []
    @Option(help: "New data, as JSON (null removes it).") var data: String?
    @Option(help: "New size in bytes.") var size: Int?

    func run() throws {
        var params: [(String, JSONValue)] = [("id", .int(id))]
        if !fields.isEmpty { params.append(("fields", try parseFields(fields, allowNull: true))) }
        if let data { params.append(("data", try parseJSON(data, what: "--data"))) }
        if let size { params.append(("size", .int(Int64(size)))) }
        try options.run(SetRequest.name, .object(params)) { r in
            var lines = [
                "object \(Pretty.int(r["id"])): \(r["type"]?.stringValue ?? "freed")  refcount "
                    + "\(Pretty.int(r["refcount"]))"
            ]
            lines += Pretty.fields(r["fields"])
            let freed = Pretty.freed(r)
            if !freed.isEmpty { lines.append(freed) }
            return lines.joined(separator: "\n")
        }
    }
}

struct Get: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Show an object: type, size, data, fields.")
    @OptionGroup var options: GlobalOptions
    @Argument(transform: ObjectIDArgument.parse) var id: Int64
    func run() throws { try options.run(GetRequest.name, ["id": .int(id)], human: Pretty.object) }
}

struct Weakref: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Create a weak reference to an object (held by your session).")
    @OptionGroup var options: GlobalOptions
    @Argument(transform: ObjectIDArgument.parse) var id: Int64
    @Argument(help: "Fields of the weakref object itself (what a callback closure captures), name=ID.") var fields:
        [String] = []
    @Flag(help: "Send a weakref.callback event when the referent dies.") var callback = false
    func run() throws {
        var params: [(String, JSONValue)] = [("id", .int(id)), ("callback", .bool(callback))]
        if !fields.isEmpty { params.append(("fields", try parseFields(fields, allowNull: false))) }
        try options.run(WeakrefRequest.name, .object(params)) { "\(Pretty.int($0["id"]))" }
    }
}

struct Inspect: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Everything about an object: refcount by holder, referrers, generation.")
    @OptionGroup var options: GlobalOptions
    @Argument(transform: ObjectIDArgument.parse) var id: Int64
    func run() throws { try options.run(InspectRequest.name, ["id": .int(id)], human: Pretty.inspect) }
}

struct Referrers: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Objects whose fields hold this one (gc.get_referrers).")
    @OptionGroup var options: GlobalOptions
    @Argument(transform: ObjectIDArgument.parse) var id: Int64
    func run() throws { try options.run(ReferrersRequest.name, ["id": .int(id)]) { Pretty.ids($0["referrers"]) } }
}

struct Referents: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Objects this one's fields hold (gc.get_referents).")
    @OptionGroup var options: GlobalOptions
    @Argument(transform: ObjectIDArgument.parse) var id: Int64
    func run() throws { try options.run(ReferentsRequest.name, ["id": .int(id)]) { Pretty.ids($0["referents"]) } }
}

struct Objects: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List objects, by generation or type, paged (gc.get_objects).")
    @OptionGroup var options: GlobalOptions
    @Option(help: "0, 1, 2 or permanent.") var generation: String?
    @Option var type: String?
    @Option(name: .customLong("allocated-by"), help: "Only objects this session allocated: its id or name.")
    var allocatedBy: String?
    @Option(help: "Show objects after this one (the previous page's `next`).") var after: Int64?
    @Option var limit: Int = 100
    func run() throws {
        var params: [(String, JSONValue)] = [("limit", .int(Int64(limit)))]
        if let generation { params.append(("generation", Int64(generation).map { .int($0) } ?? .string(generation))) }
        if let type { params.append(("type", .string(type))) }
        if let after { params.append(("after", .int(after))) }
        if let allocatedBy {
            params.append(("session", Int64(allocatedBy).map { .int($0) } ?? .string(allocatedBy)))
        }
        try options.run(ObjectsRequest.name, .object(params)) { r in
            var lines = (r["objects"]?.arrayValue ?? []).map {
                "\(Pretty.int($0["id"]))  \($0["type"]?.stringValue ?? "?")  refcount "
                    + "\(Pretty.int($0["refcount"]))  size \(Pretty.int($0["size"]))"
            }
            if let next = r["next"], !next.isNull { lines.append("(more: --after \(Pretty.int(next)))") }
            return lines.isEmpty ? "(no objects)" : lines.joined(separator: "\n")
        }
    }
}

struct Apply: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run many ops in one request: heapctl apply '[[\"alloc\",\"Node\"],[\"set\",\"$0\",\"next\",7]]'.",
        discussion: """
            Ops: ["alloc", TYPE, SIZE?, SITE?], ["ref", ID], ["unref", ID], ["set", ID, FIELD, ID or null], \
            ["weakref", ID, CALLBACK?]; "$k" in place of an ID names op k's new object. Prints one \
            line per op (a failed op changed nothing; the others ran; exit 1 if any failed). With \
            --atomic, all or nothing: a failing op fails the whole request (exit 1).
            """)
    @OptionGroup var options: GlobalOptions
    @Argument(help: "The ops, as a JSON array of arrays.") var ops: String
    @Flag(help: "All or nothing.") var atomic = false

    func run() throws {
        let parsed = try parseJSON(ops, what: "ops")
        let names = (parsed.arrayValue ?? []).map { $0[0]?.stringValue ?? "?" }
        var params: [(String, JSONValue)] = [("ops", parsed)]
        if atomic { params.append(("atomic", true)) }
        var failed = false
        try options.run(ApplyRequest.name, .object(params)) { r in
            failed = (r["errors"]?.intValue ?? 0) > 0
            return Self.render(r, names: names)
        }
        if failed { throw ExitCode(1) }
    }

    /// One line per op (its index, name and result), then how many failed and were freed.
    static func render(_ r: JSONValue, names: [String]) -> String {
        var lines = (r["results"]?.arrayValue ?? []).enumerated().map { i, v in
            let name = i < names.count ? names[i] : "?"
            if let n = v.intValue { return "\(i) \(name): \(n)" }
            return "\(i) \(name): error \(Pretty.int(v["code"])): \(v["message"]?.stringValue ?? "")"
        }
        var summary = "\(lines.count) ops, \(Pretty.int(r["errors"])) failed"
        if let freed = r["freed"] { summary += ", \(Pretty.int(freed)) freed" }
        lines.append(summary)
        return lines.joined(separator: "\n")
    }
}
