import HeapCore
import JSONRPC

extension JSONObjectWriter {
    /// A root holder: `{kind, name?, session?}`. A session carries its id (as `session.list` and
    /// `inspect` show it) and its name, null when anonymous; a named root its name; the permanent
    /// generation and gc.garbage only their kind.
    public func set(_ key: String, holder h: RootHolder) {
        object(key) { o in
            o.set("kind", h.kind.name)
            if let session = h.session {
                o.set("name", h.name)
                o.set("session", Int64(session.raw))
            } else if let name = h.name {
                o.set("name", name)
            }
        }
    }
}
