import ArgumentParser
import Foundation
import HeapClient
import HeapProtocol
import JSONRPC

struct Call: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Call any method: heapctl call METHOD '{\"param\": ...}'.")
    @OptionGroup var options: GlobalOptions
    @Argument var method: String
    @Argument(help: "Params, as a JSON object.") var params: String?
    @Flag(help: "Do not attach the named session.") var anonymous = false
    func run() throws {
        let p = try params.map { try parseJSON($0, what: "params") }
        let c = try options.connect(anonymous: anonymous)
        output(Pretty.json(try options.call(c, method, p)))
    }
}

/// Runs `METHOD [JSON]` lines in one session. `name = METHOD ...` binds the result's id to
/// `$name` for later lines. Blank lines and `#` comments are skipped.
struct Script: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run many calls from a file or stdin in one session.",
        discussion: """
            Each line is METHOD [JSON-PARAMS]; `a = allocate {"type":"Person"}` binds the new id \
            to $a for later lines. Stops at the first error unless --keep-going.
            """)
    @OptionGroup var options: GlobalOptions
    @Argument(help: "Script file (default: stdin).") var file: String?
    @Flag(help: "Continue after a failing line (exit 1 at the end).") var keepGoing = false

    func run() throws {
        let text: String
        if let file {
            guard let t = try? String(contentsOfFile: file, encoding: .utf8) else {
                throw ValidationError("cannot read \(file)")
            }
            text = t
        } else {
            text = String(decoding: FileHandle.standardInput.readDataToEndOfFile(), as: UTF8.self)
        }
        let c = try options.connect()
        var bindings: [String: Int64] = [:]
        var failed = false
        for (number, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = raw.trimmingCharacters(in: .whitespaces)
            if line.isEmpty || line.hasPrefix("#") { continue }
            do {
                let (name, method, params) = try Self.parse(line, bindings: bindings)
                let result = try c.call(method, params)
                if let name, let id = result["id"]?.intValue { bindings[name] = id }
                output(
                    options.json
                        ? JSONCodec.encodeString(result)
                        : "\(name.map { "\($0) = " } ?? "")\(method): \(JSONCodec.encodeString(result))")
            } catch let error as HeapClientError {
                if case .rpc(let e) = error {
                    printError("line \(number + 1): error \(e.code.rawValue): \(e.message)")
                    failed = true
                    if !keepGoing { throw ExitCode(1) }
                } else {
                    printError("\(error)")
                    throw ExitCode(3)
                }
            } catch let error as ValidationError {
                printError("line \(number + 1): \(error.message)")
                failed = true
                if !keepGoing { throw ExitCode(1) }
            }
        }
        if failed { throw ExitCode(1) }
    }

    static func parse(_ line: String, bindings: [String: Int64]) throws -> (String?, String, JSONValue?) {
        var rest = Substring(line)
        var name: String?
        if let eq = rest.range(of: " = ") {
            name = String(rest[..<eq.lowerBound]).trimmingCharacters(in: .whitespaces)
            rest = rest[eq.upperBound...]
        }
        let parts = rest.split(separator: " ", maxSplits: 1)
        guard let method = parts.first.map(String.init) else { throw ValidationError("no method") }
        guard parts.count == 2 else { return (name, method, nil) }
        var json = String(parts[1])
        for (k, v) in bindings.sorted(by: { $0.key.count > $1.key.count }) {
            json = json.replacingOccurrences(of: "$" + k, with: String(v))
        }
        return (name, method, try parseJSON(json, what: "params"))
    }
}

struct Watch: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show live events (finalizers, callbacks, frees, collections) as they happen.")
    @OptionGroup var options: GlobalOptions
    @Option(help: "Event kinds (default: all).") var events: [String] = []
    @Option(help: "Exit after this many events.") var count: Int?

    func run() throws {
        let kinds: [JSONValue] = events.isEmpty ? ["*"] : events.map { .string($0) }
        try options.follow(.array(kinds), banner: "watching", count: count) { method, params in
            if options.json {
                output(JSONCodec.encodeString(["method": .string(method), "params": params]))
            } else {
                output(Format.clock(Date()) + "  " + Self.describe(method, params))
            }
            return true
        }
    }

    static func describe(_ method: String, _ p: JSONValue) -> String {
        switch method {
        case "finalize": return "finalize  \(p["type"]?.stringValue ?? "?") \(Pretty.int(p["id"]))"
        case "weakref.callback":
            return "callback  weakref \(Pretty.int(p["weakref"])) (referent \(Pretty.int(p["referent"])) died)"
        case "freed":
            // A session closing may free thousands at once: the count, and the first ids.
            let ids = p["ids"]?.arrayValue ?? []
            let shown = ids.prefix(10).map { Pretty.int($0) }.joined(separator: ", ")
            return "freed     \(ids.count) object\(ids.count == 1 ? "" : "s"): \(shown)"
                + (ids.count > 10 ? ", … (+\(ids.count - 10))" : "")
        case "gc.start": return "gc.start  generation \(Pretty.int(p["generation"]))"
        case "gc.stop":
            return
                "gc.stop   generation \(Pretty.int(p["generation"])): collected \(Pretty.int(p["collected"])), "
                + "uncollectable \(Pretty.int(p["uncollectable"])), "
                + "\(Format.milliseconds(p["duration_ms"]?.doubleValue ?? 0))"
        case "session.closed": return "session   \(p["name"]?.stringValue ?? "?") closed"
        default: return "\(method) \(JSONCodec.encodeString(p))"
        }
    }
}
