import HeapCore
import JSONRPC

/// One object as `get` shows it (and `set` after changing it): `{id, type, size, data, fields,
/// refcount, finalizer}`, and for a weakref also `referent` (id or null) and `callback`.
public struct ObjectState: Sendable {
    public var object: ObjectSnapshot

    public init(_ object: ObjectSnapshot) { self.object = object }

    public func write(to o: JSONObjectWriter) {
        let s = object
        o.set("id", s.id)
        o.set("type", s.type)
        o.set("size", s.size)
        o.set("data", rawJSON: s.data)
        o.object("fields") { f in for field in s.fields { f.set(field.name, field.target) } }
        o.set("refcount", s.refcount)
        o.set("finalizer", s.finalizer)
        if s.isWeakref {
            o.set("referent", s.referent)
            o.set("callback", s.hasCallback)
        }
    }
}
