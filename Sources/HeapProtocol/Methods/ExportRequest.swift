import JSONRPC

/// `export {format: "heapsnapshot", path?}`: the heap as a V8 `.heapsnapshot` (what Chrome
/// DevTools' Memory panel and Node load). Node 0 is a synthetic root with an `element` edge to a
/// synthetic node per root holder (`(session NAME)`, `(session #ID)` for an anonymous one,
/// `(root NAME)`, `(permanent generation)`, `(gc.garbage)`), each with an edge to every object it
/// holds (a named root's is a `property` edge named by the root; the others' are elements). Each
/// live object, garbage included, is one node of type `object`: `name` its type, `id`
/// `2 * heapd id + 1` (odd, as V8's JS objects; the synthetic nodes take even ids), `self_size`
/// its size. Each field is a `property` edge named by the field; a weakref's referent is one
/// `weak` edge named `referent`. Never collects, never changes the heap.
///
/// With an absolute `path`, the daemon (running as the socket's owner) writes the file
/// (a temporary file beside it, fsynced, renamed over `path`; mode 0600) and answers
/// `{path, bytes, nodes, edges}`. Without, `{snapshot: <the file's JSON object>}` for snapshots
/// up to ``inlineLimit`` bytes. Errors: -32602 for a bad `format` or `path`, for a snapshot too
/// large to answer inline (`data.limit`), and for a file that cannot be written (the message
/// names the path and the reason; `data` `{path, errno}`).
public struct ExportRequest: HeapMethod {
    public static let name = "export"
    /// Largest snapshot text answered inline: the reply is parsed into a JSON tree that costs
    /// about ten times the text, so past this a file is the way (`path`).
    public static let inlineLimit = 4 << 20

    public var path: String?

    public init(path: String? = nil) { self.path = path }

    public init(params p: ParamsReader) throws(RPCError) {
        let format = try p.string("format")
        guard format == "heapsnapshot" else {
            throw .invalidParams("params.format: expected \"heapsnapshot\", got \"\(format.prefix(40))\"")
        }
        path = try p.optionalString("path")
        if let path {
            guard path.hasPrefix("/") else {
                throw .invalidParams("params.path: must be an absolute path, got \"\(path.prefix(40))\"")
            }
            guard !path.utf8.contains(0) else { throw .invalidParams("params.path: must not contain NUL") }
        }
    }

    public var params: JSONValue? {
        var members: [(String, JSONValue)] = [("format", "heapsnapshot")]
        if let path { members.append(("path", .string(path))) }
        return .object(members)
    }

    public enum Result: HeapResult {
        /// The snapshot's text (a JSON object), answered as `{snapshot: ...}`.
        case inline([UInt8])
        case file(path: String, bytes: Int, nodes: Int, edges: Int)

        public func write(to o: JSONObjectWriter) {
            switch self {
            case .inline(let text): o.set("snapshot", rawJSON: text)
            case .file(let path, let bytes, let nodes, let edges):
                o.set("path", path)
                o.set("bytes", bytes)
                o.set("nodes", nodes)
                o.set("edges", edges)
            }
        }
    }
}
