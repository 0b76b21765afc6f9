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
        abstract: "Show live events (finalizers, callbacks, frees, collections) as they happen, and their cause.",
        discussion: """
            Each line: the time it arrived, the event, and in brackets its cause: the connection, \
            session and method of the request that made it happen ([#3 heapctl-alice: unref]), a \
            connection that closed ([#7 anonymous: disconnected]) or [lease expired]. When the \
            daemon goes away, watch says so, retries (0.1 s, doubling up to 2 s) and subscribes \
            again once it is back; events in between are missed. With --json: one {"time", "method", \
            "params"} object per line (params as sent, cause included); the lines about the \
            connection go to stderr.
            """)
    @OptionGroup var options: GlobalOptions
    @Option(help: "Event kinds (default: all).") var events: [String] = []
    @Option(help: "Exit after this many events.") var count: Int?
    @Flag(help: "Exit (status 3) when the daemon goes away instead of waiting for it to come back.")
    var noReconnect = false

    func run() throws {
        let kinds: [JSONValue] = events.isEmpty ? ["*"] : events.map { .string($0) }
        try options.follow(.array(kinds), banner: "watching", count: count, reconnect: !noReconnect) {
            method, params in
            if options.json {
                // When it arrived (seconds since 1970, to the millisecond), as the human line shows.
                let time = (Date().timeIntervalSince1970 * 1000).rounded() / 1000
                output(JSONCodec.encodeString(["time": .double(time), "method": .string(method), "params": params]))
            } else {
                let cause = params["cause"].map { "  [" + Self.describeCause($0) + "]" } ?? ""
                output(Format.clock(Date()) + "  " + Self.describe(method, params) + cause)
            }
            return true
        }
    }

    /// `#3 heapctl-alice: unref`, `#7 anonymous: disconnected`, `lease expired`: who made an
    /// event happen, as the notification's `cause` says (the connection numbers are monitor's).
    static func describeCause(_ cause: JSONValue) -> String {
        let who = "#\(Pretty.int(cause["connection"])) \(cause["session"]?.stringValue ?? "anonymous")"
        switch cause["kind"]?.stringValue {
        case "request": return "\(who): \(cause["method"]?.stringValue ?? "?")"
        case "disconnect": return "\(who): disconnected"
        case "lease": return "lease expired"
        default: return JSONCodec.encodeString(cause)
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
