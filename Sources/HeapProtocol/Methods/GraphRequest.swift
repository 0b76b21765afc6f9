import HeapCore
import JSONRPC

/// `graph {id?, depth?, max_nodes?, format?}` → `{format, text, nodes, edges, truncated}`: a
/// Graphviz picture of the heap, objgraph style. With `id`: the object, its referents and its
/// referrers `depth` steps out each way (default 2, 0 to 1000; root holders count as referrers
/// of what they hold, weakref → referent edges are followed and drawn dashed). Without `id`: the
/// whole heap, breadth first from the root holders, then what they do not reach (`depth` is
/// not used). Nodes: objects (type, id, refcount; finalizer objects marked, cycle members
/// coloured), root holders (sessions, named roots, the permanent generation, gc.garbage; their
/// own shape), and "N more references"/"N more referrers" where `max_nodes` (default 200, 1 to
/// 10000, counting objects and holders) left neighbours out, which makes `truncated` true.
/// Edges: field names. `format` "dot" (default) answers the DOT text, "svg" the SVG that
/// Graphviz's `dot` makes of it; `nodes`/`edges` count what the DOT text draws. Never collects,
/// changes nothing. Errors: invalid params, no such object, renderer unavailable (-32014:
/// `dot` is not installed, failed or timed out).
public struct GraphRequest: HeapMethod {
    public static let name = "graph"

    public enum Format: String, Sendable {
        case dot, svg
    }

    public static let maxDepth = 1000
    public static let maxNodesLimit = 10_000

    public var id: ObjectID?
    public var depth: Int
    public var maxNodes: Int
    public var format: Format

    public init(id: ObjectID? = nil, depth: Int = 2, maxNodes: Int = 200, format: Format = .dot) {
        self.id = id
        self.depth = depth
        self.maxNodes = maxNodes
        self.format = format
    }

    public init(params p: ParamsReader) throws(RPCError) {
        id = try p.nullableObjectID("id")
        depth = try p.optionalInteger("depth", in: 0...Self.maxDepth) ?? 2
        maxNodes = try p.optionalInteger("max_nodes", in: 1...Self.maxNodesLimit) ?? 200
        let name = try p.optionalString("format")
        guard let f = Format(rawValue: name ?? "dot") else {
            throw .invalidParams("params.format: expected \"dot\" or \"svg\", got \"\(name!.prefix(40))\"")
        }
        format = f
    }

    public var params: JSONValue? {
        var members: [(String, JSONValue)] = [
            ("depth", .int(Int64(depth))), ("max_nodes", .int(Int64(maxNodes))), ("format", .string(format.rawValue)),
        ]
        if let id { members.append(("id", id.json)) }
        return .object(members)
    }

    public struct Result: HeapResult {
        public var format: Format
        /// The DOT text, or the SVG document.
        public var text: String
        public var nodes: Int
        public var edges: Int
        public var truncated: Bool

        public init(format: Format, text: String, nodes: Int, edges: Int, truncated: Bool) {
            self.format = format
            self.text = text
            self.nodes = nodes
            self.edges = edges
            self.truncated = truncated
        }

        public func write(to o: JSONObjectWriter) {
            o.set("format", format.rawValue)
            o.set("text", text)
            o.set("nodes", nodes)
            o.set("edges", edges)
            o.set("truncated", truncated)
        }
    }
}
