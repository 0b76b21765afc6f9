import HeapCore
import JSONRPC

/// The notifications heapd sends to subscribers (`finalize` {id, type}, `weakref.callback`
/// {weakref, referent}, `gc.start` {generation}, `gc.stop` {generation, collected,
/// uncollectable, duration_ms}, `freed` {ids}, `session.closed` {name}), built from what the heap
/// reported, in the order it happened. A run of consecutive frees is one `freed` notification.
/// Each heap notification also carries its `cause` (``EventCause``).
public enum Notification {
    /// The notifications for `events` of the kinds in `wanted`, each encoded once.
    public static func encode(
        _ events: HeapEvents, wanted: Set<EventKind>, cause: EventCause
    ) -> [(EventKind, [UInt8])] {
        var out: [(EventKind, [UInt8])] = []
        for e in events.events {
            switch e {
            case .finalize(let id, let type) where wanted.contains(.finalize):
                out.append(
                    make(.finalize, cause) {
                        $0.set("id", id); $0.set("type", type)
                    })
            case .weakrefCallback(let w, let r) where wanted.contains(.weakrefCallback):
                out.append(
                    make(.weakrefCallback, cause) {
                        $0.set("weakref", w); $0.set("referent", r)
                    })
            case .gcStart(let g) where wanted.contains(.gcStart):
                out.append(make(.gcStart, cause) { $0.set("generation", g) })
            case .gcStop(let r) where wanted.contains(.gcStop):
                out.append(
                    make(.gcStop, cause) { p in
                        p.set("generation", r.generation)
                        p.set("collected", r.collected)
                        p.set("uncollectable", r.uncollectable)
                        p.set("duration_ms", r.durationMilliseconds)
                    })
            case .freed(let range) where wanted.contains(.freed):
                out.append(make(.freed, cause) { $0.array("ids", ids: events.freedIDs[range]) })
            default:
                break
            }
        }
        return out
    }

    /// `monitor {time, connection, session, method, params}`: one request as it runs. `time` is
    /// seconds since 1970; `session` the session's name (null: anonymous); `params` as sent.
    public static func monitor(
        time: Double, connection: UInt64, session: String?, method: String,
        params: [UInt8]?
    ) -> [UInt8] {
        make(.monitor) { p in
            p.set("time", time)
            p.set("connection", connection)
            p.set("session", session)
            p.set("method", method)
            if let params { p.set("params", rawJSON: params) }
        }.1
    }

    /// `session.closed {name, cause}`.
    public static func sessionClosed(_ name: String, cause: EventCause) -> [UInt8] {
        make(.sessionClosed, cause) { $0.set("name", name) }.1
    }

    private static func make(
        _ kind: EventKind, _ cause: EventCause? = nil, _ params: (JSONObjectWriter) -> Void
    ) -> (EventKind, [UInt8]) {
        let document = JSONDocument(object: { o in
            o.set("jsonrpc", RPCEnvelope.version)
            o.set("method", kind.rawValue)
            o.object("params") { p in
                params(p)
                cause?.write(into: p)
            }
        })
        return (kind, document.bytes())
    }
}
