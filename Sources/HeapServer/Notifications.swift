import HeapCore
import JSONRPC

/// Turns what the heap reported into JSON-RPC notifications (`finalize`, `weakref.callback`,
/// `gc.start`, `gc.stop`, `freed`), in the order it happened. A run of consecutive frees becomes
/// one `freed` notification.
enum Notifications {
    static func make(from events: HeapEvents, wanted: Set<EventKind>) -> [(EventKind, JSONValue)] {
        var out: [(EventKind, JSONValue)] = []
        for e in events.events {
            switch e {
            case .finalize(let id, let type) where wanted.contains(.finalize):
                out.append((.finalize, note("finalize", ["id": id.json, "type": .string(type)])))
            case .weakrefCallback(let w, let r) where wanted.contains(.weakrefCallback):
                out.append((.weakrefCallback, note("weakref.callback", ["weakref": w.json, "referent": r.json])))
            case .gcStart(let g) where wanted.contains(.gcStart):
                out.append((.gcStart, note("gc.start", ["generation": .int(Int64(g))])))
            case .gcStop(let r) where wanted.contains(.gcStop):
                out.append((.gcStop, note("gc.stop", [
                    "generation": .int(Int64(r.generation)), "collected": .int(Int64(r.collected)),
                    "uncollectable": .int(Int64(r.uncollectable)), "duration_ms": .double(r.durationMilliseconds),
                ])))
            case .freed(let range) where wanted.contains(.freed):
                out.append((.freed, note("freed", ["ids": .array(events.freedIDs[range].map(\.json))])))
            default:
                break
            }
        }
        return out
    }

    static func sessionClosed(_ name: String) -> JSONValue {
        note("session.closed", ["name": .string(name)])
    }

    static func note(_ method: String, _ params: JSONValue) -> JSONValue {
        RPCEnvelope.notification(method: method, params: params)
    }
}

extension ObjectID {
    var json: JSONValue { .int(Int64(raw)) }
}

extension CollectResult {
    /// Milliseconds rounded to 1/1024 ms: a binary fraction prints exactly and briefly under
    /// Jansson's 17-digit real format (0.228515625, not 0.22900000000000001).
    var durationMilliseconds: Double { Double.binaryRounded(Double(durationNanoseconds) / 1e6) }
}

extension Double {
    /// `x` rounded to a multiple of 1/1024, which Jansson prints without a 17-digit tail.
    static func binaryRounded(_ x: Double) -> Double { (x * 1024).rounded() / 1024 }
}
