import HeapCore
import JSONRPC

/// `inspect {id}` → everything about one object: `get`'s members, `getrefcount` (refcount + 1,
/// what `sys.getrefcount` would print: its argument is one more reference), `holders` (fields of
/// which objects, sessions with counts, named roots, gc.garbage entries), `referrers`,
/// `referents`, `generation` (0-2 or "permanent"), `tracked`, `finalized`, `weakrefs`, and
/// `allocated` (`{site, session, session_name, time}`: where, by which session and in which
/// second, Unix time, it was allocated; null when not recorded).
public struct InspectRequest: HeapMethod {
    public static let name = "inspect"
    public var id: ObjectID

    public init(id: ObjectID) { self.id = id }
    public init(params p: ParamsReader) throws(RPCError) { id = try p.objectID("id") }
    public var params: JSONValue? { ["id": id.json] }

    public struct Result: HeapResult {
        public var inspection: ObjectInspection
        public init(_ inspection: ObjectInspection) { self.inspection = inspection }

        public func write(to o: JSONObjectWriter) {
            let i = inspection
            let s = i.object
            o.set("id", s.id)
            o.set("type", s.type)
            o.set("size", s.size)
            o.set("data", rawJSON: s.data)
            o.set("refcount", s.refcount)
            o.set("getrefcount", s.refcount + 1)
            o.object("holders") { h in
                h.array("fields") { a in
                    for holder in i.heldByFields {
                        a.appendObject {
                            $0.set("object", holder.object); $0.set("field", holder.field)
                        }
                    }
                }
                h.array("sessions") { a in
                    for holder in i.heldBySessions {
                        a.appendObject {
                            $0.set("session", Int64(holder.session.raw))
                            $0.set("name", holder.name)
                            $0.set("count", holder.count)
                        }
                    }
                }
                h.array("roots", strings: i.heldByRoots)
                h.set("garbage", i.heldByGarbage)
            }
            o.object("fields") { f in for field in s.fields { f.set(field.name, field.target) } }
            o.array("referrers", ids: i.referrers)
            o.array("referents", ids: i.referents)
            o.set("generation", generation: i.generation)
            o.set("tracked", i.tracked)
            o.set("finalizer", s.finalizer)
            o.set("finalized", i.finalized)
            o.array("weakrefs", ids: i.weakrefs)
            if let a = i.allocation {
                o.object("allocated") { m in
                    m.set("site", a.site)
                    m.set("session", Int64(a.session.raw))
                    m.set("session_name", a.sessionName)
                    m.set("time", Int64(a.time))
                }
            } else {
                o.setNull("allocated")
            }
            if s.isWeakref {
                o.set("referent", s.referent)
                o.set("callback", s.hasCallback)
            }
        }
    }
}
