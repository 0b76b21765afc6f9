import ArgumentParser
import Foundation
import HeapClient
import HeapProtocol
import JSONRPC

/// Replays the classic examples of Python's memory model against the daemon, narrating.
/// With `--json`, one JSON line per step (``TourLog``), so the tour can be replayed or checked
/// by a program: the narration is the point of a tour, and each step is a request, its result,
/// its events and the explanation, which JSON carries without loss.
struct Tour: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "A guided tour: getrefcount, del, the Person partner cycle and gc.collect.",
        discussion: """
            With --json: one JSON object per line and step: {"section", "python", "request": \
            {"method", "params"}, "result", "events": [{"method", "params"}], "explanation"}.
            """)
    @OptionGroup var options: GlobalOptions

    func run() throws {
        var tour = options
        tour.session = "heapctl-tour-\(getpid())"
        let c = try tour.connect()
        _ = try tour.call(c, SubscribeRequest.name, ["events": ["finalize", "freed", "gc.stop", "weakref.callback"]])
        let log = TourLog(json: options.json)
        func step(_ python: String, _ method: String, _ params: JSONValue?) throws -> JSONValue {
            let r = try tour.call(c, method, params)
            log.step(python, method, params, r, c.takeNotifications())
            return r
        }
        func refcount(_ id: JSONValue) throws -> String {
            let r = try tour.call(c, InspectRequest.name, ["id": id])
            return
                "refcount \(Pretty.int(r["refcount"])) (sys.getrefcount(x) would print \(Pretty.int(r["getrefcount"])))"
        }

        log.section("1. A list and sys.getrefcount")
        let list = try step("x = []", "allocate", ["type": "list"])["id"]!
        log.explain(try refcount(list))
        _ = try step("y = x", "ref", ["id": list])
        log.explain(try refcount(list))
        _ = try step("del y", "unref", ["id": list])
        log.explain(try refcount(list))
        let gone = try step("del x", "unref", ["id": list])
        log.explain("refcount \(Pretty.int(gone["refcount"])): freed at once, no collector needed")

        log.section("2. The Person partner cycle")
        let alice = try step("alice = Person('Alice')", "allocate", ["type": "Person", "data": ["name": "Alice"]])[
            "id"]!
        let bob = try step(
            "bob = Person('Bob')  # class Person has __del__", "allocate",
            ["type": "Person", "data": ["name": "Bob"], "finalizer": true])["id"]!
        _ = try step("alice.partner = bob", "set", ["id": alice, "fields": ["partner": bob]])
        _ = try step("bob.partner = alice", "set", ["id": bob, "fields": ["partner": alice]])
        log.explain("alice: " + (try refcount(alice)))
        log.explain("bob:   " + (try refcount(bob)))
        _ = try step("del alice", "unref", ["id": alice])
        _ = try step("del bob", "unref", ["id": bob])
        log.explain("both still alive: each holds the other (refcount 1), unreachable from any variable")
        let r = try step("gc.collect()", "collect", ["generation": 2])
        log.explain("\(Pretty.int(r["unreachable"])) unreachable objects found and freed; Bob's __del__ ran first")

        log.section("3. A weak reference with a callback")
        let obj = try step("obj = Node()", "allocate", ["type": "Node"])["id"]!
        _ = try step("w = weakref.ref(obj, callback)", "weakref", ["id": obj, "callback": true])
        _ = try step("del obj", "unref", ["id": obj])
        log.explain("the callback fired and w() now returns None")
        log.finish()
        _ = try tour.call(c, SessionCloseRequest.name, [:])
    }
}
