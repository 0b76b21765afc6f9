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
        let c = try options.connect(anonymous: anonymous, shared: !anonymous)
        output(Pretty.json(try options.call(c, method, p)))
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
