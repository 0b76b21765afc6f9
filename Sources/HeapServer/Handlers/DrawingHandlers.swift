import HeapCore
import HeapProtocol

// Pictures of the heap (SPEC §5 `graph`). What to draw is taken inside the heap's lock (a value:
// the drawing); the DOT text is written and Graphviz runs after the lock is released.

extension GraphRequest: DeferredServerMethod {
    func prepare(_ server: inout ServerState, _ request: inout RequestContext) throws -> @Sendable () throws -> Result {
        let drawing = try server.heap.drawing(around: id, depth: depth, maxNodes: maxNodes)
        let format = self.format
        return {
            let dot = drawing.dot
            var text = dot
            if format == .svg {
                do throws(GraphvizRenderer.Failure) {
                    text = try GraphvizRenderer.render(dot, format: "svg")
                } catch {
                    throw ServerError.rendererUnavailable(error)
                }
            }
            return Result(
                format: format, text: text, nodes: drawing.nodes.count, edges: drawing.edges.count,
                truncated: drawing.truncated)
        }
    }
}
